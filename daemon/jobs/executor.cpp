#include "daemon/jobs/executor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <iterator>
#include <utility>

#include "common/iso_time.hpp"
#include "daemon/jobs/freeze.hpp"
#include "daemon/jobs/job_args.hpp"

namespace linkpilot::jobs {

namespace net = boost::asio;
using net::awaitable;
using net::use_awaitable;

namespace {

constexpr auto kAwaitTuple = net::as_tuple(use_awaitable);

// How every log line names a job: its id, what it does, and the delivery it came from.
std::string job_label(const store::Job& job) {
    return fmt::format("job {} {} {} (delivery {})", job.id, job.action, job.app, job.delivery_id);
}

scalingo::CallError bad_job(std::string message) {
    scalingo::CallError e;
    e.kind = scalingo::ErrorKind::fatal;
    e.message = std::move(message);
    return e;
}

std::string error_text(const scalingo::CallError& e) {
    if (!e.message.empty()) {
        return e.message;
    }
    return e.status == 0 ? std::string("no answer from Scalingo")
                         : fmt::format("HTTP {} from Scalingo", e.status);
}

// On the store's thread: every freeze-deferred job against `windows` at `now` (see
// Executor::recheck_deferred).
store::Result<DeferralCheck> recheck_in_store(store::Store& s,
                                              const std::vector<config::FreezeWindow>& windows,
                                              store::TimePoint now) {
    store::JobFilter filter;
    filter.state = std::string{store::kStatePending};
    filter.freeze_deferred_only = true;
    auto jobs = s.list_jobs(filter);
    if (!jobs) {
        return Unexpected{jobs.error()};
    }
    DeferralCheck out;
    for (const auto& j : *jobs) {
        const auto action = action_from_string(j.action);
        const auto hit = action ? active_window(windows, *action, now) : std::nullopt;
        auto until = now;
        std::string note;
        if (hit && hit->mode == config::FreezeMode::defer) {
            if (hit->end == j.next_attempt_at) {
                continue;  // the window that deferred it (or one ending with it) still holds it
            }
            until = hit->end;
            note = deferral_note(*hit);
        } else if (hit) {
            // A `skip` window holds it now: the executor drops it with its note when it runs.
            note = fmt::format("released at {}: freeze window {} now skips it", iso_time(now),
                               hit->description);
        } else if (j.next_attempt_at <= now) {
            continue;  // its window has ended: due already
        } else {
            note = fmt::format("released at {}: no freeze window holds it any more", iso_time(now));
        }
        auto r = s.redefer(j.id, until, note, now);
        if (!r) {
            if (r.error().kind == store::StoreError::Kind::not_found ||
                r.error().kind == store::StoreError::Kind::invalid_state) {
                continue;  // claimed, run now or cancelled meanwhile (another replica, the CLI)
            }
            return Unexpected{r.error()};
        }
        ++(until > now ? out.moved : out.released);
    }
    return out;
}

}  // namespace

ExecutorOptions executor_options_from(const config::Config& cfg, std::uint64_t seed) {
    ExecutorOptions o;
    o.max_concurrency = cfg.jobs.max_concurrency;
    o.retry = scalingo::retry_policy_from(cfg.scalingo.retry);
    o.freeze = cfg.freeze;
    o.seed = seed;
    return o;
}

Executor::Executor(store::GroupCommitter& committer, scalingo::Api& api, const Clock& clock,
                   ExecutorOptions options, std::shared_ptr<spdlog::logger> log,
                   const net::any_io_executor& io)
    : committer_(committer),
      api_(api),
      clock_(clock),
      options_(std::move(options)),
      log_(std::move(log)),
      strand_(net::make_strand(io)),
      wakeup_(strand_),
      idle_(strand_),
      rng_(options_.seed) {
    if (!log_) {
        log_ = std::make_shared<spdlog::logger>("jobs");  // no sinks: silent
    }
}

Executor::~Executor() = default;

awaitable<std::size_t> Executor::poll() { return net::co_spawn(strand_, do_poll(), use_awaitable); }

awaitable<std::int64_t> Executor::recover() {
    return net::co_spawn(strand_, do_recover(), use_awaitable);
}

awaitable<std::int64_t> Executor::do_recover() {
    const auto now = clock_.now();
    auto op = committer_.run([now](store::Store& s) { return s.recover_running(now); });
    auto recovered = co_await std::move(op);
    if (!recovered) {
        log_->error("jobs: cannot recover jobs left running: {}", recovered.error().message);
        co_return 0;
    }
    if (*recovered > 0) {
        log_->warn("jobs: {} job(s) left running by the previous process are pending again",
                   *recovered);
    }
    co_return *recovered;
}

awaitable<void> Executor::wait_idle() {
    return net::co_spawn(strand_, do_wait_idle(), use_awaitable);
}

awaitable<void> Executor::run() { return net::co_spawn(strand_, do_run(), use_awaitable); }

void Executor::notify() {
    net::post(strand_, [this] {
        notified_ = true;
        scan_needed_ = true;
        wakeup_.cancel();
    });
}

void Executor::notify(std::vector<std::string> apps) {
    net::post(strand_, [this, apps = std::move(apps)]() mutable {
        notified_ = true;
        for (auto& app : apps) {
            if (std::find(named_apps_.begin(), named_apps_.end(), app) == named_apps_.end()) {
                named_apps_.push_back(std::move(app));
            }
        }
        wakeup_.cancel();
    });
}

void Executor::stop() {
    net::post(strand_, [this] {
        stopping_ = true;
        wakeup_.cancel();
    });
}

void Executor::reconfigure(const config::Config& cfg) {
    net::post(strand_, [this, next = executor_options_from(cfg, options_.seed)]() mutable {
        next.idle_poll = options_.idle_poll;
        next.drain_timeout = options_.drain_timeout;
        options_ = std::move(next);
        notified_ = true;
        scan_needed_ = true;  // a larger cap may make jobs runnable now
        wakeup_.cancel();
        // A lifted or changed freeze window: the jobs it deferred must not wait for its end.
        net::co_spawn(strand_, do_recheck_deferred(), net::detached);
    });
}

awaitable<DeferralCheck> Executor::recheck_deferred() {
    return net::co_spawn(strand_, do_recheck_deferred(), use_awaitable);
}

awaitable<DeferralCheck> Executor::do_recheck_deferred() {
    if (!writes_.empty()) {
        // Outcomes decided under the old windows (deferrals among them) are written first, so
        // the check sees them: store calls run in the order they are made.
        co_await settle(false);
    }
    const auto now = clock_.now();
    auto op = committer_.run([windows = options_.freeze, now](store::Store& s) {
        return recheck_in_store(s, windows, now);
    });
    auto checked = co_await std::move(op);
    if (!checked) {
        log_->error("jobs: cannot re-check the jobs deferred by freeze windows: {}",
                    checked.error().message);
        co_return DeferralCheck{};
    }
    if (checked->released > 0 || checked->moved > 0) {
        log_->info(
            "jobs: freeze windows re-checked: {} deferred job(s) released, {} held until another "
            "window's end",
            checked->released, checked->moved);
        notified_ = true;
        scan_needed_ = true;  // released jobs are due now
        wakeup_.cancel();
    }
    co_return *checked;
}

awaitable<std::size_t> Executor::do_poll() {
    scan_needed_ = true;  // the caller moved the clock or expects new jobs
    co_return co_await settle(true);
}

awaitable<std::size_t> Executor::settle(bool claim) {
    auto writes = std::exchange(writes_, {});
    const std::size_t cap = std::max<std::size_t>(options_.max_concurrency, 1);
    // The slots of the jobs whose outcomes this transaction writes are free once it commits
    // (except those handed over to their app's next job).
    const std::size_t freed = slots_freed(writes);
    const std::size_t busy = in_flight_ - freed + claiming_;
    const std::size_t limit = (claim && !stopping_ && busy < cap) ? cap - busy : 0;
    if (writes.empty() && limit == 0) {
        co_return 0;
    }
    std::vector<store::Transition> transitions;
    transitions.reserve(writes.size());
    for (const auto& w : writes) {
        transitions.push_back(w.transition);
    }
    const auto now = clock_.now();
    const auto scope = (scan_needed_ || backlog_ || store_failed_) ? store::ClaimScope::all
                                                                   : store::ClaimScope::named_apps;
    std::vector<std::string> apps;
    if (limit > 0) {
        // Taken only when claiming: a settle that cannot claim leaves them for the next one.
        apps = std::exchange(named_apps_, {});
        if (scope == store::ClaimScope::all) {
            scan_needed_ = false;  // a notify() while the store answers sets it again
            apps.clear();          // the scan covers them
        }
    }
    // Reserved while the store answers, so a concurrent poll cannot claim past the cap.
    claiming_ += limit;
    // GCC 12 destroys temporaries of a co_await expression twice, so every store
    // call is built first and awaited in a second statement.
    auto settled_op =
        committer_.run([t = std::move(transitions), a = std::move(apps), now, limit,
                        scope](store::Store& s) { return s.settle(t, a, now, limit, scope); });
    auto settled = co_await std::move(settled_op);
    claiming_ -= limit;
    store_failed_ = !settled;
    if (!settled) {
        log_->error("jobs: cannot write {} job outcome(s){}: {}", writes.size(),
                    limit > 0 ? " or claim runnable jobs" : "", settled.error().message);
        // Kept for the next settle: the jobs stay running (their apps busy) meanwhile, and if
        // the process ends first, the next start runs them again (at least once).
        writes.insert(writes.end(), std::make_move_iterator(writes_.begin()),
                      std::make_move_iterator(writes_.end()));
        writes_ = std::move(writes);
        idle_.cancel();  // a draining stop decides whether to wait for the store
        co_return 0;
    }
    for (std::size_t i = 0; i < writes.size(); ++i) {
        if (const auto& r = settled->transitions[i]; !r) {
            // Not a storage failure (those fail the whole settle): the job changed under us,
            // e.g. `linkpilot retry` or a manual edit. Nothing to redo.
            log_->error("{}: cannot record its {}: {}", writes[i].label, writes[i].what,
                        r.error().message);
        }
        if (i < settled->handovers.size()) {
            if (const auto& h = settled->handovers[i]; !h) {
                // Only a manual edit of the state file can get here: the job ran regardless.
                log_->error("{}: cannot record the start of its app's next job: {}",
                            writes[i].label, h.error().message);
            }
        }
    }
    in_flight_ -= freed;
    for (const auto& w : writes) {
        if (!w.keeps_slot) {
            slot_holders_.erase(w.transition.app);
        }
    }
    if (limit > 0 && scope == store::ClaimScope::all) {
        next_wakeup_ = settled->next_wakeup;
        // Runnable heads left unclaimed (the scan ran out of slots): they go first, in
        // acceptance order, so the next settles scan again. Filling every slot is not enough
        // to say so: with as many busy apps as slots, each scan claims exactly the freed apps'
        // next jobs, and scanning all pending jobs after every outcome would cost far more
        // than the lookups of those apps (bench/dispatch).
        backlog_ = settled->next_wakeup && *settled->next_wakeup <= now;
    } else if (settled->next_wakeup && (!next_wakeup_ || *settled->next_wakeup < *next_wakeup_)) {
        next_wakeup_ = settled->next_wakeup;  // a freed app's head backing off or deferred
    }
    for (auto& job : settled->claimed) {
        start(std::move(job));
    }
    for (auto& n : settled->next) {
        // queue_write() uses it only for the job it follows: if that job returned before this
        // answer came, the entry is never used and goes with the app's next outcome.
        auto app = n.job.app;
        next_.insert_or_assign(std::move(app), std::move(n));
    }
    if (in_flight_ == 0) {
        idle_.cancel();
    }
    co_return settled->claimed.size();
}

std::size_t Executor::slots_freed(const std::vector<PendingWrite>& writes) {
    return static_cast<std::size_t>(std::count_if(
        writes.begin(), writes.end(), [](const PendingWrite& w) { return !w.keeps_slot; }));
}

bool Executor::may_hand_over() {
    // Only the run() loop: tests driving poll() step through claims one settle at a time.
    if (!loop_running_ || stopping_ || store_failed_) {
        return false;
    }
    const std::size_t cap = std::max<std::size_t>(options_.max_concurrency, 1);
    if (in_flight_ != cap) {
        // Below the cap other apps have free slots; above it (a reload lowered the cap) this
        // slot must be given back.
        return in_flight_ < cap;
    }
    // Every slot taken: keep this one only if no other app may be waiting for a slot (a
    // backlog from the last scan, jobs come due, or a delivery for an idle app); otherwise the
    // settle hands it out in acceptance order.
    if (backlog_ || scan_needed_) {
        return false;
    }
    // A named app that holds a slot needs no claim by name: its next job follows in that slot
    // (by handover, or claimed by the settle that writes the outcome and frees the slot).
    std::erase_if(named_apps_,
                  [this](const std::string& app) { return slot_holders_.contains(app); });
    return named_apps_.empty();
}

void Executor::start(store::Job job, bool keeps_slot) {
    if (!keeps_slot) {
        ++in_flight_;
        slot_holders_.insert(job.app);
    }
    if (const auto action = action_from_string(job.action)) {
        metrics_.count(*action, Outcome::started);
    }
    auto label = job_label(job);
    auto app = job.app;  // captured before run_job takes the job
    net::co_spawn(strand_, run_job(std::move(job)),
                  net::bind_executor(
                      strand_, [this, label = std::move(label), app = std::move(app)](
                                   const std::exception_ptr& e) { job_ended(e, label, app); }));
}

void Executor::job_ended(const std::exception_ptr& e, const std::string& label,
                         const std::string& app) {
    if (e) {
        // One job of an app runs at a time: whatever was named to follow it is this one's.
        next_.erase(app);
        slot_holders_.erase(app);  // job_returned() frees the slot
        // A bug, not an outcome: the job stays `running` in the store
        // until the next start recovers it.
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log_->critical("{}: aborted: {}", label, ex.what());
        } catch (...) {
            log_->critical("{}: aborted", label);
        }
    }
    job_returned(static_cast<bool>(e));
}

