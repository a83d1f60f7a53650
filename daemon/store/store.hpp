#pragma once

// The state store (SPEC 3 and 5): deliveries received, the jobs they produced, and the schema
// version. `Store` is the interface every other component depends on; the SQLite
// implementation is `open_sqlite` (sqlite_store.hpp), the PostgreSQL one, for several replicas
// sharing one state, `open_postgres` (postgres_store.hpp). Nothing here names a database type
// and all SQL stays in daemon/store/.
//
// Every method is synchronous and a Store object is NOT thread-safe: one owner thread at a
// time. The daemon funnels all calls through GroupCommitter (group_commit.hpp), which owns the
// writer thread; CLI commands (`jobs`, `retry`, `migrate`) open their own Store and call it
// directly. Times are passed in by the caller (from the injected Clock), never read here.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.hpp"

namespace linkpilot::store {

using TimePoint = std::chrono::system_clock::time_point;

// One error type for the whole store. `unavailable()` tells the ingress to answer 503 so the
// forge redelivers later (SPEC 3: disk full, read-only).
struct StoreError {
    enum class Kind {
        busy,           // locked by another writer past the busy timeout
        full,           // disk or database full
        readonly,       // file, directory or connection is read-only
        io,             // I/O error from the OS
        corrupt,        // not a database, or a damaged one
        invalid,        // the request itself is wrong (unknown action, constraint violated)
        not_found,      // no such job
        invalid_state,  // transition not allowed from the job's current state
        cancelled,      // the caller stopped waiting (GroupCommitter); the write may still land
        other,
    };
    Kind kind = Kind::other;
    std::string message;

