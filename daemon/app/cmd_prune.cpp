// `linkpilot prune [--dry-run] [--json]` (SPEC 1 and 6): one pruning sweep now.
//
// Dry run (`--dry-run` or `scalingo.dry_run`): lists the review apps and prints what a real
// sweep would delete and why; it opens no state store and makes no mutating call (the client
// calls also go through the dry-run wrapper, as a second guard).
//
// Real run: the sweep stores its deletions as delete_review_app jobs in the state store (the
// same queue `serve` runs), then runs the queue in-process until those jobs have finished, so
// `linkpilot prune` deletes even when no daemon runs. While it does, other jobs that are due
// run too, exactly as `serve` would run them; a daemon running next to it shares the work
// through the store (a job is claimed once, one job per app at a time). A deletion still
// backing off after kMaxWait is left queued for the daemon and shown as such.
//
// Another process sweeping the same state (`serve`, or a second `prune`) holds the sweep
// lock: this one does not sweep, prints who holds it and exits 0.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/iso_time.hpp"
#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/app/logging.hpp"
#include "daemon/app/open_state.hpp"
#include "daemon/jobs/executor.hpp"
#include "daemon/pruner/sweeper.hpp"
#include "daemon/scalingo/client.hpp"
#include "daemon/store/group_commit.hpp"

namespace linkpilot::app {

namespace {

namespace net = boost::asio;
namespace json = boost::json;
using pruner::Decision;
using pruner::SweepReport;

// How long a real run waits for its deletions (retries included) before leaving the rest
// queued for the daemon.
constexpr std::chrono::seconds kMaxWait{60};
constexpr std::chrono::milliseconds kIdlePoll{200};

// "3d4h", "5h12m", "7m", "0m": how long ago, for the table.
std::string age(std::chrono::system_clock::duration d) {
    using std::chrono::duration_cast;
    const auto m = std::max<std::int64_t>(duration_cast<std::chrono::minutes>(d).count(), 0);
    const auto days = m / (24 * 60);
    const auto h = (m / 60) % 24;
    if (days > 0) {
        return h > 0 ? fmt::format("{}d{}h", days, h) : fmt::format("{}d", days);
    }
    if (m >= 60) {
        return m % 60 > 0 ? fmt::format("{}h{}m", m / 60, m % 60) : fmt::format("{}h", m / 60);
    }
    return fmt::format("{}m", m);
}

std::string reason_text(const Decision& d) {
    std::string out(pruner::to_string(d.reason));
    if (d.candidate_for) {
        out += fmt::format(" (otherwise {})", pruner::to_string(*d.candidate_for));
    }
    return out;
}

// The finished state of the deletion jobs, by job id.
using JobStates = std::map<std::int64_t, store::Job>;

std::string action_text(const Decision& d, bool dry_run, std::optional<std::int64_t> job_id,
                        const JobStates& jobs) {
    if (!d.remove) {
        return "keep";
    }
    if (dry_run) {
        return "would delete";
    }
    if (!job_id) {
        return "not queued";
    }
    const auto it = jobs.find(*job_id);
    if (it == jobs.end()) {
        return fmt::format("queued (job {})", *job_id);
    }
    const auto& j = it->second;
    if (j.state == store::kStateDone) {
        const auto note = j.note.value_or("");
        return note.starts_with("deleted ") ? "deleted" : "done: " + note;
    }
    if (j.state == store::kStateFailed) {
        return "failed: " + j.last_error.value_or("?");
    }
    return fmt::format("{} (job {}, left to the daemon{})", j.state, j.id,
                       j.last_error ? ": " + *j.last_error : "");
}

std::optional<std::int64_t> job_of(const pruner::AppSweep& a, const Decision& d) {
    std::size_t k = 0;
    for (const auto& x : a.plan.decisions) {
        if (!x.remove) {
            continue;
        }
        if (&x == &d) {
            return k < a.job_ids.size() ? std::optional(a.job_ids[k]) : std::nullopt;
        }
        ++k;
    }
    return std::nullopt;
}

void print_table(const SweepReport& r, const JobStates& jobs) {
    using Row = std::array<std::string, 7>;
    std::vector<Row> rows;
    rows.push_back({"APP", "REVIEW APP", "PR", "LAST ACTIVITY (UTC)", "AGE", "REASON", "ACTION"});
    for (const auto& a : r.apps) {
        if (a.error) {
            rows.push_back({a.app, "-", "-", "-", "-", "error: " + *a.error, "nothing deleted"});
            continue;
        }
        if (a.plan.decisions.empty()) {
            rows.push_back({a.app, "-", "-", "-", "-", "no review apps", "-"});
        }
        for (const auto& d : a.plan.decisions) {
            rows.push_back({a.app, d.app_name.empty() ? "?" : d.app_name,
                            d.pr_number ? fmt::format("#{}", *d.pr_number) : "-",
                            d.activity_at ? iso_time(*d.activity_at) : "-",
                            d.activity_at ? age(r.started_at - *d.activity_at) : "-",
                            reason_text(d), action_text(d, r.dry_run, job_of(a, d), jobs)});
        }
    }
    std::array<std::size_t, 7> width{};
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c) {
            width[c] = std::max(width[c], row[c].size());
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += c + 1 == row.size() ? row[c] : fmt::format("{:<{}}  ", row[c], width[c]);
        }
        std::cout << line << "\n";
    }
    const auto n = r.deletions();
    std::cout << (r.dry_run ? fmt::format("dry run: {} review app(s) would be deleted\n", n)
                            : fmt::format("{} review app(s) queued for deletion\n", n));
}