void Executor::job_returned(bool released) {
    if (released) {
        --in_flight_;
        idle_.cancel();
    }
    if (loop_running_) {
        // run() settles the outcome, and claims the app's next job in the same commit.
        notified_ = true;
        wakeup_.cancel();
        return;
    }
    if (!flushing_ && !writes_.empty()) {
        net::co_spawn(strand_, flush(), net::detached);
    }
}

awaitable<void> Executor::flush() {
    flushing_ = true;
    // Outcomes queued while a settle is in flight go in the next one.
    while (!writes_.empty()) {
        co_await settle(false);
        if (store_failed_) {
            break;  // retried by the next job_returned() or settle
        }
    }
    flushing_ = false;
}

void Executor::queue_write(std::string label, store::Transition transition, std::string_view what) {
    using Kind = store::Transition::Kind;
    std::optional<store::Job> follower;
    if (const auto it = next_.find(transition.app); it != next_.end()) {
        // A rescheduled or deferred job stays its app's head: what follows it must wait.
        const bool leaves_queue = transition.kind == Kind::complete ||
                                  transition.kind == Kind::fail || transition.kind == Kind::skip;
        if (it->second.after == transition.id && leaves_queue && may_hand_over()) {
            follower = std::move(it->second.job);
            transition.handover = follower->id;
        }
        next_.erase(it);
    }
    const bool keeps_slot = follower.has_value();
    writes_.push_back(
        PendingWrite{std::move(transition), std::move(label), std::string{what}, keeps_slot});
    if (follower) {
        start(std::move(*follower), true);
    }
}

