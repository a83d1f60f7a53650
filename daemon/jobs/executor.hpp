#pragma once

// The durable job executor (SPEC 4 and 5). It claims runnable jobs from the store (at most one
// per app, so an app's jobs run one at a time and in order), checks freeze windows, makes the
// Scalingo call and writes the outcome back: done, rescheduled with backoff, deferred, skipped,
// or failed (dead letter). Every state change goes through the GroupCommitter, so a job's state
// survives a crash; a job left running by one is put back by Store::recover_running at start.
// Outcomes are group-committed too: finished jobs queue their transition, and one
// Store::settle writes all that queued meanwhile and claims the next runnable jobs in the same
// transaction. A job holds its slot (and its app stays busy) until its outcome is on disk,
// with one exception: under run(), when a job leaves the queue (done, failed, skipped) and the
// store already named its app's next job (SettleResult::next: due, not debounced), that job
// starts at once in the same slot, and the settle that writes the outcome also claims it. An
// app's chain of jobs then waits for no store round trip (bench/dispatch), in the same order.
//
// All of the executor's state lives on its own strand: no mutex. Tests drive it with poll()
// and wait_idle() and move a FakeClock; production calls run(), which sleeps on a real timer
// until the store's next wake-up time, notify() or stop().

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.hpp"
#include "common/expected.hpp"
#include "config/config.hpp"
#include "daemon/jobs/metrics.hpp"
#include "daemon/scalingo/api.hpp"
#include "daemon/scalingo/retry.hpp"
#include "daemon/store/group_commit.hpp"
#include "daemon/store/store.hpp"

namespace spdlog {
class logger;
}

namespace linkpilot::jobs {

struct ExecutorOptions {
    std::size_t max_concurrency = 8;  // jobs (hence apps) in flight at once
    scalingo::RetryPolicy retry;
    std::vector<config::FreezeWindow> freeze;
    std::uint64_t seed = 0;  // jitter RNG; inject a fixed one in tests
    // run(): longest sleep between two polls when nothing is due (a safety net: notify() and
    // the store's next wake-up time normally decide).
    std::chrono::milliseconds idle_poll = std::chrono::seconds(1);
    // run() after stop(): how long in-flight Scalingo calls may take to finish. Jobs still
    // running after that stay `running` in the store and are recovered at the next start.
    std::chrono::milliseconds drain_timeout = std::chrono::seconds(20);
};

[[nodiscard]] ExecutorOptions executor_options_from(const config::Config& cfg, std::uint64_t seed);

// What Executor::recheck_deferred changed.
struct DeferralCheck {
    std::int64_t released = 0;  // due now: no `defer` window holds them any more
    std::int64_t moved = 0;     // held by another window: due at its end
};

class Executor {
  public:
    using Strand = boost::asio::strand<boost::asio::any_io_executor>;

    // `committer`, `api`, `clock` and `log` must outlive the executor, and the executor must
    // outlive the coroutines it started (keep it alive until its io_context has stopped).
    Executor(store::GroupCommitter& committer, scalingo::Api& api, const Clock& clock,
             ExecutorOptions options, std::shared_ptr<spdlog::logger> log,
             const boost::asio::any_io_executor& io);
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;
    Executor(Executor&&) = delete;
    Executor& operator=(Executor&&) = delete;
    ~Executor();

    // Claims the jobs runnable at clock.now() (up to max_concurrency minus those in flight) and
    // starts each in its own coroutine on the strand. Returns how many it started. Completes on
    // the strand, whatever executor the caller co_awaits it from.
    boost::asio::awaitable<std::size_t> poll();

    // Once at start, before run(): jobs a crash left `running` go back to pending (at least
    // once, SPEC 5). Not on a config reload, which would run in-flight jobs twice. Returns how
    // many were recovered (0 and a log line on a store error).
    boost::asio::awaitable<std::int64_t> recover();

    // Completes once no job is in flight.
    boost::asio::awaitable<void> wait_idle();

    // Production loop: poll, then sleep until the next job is due (at most idle_poll), notify()
    // or stop(); after stop(), waits up to drain_timeout for in-flight jobs, then returns.
    boost::asio::awaitable<void> run();

    // Thread-safe. Something may be runnable now (jobs were queued): poll soon, looking at
    // every app's queue.
    void notify();
    // Thread-safe. A delivery queued jobs for these apps: poll soon, looking at their queues
    // only (an index lookup each, where notify() reads every pending job).
    void notify(std::vector<std::string> apps);
    // Thread-safe. Ends run() (after its drain); jobs not yet claimed stay pending.
    void stop();
    // Thread-safe. A reloaded config: its concurrency, retry policy and freeze windows apply to
    // jobs claimed from now on (jobs in flight finish under the old ones), and the jobs the old
    // windows deferred are re-checked against the new ones (recheck_deferred).
    void reconfigure(const config::Config& cfg);

