#include "daemon/pruner/sweeper.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <utility>

#include "common/iso_time.hpp"
#include "daemon/jobs/job_args.hpp"

namespace linkpilot::pruner {

namespace net = boost::asio;
namespace json = boost::json;
using net::awaitable;

namespace {

std::string iso(std::optional<TimePoint> t) { return t ? iso_time(*t) : "-"; }

std::string describe(const Decision& d) {
    std::string why(to_string(d.reason));
    if (d.candidate_for) {
        why += fmt::format(" (otherwise {})", to_string(*d.candidate_for));
    }
    return why;
}

// What the synthetic delivery records: the sweep's choice for this app, for `explain`-like
// forensics in the store.
std::string plan_json(const Plan& plan) {
    json::array deletions;
    for (const auto& d : plan.decisions) {
        if (d.remove) {
            deletions.push_back(json::object{{"review_app", d.app_name},
                                             {"reason", to_string(d.reason)},
                                             {"activity_at", iso(d.activity_at)}});
        }
    }
    return json::serialize(json::object{{"app", plan.parent}, {"deletions", deletions}});
}

}  // namespace

bool SweepReport::ok() const {
    return std::all_of(apps.begin(), apps.end(), [](const auto& a) { return !a.error; });
}

std::size_t SweepReport::deletions() const {
    std::size_t n = 0;
    for (const auto& a : apps) {
        n += a.error ? 0 : a.plan.deletions();
    }
    return n;
}

Sweeper::Sweeper(scalingo::Api& api, store::GroupCommitter* committer, const Clock& clock,
                 Metrics& metrics, std::shared_ptr<spdlog::logger> log)
    : api_(api), committer_(committer), clock_(clock), metrics_(metrics), log_(std::move(log)) {
    if (!log_) {
        log_ = std::make_shared<spdlog::logger>("prune");  // no sinks: silent
    }
}

awaitable<SweepReport> Sweeper::sweep(const config::Prune& cfg, bool dry_run,
                                      std::string_view command) {
    SweepReport report;
    report.dry_run = dry_run || committer_ == nullptr;
    report.started_at = clock_.now();
    const auto t0 = clock_.steady_now();
    // Processes sharing the state (replicas on PostgreSQL, `prune` next to `serve` on one
    // SQLite file): one sweeps at a time (the store's sweep lock), or two would list the same
    // stale apps and queue their deletions twice. The other one skips: the holder's sweep is
    // the one this would have been.
    const bool locking = !report.dry_run;
    if (locking) {
        auto lock_op =
            committer_->run([me = store::this_process(std::string{command}, report.started_at)](
                                store::Store& s) { return s.try_lock_sweep(me); });
        auto lock = co_await std::move(lock_op);
        if (!lock || !lock->taken) {
            report.skipped = true;
            if (lock) {
                report.held_by = lock->holder;
                log_->info("prune: not swept: the sweep lock is held by {}", report.held_by);
            } else {
                report.lock_error = lock.error().message;
                log_->error("prune: not swept: cannot take the sweep lock: {}", report.lock_error);
            }
            co_return report;
        }
    }
    std::size_t budget = cfg.max_deletions_per_sweep;
    for (const auto& app : cfg.apps) {
        AppSweep out;
        out.app = app;
        co_await sweep_app(cfg, app, report.dry_run, budget, out);
        report.apps.push_back(std::move(out));
    }
    if (locking) {
        auto unlock_op = committer_->run([](store::Store& s) { return s.unlock_sweep(); });
        if (auto r = co_await std::move(unlock_op); !r) {
            log_->warn("prune: releasing the sweep lock: {}", r.error().message);
        }
    }
    report.took = clock_.steady_now() - t0;
    metrics_.sweep_finished(report.started_at, report.took, report.ok());
    log_->info("prune: sweep {}: {} review app(s) {} in {} app(s){}",
               report.dry_run ? "(dry run)" : "done", report.deletions(),
               report.dry_run ? "would be deleted" : "queued for deletion", report.apps.size(),
               report.ok() ? "" : "; some apps were skipped after errors");
    co_return report;
}

awaitable<std::vector<std::string>> Sweeper::queued_deletions(const std::string& app) {
    std::vector<std::string> names;
    if (committer_ == nullptr) {
        co_return names;
    }
    // Deletions still waiting from an earlier sweep (or a rule) are not chosen twice: they
    // would spend this sweep's budget on apps already on their way out.
    auto op = committer_->run([app](store::Store& s) -> store::Result<std::vector<store::Job>> {
        std::vector<store::Job> out;
        for (const auto state : {store::kStatePending, store::kStateRunning}) {
            auto jobs = s.list_jobs({.state = std::string(state), .app = app});
            if (!jobs) {
                return Unexpected{jobs.error()};
            }
            for (auto& j : *jobs) {
                if (j.action == store::kActionDeleteReviewApp) {
                    out.push_back(std::move(j));
                }
            }
        }
        return out;
    });
    auto jobs = co_await std::move(op);
    if (!jobs) {
        log_->warn("prune: {}: cannot read queued deletions: {}", app, jobs.error().message);
        co_return names;
    }
    for (const auto& j : *jobs) {
        auto args = jobs::parse_args(j.args_json);
        if (!args) {
            continue;
        }
        if (args->review_app) {
            names.push_back(*args->review_app);
        } else if (args->pr_number) {
            names.push_back(scalingo::review_app_name(app, *args->pr_number));
        }
    }
    co_return names;
}

awaitable<void> Sweeper::sweep_app(const config::Prune& cfg, const std::string& app, bool dry_run,
                                   std::size_t& budget, AppSweep& out) {
    auto list_op = api_.review_apps(app);
    auto listing = co_await std::move(list_op);
    if (!listing) {
        metrics_.listing_failed();
        out.error = "listing review apps failed: " + listing.error().message;
        log_->error("prune: {}: {}; nothing deleted for this app in this sweep", app, *out.error);
        co_return;
    }
    const auto queued = co_await queued_deletions(app);
    const auto now = clock_.now();
    out.plan = select(cfg, app, *listing, now, budget, queued);
    budget -= std::min(budget, out.plan.deletions());

    for (const auto& d : out.plan.decisions) {
        const auto pr = d.pr_number ? fmt::format("#{}", *d.pr_number) : std::string("-");
        if (d.remove) {
            log_->info("prune: {}: {} (PR {}, last activity {}, closed {}): {} -> {}", app,
                       d.app_name, pr, iso(d.activity_at), iso(d.closed_at), describe(d),
                       dry_run ? "would delete (dry run)" : "delete");
        } else {
            log_->info("prune: {}: {} (PR {}, last activity {}): keep: {}", app, d.app_name, pr,
                       iso(d.activity_at), describe(d));
        }
    }
    const bool enqueue = !dry_run && out.plan.deletions() > 0;
    if (enqueue) {
        store::NewDelivery delivery;
        delivery.id = fmt::format(
            "prune-{}-{}", app,
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
        delivery.provider = std::string(kProvider);
        delivery.event = std::string(kEvent);
        delivery.received_at = now;
        delivery.status = "queued";
        delivery.payload = plan_json(out.plan);
        delivery.event_json = delivery.payload;
        delivery.verdicts_json = "[]";
        std::vector<store::NewJob> jobs;
        for (const auto& d : out.plan.decisions) {
            if (!d.remove) {
                continue;
            }
            store::NewJob job;
            job.rule = std::string(kRule);
            job.action = std::string(store::kActionDeleteReviewApp);
            job.app = app;  // the parent: serialised with the parent's review_app jobs
            jobs::JobArgs args;
            args.pr_number = d.pr_number;
            args.review_app = d.app_name;
            args.activity_at = d.activity_at;
            job.args_json = jobs::serialize_args(args);
            jobs.push_back(std::move(job));
        }
        auto accept_op = committer_->accept(delivery, std::move(jobs));
        auto accepted = co_await std::move(accept_op);
        if (!accepted || accepted->duplicate) {
            out.error = accepted ? "delivery " + delivery.id + " already stored"
                                 : "storing the deletion jobs failed: " + accepted.error().message;
            log_->error("prune: {}: {}; nothing deleted for this app in this sweep", app,
                        *out.error);
        } else {
            out.delivery_id = delivery.id;
            out.job_ids = accepted->job_ids;
            log_->info("prune: {}: {} deletion job(s) queued (delivery {})", app,
                       out.job_ids.size(), out.delivery_id);
        }
    }
    if (!out.error) {
        for (const auto& d : out.plan.decisions) {
            metrics_.count(d, enqueue);
        }
    }
}

SweepLoop::SweepLoop(Sweeper& sweeper, ConfigSource config, std::function<void()> after_enqueue,
                     const net::any_io_executor& io)
    : sweeper_(sweeper),
      config_(std::move(config)),
      after_enqueue_(std::move(after_enqueue)),
      timer_(io) {}

awaitable<void> SweepLoop::run() {
    while (!stopping_) {
        const auto cfg = config_();
        auto every = std::chrono::milliseconds(std::chrono::minutes(15));
        if (cfg && cfg->prune) {
            every = cfg->prune->every;
            auto report =
                co_await sweeper_.sweep(*cfg->prune, cfg->scalingo.dry_run || stopping_, "serve");
            if (!report.dry_run && report.deletions() > 0 && after_enqueue_) {
                after_enqueue_();
            }
        }
        if (stopping_) {
            break;
        }
        timer_.expires_after(every);
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    }
}

void SweepLoop::stop() {
    stopping_ = true;
    timer_.cancel();
}

}  // namespace linkpilot::pruner