awaitable<void> Executor::do_wait_idle() {
    while (in_flight_ > 0) {
        idle_.expires_at(net::steady_timer::time_point::max());
        co_await idle_.async_wait(kAwaitTuple);  // settle() cancels it when the last job is written
    }
}

awaitable<void> Executor::do_run() {
    loop_running_ = true;
    scan_needed_ = true;
    // The config may have changed while no daemon ran: jobs deferred by a window it no longer
    // has must not wait for that window's end.
    co_await do_recheck_deferred();
    while (!stopping_) {
        notified_ = false;
        co_await settle(true);
        if (stopping_ || notified_) {
            continue;  // woken (a job returned, a delivery came) while the store answered
        }
        auto due = clock_.now() + options_.idle_poll;
        // When every slot is busy (or the store failed), a due job cannot start before a
        // running one returns (which notifies): sleeping until its time would spin.
        const bool saturated =
            in_flight_ >= std::max<std::size_t>(options_.max_concurrency, 1) || store_failed_;
        if (!saturated && next_wakeup_) {
            due = std::min(due, *next_wakeup_);
        }
        const auto sleep = std::max(due - clock_.now(), std::chrono::system_clock::duration{0});
        wakeup_.expires_after(sleep);
        // notify(), stop() and job_returned() cancel it.
        auto [ec] = co_await wakeup_.async_wait(kAwaitTuple);
        if (!ec) {
            scan_needed_ = true;  // a backoff, deferral or debounce may have come due
        }
    }
    loop_running_ = false;
    if (!flushing_ && !writes_.empty()) {
        net::co_spawn(strand_, flush(), net::detached);
    }
    co_await drain();
}