    // True when the store cannot take writes right now; the request may succeed later.
    [[nodiscard]] bool unavailable() const {
        return kind == Kind::busy || kind == Kind::full || kind == Kind::readonly ||
               kind == Kind::io || kind == Kind::corrupt || kind == Kind::cancelled;
    }
};

std::string_view to_string(StoreError::Kind k);

template <class T>
using Result = Expected<T, StoreError>;

// Job states (SPEC 5) and actions (SPEC 2.3), spelled as stored and as `linkpilot jobs` prints.
inline constexpr std::string_view kStatePending = "pending";
inline constexpr std::string_view kStateRunning = "running";
inline constexpr std::string_view kStateDone = "done";
inline constexpr std::string_view kStateFailed = "failed";
// Ended by an operator (`linkpilot jobs cancel`) before it ran; terminal, like done and failed.
inline constexpr std::string_view kStateCancelled = "cancelled";
// Attempt::outcome: kStateDone, kStateFailed, or this (a retryable failure).
inline constexpr std::string_view kOutcomeRescheduled = "rescheduled";
inline constexpr std::string_view kActionDeploy = "deploy";
inline constexpr std::string_view kActionReviewApp = "review_app";
inline constexpr std::string_view kActionDeleteReviewApp = "delete_review_app";

// A job to enqueue with a delivery.
struct NewJob {
    std::string rule;
    std::string action;  // deploy | review_app | delete_review_app
    std::string app;
    std::string args_json = "{}";  // {"branch": ..., "pr_number": ...}
    // SPEC 2.4: a pending, never-attempted job with the same key is superseded by this one, and
    // this one waits `debounce` after the delivery's received_at. The key is opaque here; the
    // caller builds it from (rule/action, app, branch or PR).
    std::optional<std::string> debounce_key;
    std::optional<std::chrono::milliseconds> debounce;
    // Earliest run time (e.g. the end of a freeze window); the epoch means "now".
    TimePoint not_before{};
};

// A delivery as received. Its id is the forge's delivery id, unique per provider.
struct NewDelivery {
    std::string id;
    std::string provider;  // github | gitlab
    std::string event;     // the event header value
    std::string repo;
    TimePoint received_at{};
    std::string status;         // queued | ignored | rejected ...
    std::string payload;        // raw body; the store keeps it until prune_payloads and its SHA-256
    std::string event_json;     // normalised event summary
    std::string verdicts_json;  // the rules' verdicts, for `explain --delivery`
    std::string config_fingerprint;  // which config produced the verdicts
};

// A stored delivery, for `explain --delivery ID`.
struct Delivery {
    std::string id;
    std::string provider;
    std::string event;
    std::string repo;
    TimePoint received_at{};
    std::string status;
    std::optional<std::string> payload;  // nullopt once pruned
    std::string payload_sha256;          // lowercase hex
    std::string event_json;
    std::string verdicts_json;
    std::string config_fingerprint;
};

struct AcceptResult {
    bool duplicate = false;             // delivery id already stored: nothing was added
    std::vector<std::int64_t> job_ids;  // ids of the jobs inserted, in NewJob order
};

// A job as stored (SPEC 5, plus note and debounce key).
struct Job {
    std::int64_t id = 0;  // increases with acceptance order
    std::string delivery_id;
    std::string provider;
    std::string rule;
    std::string action;
    std::string app;
    std::string args_json;
    std::string state;
    std::int32_t attempts = 0;  // finished attempts (complete, fail, reschedule count one)
    TimePoint next_attempt_at{};
    std::optional<std::string> last_error;
    std::optional<std::string> note;  // "superseded by job 42", "skipped: freeze window ..."
    std::optional<std::string> debounce_key;
    TimePoint created_at{};
    TimePoint updated_at{};
    // Pending until a freeze window's end (defer), so a reload can re-check it against its new
    // windows (redefer). Cleared when the job is claimed, run now or cancelled.
    bool freeze_deferred = false;
    // `linkpilot jobs run-now --ignore-freeze`: the executor runs it even inside a freeze window.
    bool ignore_freeze = false;
};

// One finished attempt of a job (complete, fail, reschedule), kept for the job's whole life:
// `retry` puts the attempts counter back to 0 but not this history.
struct Attempt {
    std::int64_t job_id = 0;
    std::int32_t number = 0;            // 1, 2, ... over the job's life
    TimePoint at{};                     // when its outcome was written
    std::string outcome;                // done | failed | rescheduled
    std::optional<std::string> detail;  // the error, or the note of a done attempt
};

struct JobFilter {
    std::optional<std::string> state;
    std::optional<std::string> app;
    bool freeze_deferred_only = false;  // only jobs with Job::freeze_deferred
};

struct JobCount {
    std::string state;
    std::string action;
    std::int64_t count = 0;
};

// For metrics.
struct Stats {
    std::vector<JobCount> jobs;  // one entry per (state, action) present
    std::optional<TimePoint> oldest_pending_created_at;
};

// A finished job's outcome, for Store::settle (the executor's batched write).
struct Transition {
    enum class Kind { complete, fail, reschedule, defer, skip };
    std::int64_t id = 0;
    std::string app;  // the job's app, whose next job settle may claim
    Kind kind = Kind::complete;
    std::string text;  // the note (complete, defer, skip) or the error (fail, reschedule)
    TimePoint at{};    // next attempt (reschedule) or end of the freeze window (defer)
    // The app's next job, which the executor started as soon as this one left the queue
    // (complete, fail, skip) from a SettleResult::next of an earlier settle: settle marks it
    // running right after this transition, in the same commit. 0: none.
    std::int64_t handover = 0;
};

// Which runnable jobs Store::settle claims.
enum class ClaimScope {
    // Only the next job of the named apps (those of its transitions, plus any it is given):
    // cheap (an index lookup per app), and enough when every other runnable app already has
    // its job running.
    named_apps,
    // The oldest runnable jobs of all apps, as claim_runnable (reads every pending job's app).
    all,
};

// An app's next job, known before the job it follows (`after`) is finished.
struct NextJob {
    std::int64_t after = 0;
    Job job;
};

struct SettleResult {
    std::vector<Result<void>> transitions;  // one per Transition, in order
    // One per Transition: the claim of its `handover` (success when it has none), invalid_state
    // when that job was no longer pending (it ran anyway: the executor had started it).
    std::vector<Result<void>> handovers;
    std::vector<Job> claimed;  // oldest first
    // For each job this settle claimed or took over by handover, its app's next job when the
    // executor may start that one the moment the first leaves the queue, without asking the
    // store: pending, due now and without a debounce key. While its app is busy, nothing but
    // that handover changes such a job (a debounced one may be superseded meanwhile).
    std::vector<NextJob> next;
    // The earliest next_attempt_at of a queue head it saw not yet due: with ClaimScope::all,
    // as next_wakeup() answers; with named_apps, among those apps only.
    std::optional<TimePoint> next_wakeup;
};

// Who takes the review app sweep lock (Store::try_lock_sweep); a process refused the lock
// names its holder from this.
struct SweepHolder {
    std::int64_t pid = 0;
    std::string host;
    std::string command;  // serve | prune
    TimePoint since{};    // when it took the lock
};

// This process (getpid, gethostname) running `linkpilot <command>`, holding from `since`.
SweepHolder this_process(std::string command, TimePoint since);

// "linkpilot serve (pid 4242 on web-1, since 2023-11-14T22:13:20Z)"
std::string to_string(const SweepHolder& h);

struct SweepLock {
    bool taken = false;  // this store holds the lock now
    // Not taken: who holds it, as to_string(SweepHolder) puts it, or what is known of it.
    std::string holder;
};

struct MigrateResult {
    int from = 0;
    int to = 0;
};

class Store {
  public:
    virtual ~Store() = default;
    Store() = default;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Stores the delivery and its jobs in one transaction. A delivery id already stored for the
    // provider gives {duplicate = true} and changes nothing.
    virtual Result<AcceptResult> accept(const NewDelivery& delivery,
                                        const std::vector<NewJob>& jobs) = 0;