json::value job_json(std::optional<std::int64_t> id, const JobStates& jobs) {
    if (!id) {
        return nullptr;
    }
    json::object o{{"id", *id}};
    if (const auto it = jobs.find(*id); it != jobs.end()) {
        o["state"] = it->second.state;
        o["note"] = it->second.note ? json::value(*it->second.note) : json::value(nullptr);
        o["last_error"] =
            it->second.last_error ? json::value(*it->second.last_error) : json::value(nullptr);
    }
    return o;
}

void print_json(const SweepReport& r, const JobStates& jobs) {
    json::array apps;
    for (const auto& a : r.apps) {
        json::array ras;
        for (const auto& d : a.plan.decisions) {
            json::object o;
            o["name"] = d.app_name;
            o["parent"] = d.parent_app_name;
            o["pr"] = d.pr_number ? json::value(*d.pr_number) : json::value(nullptr);
            o["last_activity_at"] = d.activity_at ? json::value(iso_time(*d.activity_at)) : nullptr;
            o["age_seconds"] = d.activity_at
                                   ? json::value(std::chrono::duration_cast<std::chrono::seconds>(
                                                     r.started_at - *d.activity_at)
                                                     .count())
                                   : nullptr;
            o["closed_at"] = d.closed_at ? json::value(iso_time(*d.closed_at)) : nullptr;
            o["reason"] = pruner::to_string(d.reason);
            o["candidate_for"] =
                d.candidate_for ? json::value(pruner::to_string(*d.candidate_for)) : nullptr;
            o["action"] = d.remove ? (r.dry_run ? "would_delete" : "delete") : "keep";
            o["job"] = r.dry_run ? json::value(nullptr) : job_json(job_of(a, d), jobs);
            ras.push_back(std::move(o));
        }
        apps.push_back(json::object{
            {"app", a.app},
            {"error", a.error ? json::value(*a.error) : json::value(nullptr)},
            {"delivery", a.delivery_id.empty() ? json::value(nullptr) : json::value(a.delivery_id)},
            {"review_apps", std::move(ras)}});
    }
    const json::object out{{"dry_run", r.dry_run},
                           {"swept", true},
                           {"started_at", iso_time(r.started_at)},
                           {"duration_seconds", std::chrono::duration<double>(r.took).count()},
                           {"deletions", r.deletions()},
                           {"apps", std::move(apps)}};
    std::cout << json::serialize(out) << "\n";
}

// Runs the queue until the given jobs are done or failed, or kMaxWait has passed.
net::awaitable<JobStates> run_deletions(jobs::Executor& executor, store::GroupCommitter& committer,
                                        std::vector<std::int64_t> ids, const Clock& clock) {
    JobStates states;
    net::steady_timer pause(co_await net::this_coro::executor);
    const auto give_up = clock.steady_now() + kMaxWait;
    for (;;) {
        const auto started = co_await executor.poll();
        co_await executor.wait_idle();
        auto read = committer.run([ids](store::Store& s) -> store::Result<JobStates> {
            JobStates out;
            for (const auto id : ids) {
                auto j = s.get_job(id);
                if (!j) {
                    return Unexpected{j.error()};
                }
                if (*j) {
                    out.emplace(id, std::move(**j));
                }
            }
            return out;
        });
        auto got = co_await std::move(read);
        if (got) {
            states = std::move(*got);
        }
        const bool settled = got && std::all_of(states.begin(), states.end(), [](const auto& kv) {
                                 return kv.second.state == store::kStateDone ||
                                        kv.second.state == store::kStateFailed;
                             });
        if (settled || clock.steady_now() >= give_up) {
            co_return states;
        }
        if (started == 0) {
            // Backing off, or behind another job of the same app (maybe the daemon's).
            pause.expires_after(kIdlePoll);
            co_await pause.async_wait(net::as_tuple(net::use_awaitable));
        }
    }
}

}  // namespace