    // Re-checks the pending jobs a freeze window deferred (Job::freeze_deferred) against the
    // windows in force: a job that no `defer` window holds any more is due now (a `skip` window
    // then drops it when it runs), one that another window holds waits for that window's end.
    // Wakes run() when anything changed. reconfigure() and the start of run() call it. Completes
    // on the strand.
    boost::asio::awaitable<DeferralCheck> recheck_deferred();

    // Strand only (tests read it after wait_idle()).
    [[nodiscard]] std::size_t in_flight() const { return in_flight_; }
    [[nodiscard]] const Metrics& metrics() const { return metrics_; }
    [[nodiscard]] const Strand& strand() const { return strand_; }

  private:
    // A finished Scalingo round: the note to store on success, or the call's error.
    using CallOutcome = Expected<std::string, scalingo::CallError>;

    // An outcome waiting for the next settle, with what to log if it cannot be written.
    struct PendingWrite {
        store::Transition transition;
        std::string label;  // "job 5 deploy shop (delivery abc)"
        std::string what;   // "completion", "rescheduling", ...
        // The app's next job started in this job's slot (transition.handover): the slot stays
        // taken once the outcome is written.
        bool keeps_slot = false;
    };

    boost::asio::awaitable<std::size_t> do_poll();
    // Writes the queued outcomes and, when `claim`, claims and starts runnable jobs into the
    // free slots, in one store transaction. Returns how many jobs it started.
    boost::asio::awaitable<std::size_t> settle(bool claim);
    // Settles outcomes when no run() loop does (tests driving poll(), and the drain).
    boost::asio::awaitable<void> flush();
    boost::asio::awaitable<void> do_wait_idle();
    boost::asio::awaitable<std::int64_t> do_recover();
    boost::asio::awaitable<DeferralCheck> do_recheck_deferred();
    boost::asio::awaitable<void> do_run();
    boost::asio::awaitable<void> drain();
    boost::asio::awaitable<void> run_job(store::Job job);
    boost::asio::awaitable<CallOutcome> perform(const store::Job& job, rules::ActionKind action);
    void finish(const store::Job& job, rules::ActionKind action, const CallOutcome& outcome);
    // `label`: job_label(job), already built for the log line.
    void queue_write(std::string label, store::Transition transition, std::string_view what);
    // `keeps_slot`: the job takes over the slot of its app's job that just left the queue.
    void start(store::Job job, bool keeps_slot = false);
    // Whether a job leaving the queue may pass its slot to its app's next job (see the top).
    // Drops the named apps that have a job running.
    [[nodiscard]] bool may_hand_over();
    // How many slots the given writes free once committed.
    [[nodiscard]] static std::size_t slots_freed(const std::vector<PendingWrite>& writes);
    // start()'s completion: a job coroutine of `app` returned, or threw (a bug).
    void job_ended(const std::exception_ptr& e, const std::string& label, const std::string& app);
    // A job coroutine returned (its outcome queued) or died (nothing queued: `released`).
    void job_returned(bool released);

    store::GroupCommitter& committer_;
    scalingo::Api& api_;
    const Clock& clock_;
    ExecutorOptions options_;
    std::shared_ptr<spdlog::logger> log_;
    Strand strand_;
    boost::asio::steady_timer wakeup_;  // run()'s sleep
    boost::asio::steady_timer idle_;    // wait_idle()'s "condition variable"
    std::mt19937_64 rng_;
    Metrics metrics_;
    std::size_t in_flight_ = 0;
    std::size_t claiming_ = 0;  // slots reserved by a poll() waiting for the store
    std::vector<PendingWrite> writes_;
    // Per app, the job the store named to follow the app's running job (NextJob::after).
    std::unordered_map<std::string, store::NextJob> next_;
    // The apps holding a slot: from the claim of a job until the settle that writes the outcome
    // of the last job of the chain started in that slot.
    std::unordered_set<std::string> slot_holders_;
    std::optional<store::TimePoint> next_wakeup_;  // from the last settle that claimed
    bool store_failed_ = false;  // the last settle got a store error: retry after idle_poll
    // The next settle claims from all apps (ClaimScope::all) rather than only the apps whose
    // jobs it settles: set when new jobs may have arrived or come due (notify(), a timer, a
    // reload), and `backlog_` while the last scan left runnable jobs unclaimed (other apps are
    // waiting for one: they go first, in acceptance order, so no app is starved).
    bool scan_needed_ = true;
    bool backlog_ = false;
    std::vector<std::string> named_apps_;  // from notify(apps), for the next claiming settle
    bool notified_ = false;
    bool stopping_ = false;
    bool loop_running_ = false;  // run() settles; otherwise flush() does
    bool flushing_ = false;
};

}  // namespace linkpilot::jobs