awaitable<void> Executor::drain() {
    if (in_flight_ == 0) {
        co_return;
    }
    log_->info("jobs: waiting up to {} ms for {} job(s) in flight", options_.drain_timeout.count(),
               in_flight_);
    // On the injected clock, so tests move through the drain without waiting it out.
    const auto deadline = clock_.steady_now() + options_.drain_timeout;
    while (in_flight_ > 0 && clock_.steady_now() < deadline) {
        if (store_failed_ && in_flight_ == slots_freed(writes_) && !flushing_) {
            // Every job has returned and the store refused to record their outcomes (disk
            // full, read-only). One more try; if it fails too, waiting out the drain would
            // only delay the stop: those jobs run again at the next start (at least once).
            co_await flush();
            if (in_flight_ > 0 && store_failed_) {
                log_->warn(
                    "jobs: the outcome of {} job(s) could not be recorded (state store "
                    "unavailable); they run again at the next start",
                    in_flight_);
                co_return;
            }
            continue;
        }
        // settle() cancels it when the last job is written, or when the store refuses a write;
        // the second is only a backstop for a refusal met while another flush was running.
        idle_.expires_after(std::min<std::chrono::steady_clock::duration>(
            deadline - clock_.steady_now(), std::chrono::seconds(1)));
        co_await idle_.async_wait(kAwaitTuple);
    }
    if (in_flight_ > 0) {
        log_->warn("jobs: {} job(s) still running at shutdown; they run again at the next start",
                   in_flight_);
    }
}