    using AcceptItem = std::pair<NewDelivery, std::vector<NewJob>>;
    // Group commit: many deliveries in ONE transaction (one fsync). The answer has one entry
    // per item, in order. An item that is itself wrong (invalid action, ...) gets its own error
    // and does not spoil the others; a storage failure (full, read-only, I/O) rolls everything
    // back and every entry carries that error. Later items see earlier ones: a repeated id in
    // the batch is a duplicate, a repeated debounce key supersedes.
    virtual std::vector<Result<AcceptResult>> accept_batch(
        const std::vector<AcceptItem>& items) = 0;

    // Matching jobs in acceptance order (ascending id).
    virtual Result<std::vector<Job>> list_jobs(const JobFilter& filter) = 0;
    virtual Result<std::optional<Job>> get_job(std::int64_t id) = 0;

    // For the executor: for up to `limit` apps that have no running job, the app's oldest
    // pending job if its next_attempt_at <= now; marks them running atomically. A later job of
    // an app never overtakes an earlier one that is backing off or deferred (SPEC 5 order).
    virtual Result<std::vector<Job>> claim_runnable(TimePoint now, std::size_t limit) = 0;

    // Transitions of a running job. Each fails with not_found / invalid_state otherwise.
    // complete, fail and reschedule count an attempt and add it to the job's history.
    // running -> done (attempts + 1; last_error cleared: it belonged to an earlier attempt).
    virtual Result<void> complete(std::int64_t id, std::string_view note, TimePoint now) = 0;
    // running -> failed (dead letter; attempts + 1, last_error).
    virtual Result<void> fail(std::int64_t id, std::string_view error, TimePoint now) = 0;
    // running -> pending at next_attempt_at (attempts + 1, last_error): a retryable failure.
    virtual Result<void> reschedule(std::int64_t id, std::string_view error,
                                    TimePoint next_attempt_at, TimePoint now) = 0;
    // running -> pending at `until`, freeze_deferred, without counting an attempt (freeze
    // window `defer`).
    virtual Result<void> defer(std::int64_t id, TimePoint until, std::string_view note,
                               TimePoint now) = 0;
    // running -> done without running it (freeze window `skip`; last_error cleared); the note
    // says why.
    virtual Result<void> skip(std::int64_t id, std::string_view note, TimePoint now) = 0;