int run_prune(const PruneOptions& o) {
    // The sweep calls Scalingo: its token, but no webhook secret.
    auto loaded = load_command_config(o.config, "prune", config::kNeedsScalingoToken);
    if (!loaded) {
        return kExitError;
    }
    const std::string& path = loaded->path;
    const config::Config& cfg = loaded->config;
    if (!cfg.prune) {
        std::cerr << "linkpilot: prune: " << path << " has no prune: section\n";
        return kExitError;
    }
    const bool dry_run = o.dry_run || cfg.scalingo.dry_run;
    auto log = make_logger("linkpilot", cfg.log.format);
    SystemClock clock;
    net::io_context ioc(1);

    auto scalingo_cfg = cfg.scalingo;
    scalingo_cfg.dry_run = scalingo_cfg.dry_run || dry_run;  // a second guard for --dry-run
    auto client = scalingo::make_api(scalingo_cfg, clock, ioc.get_executor(), log);
    if (!client) {
        std::cerr << "linkpilot: prune: scalingo: " << client.error() << "\n";
        return kExitError;
    }

    std::unique_ptr<store::GroupCommitter> committer;
    if (!dry_run) {
        auto opened = open_store(cfg.state);
        if (!opened) {
            std::cerr << "linkpilot: prune: cannot open the state store "
                      << describe_state(cfg.state) << ": " << opened.error().message << "\n";
            return kExitError;
        }
        committer = std::make_unique<store::GroupCommitter>(std::move(*opened), clock);
    }

    pruner::Metrics metrics;
    pruner::Sweeper sweeper(client->api(), committer.get(), clock, metrics, log);
    std::unique_ptr<jobs::Executor> executor;
    if (committer) {
        executor = std::make_unique<jobs::Executor>(
            *committer, client->api(), clock,
            jobs::executor_options_from(cfg, std::random_device{}()), log, ioc.get_executor());
    }

    SweepReport report;
    JobStates job_states;
    bool crashed = false;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            report = co_await sweeper.sweep(*cfg.prune, dry_run);
            std::vector<std::int64_t> ids;
            for (const auto& a : report.apps) {
                ids.insert(ids.end(), a.job_ids.begin(), a.job_ids.end());
            }
            if (executor && !ids.empty()) {
                job_states = co_await run_deletions(*executor, *committer, ids, clock);
            }
        },
        [&](const std::exception_ptr& e) { crashed = e != nullptr; });
    ioc.run();
    if (committer) {
        committer->stop();
    }
    if (crashed) {
        std::cerr << "linkpilot: prune: the sweep stopped on an internal error\n";
        return kExitError;
    }

    if (report.skipped && report.held_by.empty()) {
        std::cerr << "linkpilot: prune: not swept: cannot take the sweep lock: "
                  << report.lock_error << "\n";
        return kExitError;
    }
    if (report.skipped) {
        // Not a failure: the holder is sweeping, which is what was asked for.
        const auto line = "not swept: the sweep lock is held by " + report.held_by;
        if (o.json) {
            std::cout << json::serialize(json::object{{"dry_run", false},
                                                      {"swept", false},
                                                      {"reason", line},
                                                      {"held_by", report.held_by},
                                                      {"deletions", 0},
                                                      {"apps", json::array{}}})
                      << "\n";
        } else {
            std::cout << "linkpilot: prune: " << line << "\n";
        }
        return kExitOk;
    }
    if (o.json) {
        print_json(report, job_states);
    } else {
        print_table(report, job_states);
    }
    const bool jobs_failed = std::any_of(job_states.begin(), job_states.end(), [](const auto& kv) {
        return kv.second.state == store::kStateFailed;
    });
    if (!report.ok()) {
        std::cerr << "linkpilot: prune: some apps could not be swept (see above)\n";
    }
    return report.ok() && !jobs_failed ? kExitOk : kExitError;
}

}  // namespace linkpilot::app