awaitable<void> Executor::run_job(store::Job job) {
    using Kind = store::Transition::Kind;
    const auto action = action_from_string(job.action);
    if (!action) {
        auto err = fmt::format("unknown action \"{}\"", job.action);
        auto label = job_label(job);
        log_->error("{}: failed: {}", label, err);
        queue_write(std::move(label), {job.id, job.app, Kind::fail, std::move(err), {}}, "failure");
        co_return;
    }

    const auto now = clock_.now();
    auto hit = active_window(options_.freeze, *action, now);
    if (hit && job.ignore_freeze) {
        log_->info("{}: freeze window {} ignored (jobs run-now --ignore-freeze)", job_label(job),
                   hit->description);
        hit.reset();
    }
    if (hit) {
        if (hit->mode == config::FreezeMode::defer) {
            auto note = deferral_note(*hit);
            auto label = job_label(job);
            log_->info("{}: {}", label, note);
            metrics_.count(*action, Outcome::deferred);
            queue_write(std::move(label), {job.id, job.app, Kind::defer, std::move(note), hit->end},
                        "deferral");
        } else {
            auto note = fmt::format("skipped: freeze window {}", hit->description);
            auto label = job_label(job);
            log_->info("{}: {}", label, note);
            metrics_.count(*action, Outcome::skipped);
            queue_write(std::move(label), {job.id, job.app, Kind::skip, std::move(note), {}},
                        "skip");
        }
        co_return;
    }

    // Arguments of a coroutine called inside co_await are passed by reference or are trivial:
    // GCC 12 destroys some temporaries of a co_await expression twice.
    auto outcome = co_await perform(job, *action);
    finish(job, *action, outcome);
}