    // The executor's group commit: applies every transition as the matching method above
    // would, then claims up to `claim_limit` runnable jobs within `scope` (`apps` adds to the
    // apps named by the transitions, e.g. those a delivery just queued jobs for), all in ONE
    // transaction, so an app's next job is claimed in the commit that completes its previous
    // one; a transition's `handover` is marked running right after it. For every job claimed
    // or handed over, `next` may name its app's following job (see SettleResult). A
    // transition that is itself wrong (not_found, invalid_state) gets its own error; a
    // storage failure rolls everything back and is the result's error. Implementations may
    // commit this without waiting for the disk (a crash can then only re-run jobs).
    virtual Result<SettleResult> settle(const std::vector<Transition>& transitions,
                                        const std::vector<std::string>& apps, TimePoint now,
                                        std::size_t claim_limit, ClaimScope scope) = 0;

    // `linkpilot retry`: failed -> pending now, attempts back to 0 (last_error kept until the
    // job completes; the history keeps every attempt).
    virtual Result<void> retry(std::int64_t id, TimePoint now) = 0;

    // Operator controls on a pending job (`linkpilot jobs cancel` / `run-now`); not_found, or
    // invalid_state when the job is not pending.
    // pending -> cancelled, with the note (who and when). Also invalid_state for the job the
    // executor may start without a claim (SettleResult::next: its app's oldest pending job,
    // due, not debounced, while the app has a job running): it may be starting already.
    virtual Result<void> cancel(std::int64_t id, std::string_view note, TimePoint now) = 0;
    // A pending job due now (next_attempt_at = now, no longer freeze_deferred), with the note;
    // `ignore_freeze` sets Job::ignore_freeze (never cleared by run_now). It still waits for
    // its app's earlier jobs (SPEC 5 order).
    virtual Result<void> run_now(std::int64_t id, bool ignore_freeze, std::string_view note,
                                 TimePoint now) = 0;
    // A reload re-checked a freeze_deferred pending job against its windows: pending at
    // `until` with the note; an `until` <= now releases it (due now, no longer
    // freeze_deferred). invalid_state when the job is not pending and freeze_deferred.
    virtual Result<void> redefer(std::int64_t id, TimePoint until, std::string_view note,
                                 TimePoint now) = 0;
    // The history of the jobs `filter` matches: ordered by job id, then attempt number.
    virtual Result<std::vector<Attempt>> list_attempts(const JobFilter& filter) = 0;

    // At start: jobs left running by a crash go back to pending (at-least-once). Returns count.
    virtual Result<std::int64_t> recover_running(TimePoint now) = 0;
    // Earliest time a pending job could become claimable (only heads of apps with no running
    // job count), or nullopt when nothing waits.
    virtual Result<std::optional<TimePoint>> next_wakeup() = 0;

    // The most recently received delivery with this id (any provider).
    virtual Result<std::optional<Delivery>> get_delivery(std::string_view id) = 0;
    // Drops raw payloads of deliveries received before `older_than`. Returns count.
    virtual Result<std::int64_t> prune_payloads(TimePoint older_than) = 0;

    virtual Result<Stats> stats() = 0;

    // Review app sweeps (SPEC 6) when several processes share the store (replicas, or `prune`
    // next to `serve`): only the holder of the sweep lock sweeps, so two processes never queue
    // the same deletions twice. taken: this store holds it now (taken if free, as `self`);
    // otherwise another process does and `holder` names it. Held until unlock_sweep() or the
    // store is closed; a crashed holder's lock goes with its process (or its connection).
    virtual Result<SweepLock> try_lock_sweep(const SweepHolder& self) = 0;
    virtual Result<void> unlock_sweep() = 0;

    // Applies pending schema migrations (also done when opening). Idempotent.
    virtual Result<MigrateResult> migrate() = 0;
    virtual Result<int> schema_version() = 0;
};

}  // namespace linkpilot::store