awaitable<Executor::CallOutcome> Executor::perform(const store::Job& job,
                                                   rules::ActionKind action) {
    auto args = parse_args(job.args_json);
    if (!args) {
        co_return Unexpected{bad_job(args.error())};
    }
    switch (action) {
        case rules::ActionKind::deploy: {
            if (!args->branch || args->branch->empty()) {
                co_return Unexpected{bad_job("deploy job without a branch")};
            }
            auto r_op = api_.manual_deploy(job.app, *args->branch);
            auto r = co_await std::move(r_op);
            if (!r) {
                co_return Unexpected{std::move(r.error())};
            }
            const std::string status = r->status.empty() ? "queued" : r->status;
            if (r->id.empty()) {
                co_return fmt::format("deployment of {} {}", *args->branch, status);
            }
            co_return fmt::format("deployment {} {}", r->id, status);
        }
        case rules::ActionKind::review_app: {
            if (!args->pr_number) {
                co_return Unexpected{bad_job("review_app job without a pr_number")};
            }
            auto r_op = api_.manual_review_app(job.app, *args->pr_number);
            auto r = co_await std::move(r_op);
            if (!r) {
                co_return Unexpected{std::move(r.error())};
            }
            const std::string name = r->app_name.empty()
                                         ? scalingo::review_app_name(job.app, *args->pr_number)
                                         : r->app_name;
            co_return fmt::format("review app {} requested for PR #{}", name, *args->pr_number);
        }
        case rules::ActionKind::delete_review_app: {
            if (!args->pr_number && !args->review_app) {
                co_return Unexpected{bad_job("delete_review_app job without a pr_number")};
            }
            const auto n = args->pr_number.value_or(0);
            auto list_op = api_.review_apps(job.app);
            auto list = co_await std::move(list_op);
            if (!list) {
                co_return Unexpected{std::move(list.error())};
            }
            // SPEC 2.3: the parent's review app for this PR, named {parent}-pr{N} on Scalingo.
            const auto conventional = scalingo::review_app_name(job.app, n);
            const auto it = std::find_if(list->begin(), list->end(), [&](const auto& ra) {
                if (args->review_app) {
                    // Named by the pruner: that app and no other, even for the same PR.
                    return ra.app_name == *args->review_app;
                }
                return (ra.pull_request && ra.pull_request->number == n) ||
                       ra.app_name == conventional;
            });
            if (it == list->end()) {
                if (args->review_app) {
                    co_return fmt::format("review app {} is no longer listed; nothing to delete",
                                          *args->review_app);
                }
                co_return fmt::format("no review app for PR #{}; nothing to delete", n);
            }
            if (args->review_app) {
                if (it->parent_app_name != job.app) {
                    co_return fmt::format("kept review app {}: its parent is {}, not {}",
                                          it->app_name, it->parent_app_name, job.app);
                }
                // Deployed again since the sweep chose it (e.g. a review_app job of the same
                // app ran first): in use again, so the sweep's reason no longer holds.
                auto active = it->created_at;
                if (it->last_deployment && it->last_deployment->created_at &&
                    (!active || *it->last_deployment->created_at > *active)) {
                    active = it->last_deployment->created_at;
                }
                if (args->activity_at && active && *active > *args->activity_at) {
                    co_return fmt::format("kept review app {}: active again since the sweep ({})",
                                          it->app_name, iso_time(*active));
                }
            }
            const std::string name = it->app_name;
            auto del_op = api_.delete_app(name);
            auto del = co_await std::move(del_op);
            if (!del) {
                if (del.error().status == 404) {
                    // Gone between the listing and the delete (Scalingo's own cleanup): the
                    // goal is reached.
                    co_return fmt::format("review app {} already deleted", name);
                }
                co_return Unexpected{std::move(del.error())};
            }
            if (n == 0) {
                co_return fmt::format("deleted review app {}", name);
            }
            co_return fmt::format("deleted review app {} (PR #{})", name, n);
        }
    }
    co_return Unexpected{bad_job("unhandled action")};
}

void Executor::finish(const store::Job& job, rules::ActionKind action, const CallOutcome& outcome) {
    using Kind = store::Transition::Kind;
    metrics_.count_attempt(action);
    const auto now = clock_.now();
    if (outcome) {
        auto label = job_label(job);
        log_->info("{}: done: {}", label, *outcome);
        metrics_.count(action, Outcome::done);
        queue_write(std::move(label), {job.id, job.app, Kind::complete, *outcome, {}},
                    "completion");
        return;
    }
    const auto& err = outcome.error();
    const auto attempt = static_cast<std::uint32_t>(std::max(job.attempts, 0)) + 1;
    auto text = error_text(err);
    const auto decision = scalingo::decide(options_.retry, err, attempt, rng_);
    if (decision.retry) {
        const auto at = now + decision.delay;
        auto label = job_label(job);
        log_->warn("{}: attempt {}/{} failed: {}; next attempt at {}", label, attempt,
                   options_.retry.max_attempts, text, iso_time(at));
        metrics_.count(action, Outcome::rescheduled);
        queue_write(std::move(label), {job.id, job.app, Kind::reschedule, std::move(text), at},
                    "rescheduling");
        return;
    }
    auto label = job_label(job);
    log_->error("{}: failed after {} attempt{}: {}", label, attempt, attempt == 1 ? "" : "s", text);
    metrics_.count(action, Outcome::failed);
    queue_write(std::move(label), {job.id, job.app, Kind::fail, std::move(text), {}}, "failure");
}

}  // namespace linkpilot::jobs
