#include "daemon/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "common/sha256.hpp"
#include "daemon/store/detail.hpp"
#include "daemon/store/schema_sqlite.hpp"

namespace linkpilot::store {
namespace {

constexpr int kLatestVersion = static_cast<int>(detail::kSqliteMigrations.size());

// ---------------------------------------------------------------------------------------------
// SQL used at run time. Kept as constants so prepared statements are cached by address.
// ---------------------------------------------------------------------------------------------
#define LINKPILOT_JOB_COLUMNS                                                                \
    "id, delivery_id, provider, rule, action, app, args, state, attempts, next_attempt_at, " \
    "last_error, note, debounce_key, created_at, updated_at, freeze_deferred, ignore_freeze"

constexpr const char* kInsertDelivery =
    "INSERT INTO deliveries (provider, id, event, repo, received_at, status, payload, "
    "payload_sha256, event_json, verdicts_json, config_fingerprint) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
    "ON CONFLICT (provider, id) DO NOTHING";
constexpr const char* kInsertJob =
    "INSERT INTO jobs (provider, delivery_id, rule, action, app, args, state, attempts, "
    "next_attempt_at, debounce_key, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8, ?9, ?9)";
constexpr const char* kSupersede =
    "UPDATE jobs SET state = 'done', note = 'superseded by job ' || ?1, updated_at = ?2 "
    "WHERE debounce_key = ?3 AND state = 'pending' AND attempts = 0 AND id < ?1";
constexpr const char* kListJobs =
    "SELECT " LINKPILOT_JOB_COLUMNS
    " FROM jobs WHERE (?1 IS NULL OR state = ?1) "
    "AND (?2 IS NULL OR app = ?2) AND (?3 = 0 OR freeze_deferred = 1) ORDER BY id";
constexpr const char* kListAttempts =
    "SELECT a.job_id, a.attempt, a.at, a.outcome, a.detail FROM job_attempts AS a "
    "JOIN jobs AS j ON j.id = a.job_id WHERE (?1 IS NULL OR j.state = ?1) "
    "AND (?2 IS NULL OR j.app = ?2) AND (?3 = 0 OR j.freeze_deferred = 1) "
    "ORDER BY a.job_id, a.attempt";
// The next number of the job's history; the UPDATE of its transition has just matched it.
constexpr const char* kInsertAttempt =
    "INSERT INTO job_attempts (job_id, attempt, at, outcome, detail) "
    "SELECT ?1, COALESCE(MAX(attempt), 0) + 1, ?2, ?3, NULLIF(?4, '') FROM job_attempts "
    "WHERE job_id = ?1";
constexpr const char* kGetJob = "SELECT " LINKPILOT_JOB_COLUMNS " FROM jobs WHERE id = ?1";
constexpr const char* kJobState = "SELECT state FROM jobs WHERE id = ?1";
// The head of each app's queue (its oldest pending job), when the app has nothing running.
// Grouping the partial index jobs_pending_by_app reads only pending rows, already in app order
// (without INDEXED BY, SQLite prefers jobs_by_state and sorts every pending row).
#define LINKPILOT_APP_HEADS                                             \
    "(SELECT MIN(id) AS head FROM jobs INDEXED BY jobs_pending_by_app " \
    "WHERE state = 'pending' GROUP BY app) AS h "
constexpr const char* kRunnable =
    "SELECT " LINKPILOT_JOB_COLUMNS " FROM " LINKPILOT_APP_HEADS
    "JOIN jobs AS j ON j.id = h.head "
    "WHERE j.next_attempt_at <= ?1 "
    "AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = j.app AND r.state = 'running') "
    "ORDER BY j.id LIMIT ?2";
constexpr const char* kNextWakeup =
    "SELECT MIN(j.next_attempt_at) FROM " LINKPILOT_APP_HEADS
    "JOIN jobs AS j ON j.id = h.head "
    "WHERE NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = j.app AND r.state = 'running')";
constexpr const char* kAppHead = "SELECT " LINKPILOT_JOB_COLUMNS
                                 " FROM jobs WHERE app = ?1 AND state = 'pending' "
                                 "ORDER BY id LIMIT 1";
constexpr const char* kAppRunning = "SELECT id FROM jobs WHERE app = ?1 AND state = 'running'";
constexpr const char* kMarkRunning =
    "UPDATE jobs SET state = 'running', freeze_deferred = 0, updated_at = ?2 "
    "WHERE id = ?1 AND state = 'pending'";
constexpr const char* kComplete =
    "UPDATE jobs SET state = 'done', attempts = attempts + 1, last_error = NULL, "
    "note = NULLIF(?2, ''), updated_at = ?3 WHERE id = ?1 AND state = 'running'";
constexpr const char* kFail =
    "UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = ?2, "
    "updated_at = ?3 WHERE id = ?1 AND state = 'running'";
constexpr const char* kReschedule =
    "UPDATE jobs SET state = 'pending', attempts = attempts + 1, last_error = ?2, "
    "next_attempt_at = ?3, updated_at = ?4 WHERE id = ?1 AND state = 'running'";
constexpr const char* kDefer =
    "UPDATE jobs SET state = 'pending', next_attempt_at = ?2, note = NULLIF(?3, ''), "
    "freeze_deferred = 1, updated_at = ?4 WHERE id = ?1 AND state = 'running'";
constexpr const char* kSkip =
    "UPDATE jobs SET state = 'done', last_error = NULL, note = NULLIF(?2, ''), updated_at = ?3 "
    "WHERE id = ?1 AND state = 'running'";
constexpr const char* kRetry =
    "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = ?2, updated_at = ?2 "
    "WHERE id = ?1 AND state = 'failed'";
// Not the job the executor may hand its app's slot to without a claim (Store::cancel): its
// app's oldest pending job, due and not debounced, while the app has a job running.
constexpr const char* kCancel =
    "UPDATE jobs SET state = 'cancelled', freeze_deferred = 0, note = ?2, updated_at = ?3 "
    "WHERE id = ?1 AND state = 'pending' AND NOT (next_attempt_at <= ?3 "
    "AND debounce_key IS NULL "
    "AND id = (SELECT MIN(h.id) FROM jobs AS h WHERE h.app = jobs.app AND h.state = 'pending') "
    "AND EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = jobs.app AND r.state = 'running'))";
constexpr const char* kRunNow =
    "UPDATE jobs SET next_attempt_at = ?4, freeze_deferred = 0, "
    "ignore_freeze = MAX(ignore_freeze, ?2), note = ?3, updated_at = ?4 "
    "WHERE id = ?1 AND state = 'pending'";
constexpr const char* kRedefer =
    "UPDATE jobs SET next_attempt_at = ?2, freeze_deferred = (?2 > ?4), note = ?3, "
    "updated_at = ?4 WHERE id = ?1 AND state = 'pending' AND freeze_deferred = 1";
constexpr const char* kRecover =
    "UPDATE jobs SET state = 'pending', updated_at = ?1 WHERE state = 'running'";
constexpr const char* kGetDelivery =
    "SELECT id, provider, event, repo, received_at, status, payload, payload_sha256, "
    "event_json, verdicts_json, config_fingerprint FROM deliveries WHERE id = ?1 "
    "ORDER BY received_at DESC LIMIT 1";
constexpr const char* kPrunePayloads =
    "UPDATE deliveries SET payload = NULL WHERE payload IS NOT NULL AND received_at < ?1";
constexpr const char* kCountJobs =
    "SELECT state, action, COUNT(*) FROM jobs GROUP BY state, action ORDER BY state, action";
constexpr const char* kOldestPending = "SELECT MIN(created_at) FROM jobs WHERE state = 'pending'";
constexpr const char* kHasVersionTable =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
constexpr const char* kGetVersion = "SELECT MAX(version) FROM schema_version";

#undef LINKPILOT_APP_HEADS
#undef LINKPILOT_JOB_COLUMNS

// ---------------------------------------------------------------------------------------------

using detail::from_ms;
using detail::to_ms;

StoreError::Kind kind_of(int rc) {
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return StoreError::Kind::busy;
        case SQLITE_FULL:
            return StoreError::Kind::full;
        case SQLITE_READONLY:
            return StoreError::Kind::readonly;
        case SQLITE_IOERR:
            return StoreError::Kind::io;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return StoreError::Kind::corrupt;
        case SQLITE_CONSTRAINT:
        case SQLITE_MISMATCH:
            return StoreError::Kind::invalid;
        default:
            return StoreError::Kind::other;
    }
}

// The errno of the last failed read, write or sync on the WAL (or rollback journal), else on the
// database file. sqlite3_system_errno() alone misses these: SQLite records it only for some
// error paths, and a failed WAL write during COMMIT leaves it 0.
int file_errno(sqlite3* db) {
    int err = 0;
    sqlite3_file* journal = nullptr;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &journal) == SQLITE_OK &&
        journal != nullptr && journal->pMethods != nullptr) {
        journal->pMethods->xFileControl(journal, SQLITE_FCNTL_LAST_ERRNO, &err);
    }
    if (err == 0) {
        sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &err);
    }
    return err;
}

// The operating system's reason behind a failed file operation, which SQLite's own message
// ("disk I/O error", "unable to open database file") leaves out: a read-only file system and a
// full disk need different fixes. 0 when `rc` is not a file error or the reason is unknown.
int system_errno(sqlite3* db, int rc) {
    switch (rc & 0xff) {
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_FULL:
        case SQLITE_READONLY:
            if (db == nullptr) {
                return 0;
            }
            if (const int err = sqlite3_system_errno(db); err != 0) {
                return err;
            }
            return file_errno(db);
        default:
            return 0;
    }
}

// A failure whose operating-system cause is `os`: a read-only file system and a full disk (or
// quota, or file size limit) have kinds of their own, as they need different fixes; any other
// cause keeps `otherwise`.
StoreError::Kind kind_of_errno(int os, StoreError::Kind otherwise) {
    if (os == EROFS) {
        return StoreError::Kind::readonly;
    }
    if (os == ENOSPC || os == EDQUOT || os == EFBIG) {
        return StoreError::Kind::full;
    }
    return otherwise;
}

// `message` with the operating system's reason added, classified by both.
Unexpected<StoreError> with_reason(sqlite3* db, int rc, std::string message) {
    auto kind = kind_of(rc);
    if (const int os = system_errno(db, rc); os != 0) {
        message += " (" + std::generic_category().message(os) + ")";
        kind = kind_of_errno(os, kind);
    }
    return Unexpected{StoreError{kind, std::move(message)}};
}

Unexpected<StoreError> sqlite_error(sqlite3* db, int rc, std::string_view what) {
    std::string message{what};
    message += ": ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return with_reason(db, rc, std::move(message));
}

Unexpected<StoreError> error(StoreError::Kind kind, std::string message) {
    return Unexpected{StoreError{kind, std::move(message)}};
}

struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// One use of a cached statement: bind, step, read columns; reset on destruction so the cached
// statement is ready (and holds no read lock) for its next use.
class Query {
  public:
    Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    ~Query() {
        if (stmt_ != nullptr) {
            sqlite3_reset(stmt_);
            sqlite3_clear_bindings(stmt_);
        }
    }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    Query(Query&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
    Query& operator=(Query&&) = delete;

    Query& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    Query& bind(int i, TimePoint t) { return bind(i, to_ms(t)); }
    // An empty view binds '' (a null data pointer would bind NULL).
    Query& bind(int i, std::string_view v) {
        sqlite3_bind_text(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                          SQLITE_TRANSIENT);
        return *this;
    }
    Query& bind(int i, const char* v) { return bind(i, std::string_view{v}); }
    Query& bind(int i, const std::string& v) { return bind(i, std::string_view{v}); }
    Query& bind(int i, const std::optional<std::string>& v) {
        if (!v) {
            sqlite3_bind_null(stmt_, i);
            return *this;
        }
        return bind(i, std::string_view{*v});
    }
    Query& bind_blob(int i, std::string_view v) {
        sqlite3_bind_blob64(stmt_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT);
        return *this;
    }

    int step_raw() { return sqlite3_step(stmt_); }

    // true: a row is available; false: done.
    Result<bool> step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc == SQLITE_DONE) {
            return false;
        }
        return sqlite_error(db_, sqlite3_extended_errcode(db_), "sqlite step");
    }
    // For statements without rows: the number of rows changed.
    Result<std::int64_t> run() {
        auto r = step();
        if (!r) {
            return Unexpected{r.error()};
        }
        return static_cast<std::int64_t>(sqlite3_changes64(db_));
    }

    [[nodiscard]] bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
    [[nodiscard]] std::int64_t int64(int c) const { return sqlite3_column_int64(stmt_, c); }
    [[nodiscard]] TimePoint time(int c) const { return from_ms(int64(c)); }
    [[nodiscard]] std::string text(int c) const {
        const auto* p = sqlite3_column_blob(stmt_, c);
        const int n = sqlite3_column_bytes(stmt_, c);
        return p == nullptr ? std::string{} : std::string(static_cast<const char*>(p), n);
    }
    [[nodiscard]] std::optional<std::string> opt_text(int c) const {
        if (is_null(c)) {
            return std::nullopt;
        }
        return text(c);
    }

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

Job read_job(const Query& q) {
    Job j;
    j.id = q.int64(0);
    j.delivery_id = q.text(1);
    j.provider = q.text(2);
    j.rule = q.text(3);
    j.action = q.text(4);
    j.app = q.text(5);
    j.args_json = q.text(6);
    j.state = q.text(7);
    j.attempts = static_cast<std::int32_t>(q.int64(8));
    j.next_attempt_at = q.time(9);
    j.last_error = q.opt_text(10);
    j.note = q.opt_text(11);
    j.debounce_key = q.opt_text(12);
    j.created_at = q.time(13);
    j.updated_at = q.time(14);
    j.freeze_deferred = q.int64(15) != 0;
    j.ignore_freeze = q.int64(16) != 0;
    return j;
}

// The sweep lock (Store::try_lock_sweep) of a SQLite state: an exclusive, non-blocking flock(2)
// on "<database>.sweep.lock" beside the database. A lock file rather than a lease row because
// the kernel drops the lock when its holder goes, however it goes (unlock, close, crash,
// SIGKILL): no lease to renew during a long sweep, no expiry to tune, no stale lock after a
// crash, and no write transaction held against the daemon's ingress. flock rather than fcntl
// locks: a flock belongs to the open file description, so two stores in one process exclude
// each other too, and closing some other descriptor of the file does not drop it. Like WAL
// itself, it needs the processes on one machine (a local file system).
// The holder writes to_string(SweepHolder) into the file once it has the lock, for whoever it
// refuses; the file stays (removing it would let two processes lock two different files).
class SweepLockFile {
  public:
    SweepLockFile() = default;
    SweepLockFile(const SweepLockFile&) = delete;
    SweepLockFile& operator=(const SweepLockFile&) = delete;
    SweepLockFile(SweepLockFile&&) = delete;
    SweepLockFile& operator=(SweepLockFile&&) = delete;
    ~SweepLockFile() { (void)unlock(); }

    Result<SweepLock> try_lock(const std::string& path, const SweepHolder& self) {
        if (held_) {
            return SweepLock{.taken = true, .holder = {}};
        }
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            return os_error(errno, "opening the sweep lock " + path);
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int os = errno;
            auto holder = os == EWOULDBLOCK ? read_holder(fd) : std::string{};
            ::close(fd);
            if (os == EWOULDBLOCK) {
                return SweepLock{.taken = false, .holder = std::move(holder)};
            }
            return os_error(os, "locking " + path);
        }
        fd_ = fd;
        held_ = true;
        // Emptied first, so a reader between the two calls finds no line rather than a mix of
        // this holder and a crashed one.
        const std::string line = to_string(self) + "\n";
        if (::ftruncate(fd_, 0) != 0 ||
            ::pwrite(fd_, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
            const int os = errno;
            (void)unlock();
            return os_error(os, "writing the sweep lock's holder into " + path);
        }
        return SweepLock{.taken = true, .holder = {}};
    }

    // Empties the file (the holder is gone) and lets go. Closing alone would release it too.
    Result<Ok> unlock() {
        if (!held_) {
            return Ok{};
        }
        held_ = false;
        (void)::ftruncate(fd_, 0);
        const int unlocked = ::flock(fd_, LOCK_UN);
        const int os = errno;
        ::close(fd_);
        fd_ = -1;
        if (unlocked != 0) {
            return os_error(os, "unlocking the sweep lock");
        }
        return Ok{};
    }

  private:
    static Unexpected<StoreError> os_error(int os, const std::string& what) {
        return error(kind_of_errno(os, StoreError::Kind::io),
                     what + ": " + std::generic_category().message(os));
    }

    // The holder's line. Only a whole line counts: none yet, or half written, is "unknown".
    static std::string read_holder(int fd) {
        std::array<char, 512> buf{};
        const auto n = ::pread(fd, buf.data(), buf.size(), 0);
        const std::string_view text(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
        const auto end = text.find('\n');
        if (end == std::string_view::npos || end == 0) {
            return "another linkpilot process (it has not written who it is yet)";
        }
        std::string line(text.substr(0, end));
        std::replace_if(
            line.begin(), line.end(),
            [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; }, '?');
        return line;
    }

    int fd_ = -1;
    bool held_ = false;
};

class SqliteStore final : public Store {
  public:
    SqliteStore(DbPtr db, bool read_only) : db_(std::move(db)), read_only_(read_only) {}

    ~SqliteStore() override {
        // Statements first: closing a connection with live statements would leak it.
        stmts_.clear();
        db_.reset();
    }

    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;
    SqliteStore(SqliteStore&&) = delete;
    SqliteStore& operator=(SqliteStore&&) = delete;

    Result<Ok> configure(std::chrono::milliseconds busy_timeout) {
        sqlite3_busy_timeout(db_.get(), static_cast<int>(busy_timeout.count()));
        sqlite3_extended_result_codes(db_.get(), 1);
        if (!read_only_) {
            // WAL lets `linkpilot jobs` read while the daemon writes; FULL syncs the WAL on
            // every commit so an answered 202 survives power loss.
            if (auto r = exec("PRAGMA journal_mode = WAL"); !r) {
                return r;
            }
        }
        if (auto r = exec("PRAGMA synchronous = FULL"); !r) {
            return r;
        }
        return exec("PRAGMA foreign_keys = ON");
    }

    Result<AcceptResult> accept(const NewDelivery& delivery,
                                const std::vector<NewJob>& jobs) override {
        if (auto r = command("BEGIN IMMEDIATE"); !r) {
            return Unexpected{r.error()};
        }
        auto result = accept_one(delivery, jobs);
        if (!result) {
            rollback();
            return result;
        }
        if (auto r = command("COMMIT"); !r) {
            rollback();
            return Unexpected{r.error()};
        }
        return result;
    }

    std::vector<Result<AcceptResult>> accept_batch(const std::vector<AcceptItem>& items) override {
        auto all_failed = [&](const StoreError& e) {
            return std::vector<Result<AcceptResult>>(items.size(), Unexpected{e});
        };
        if (items.empty()) {
            return {};
        }
        if (auto r = command("BEGIN IMMEDIATE"); !r) {
            return all_failed(r.error());
        }
        std::vector<Result<AcceptResult>> out;
        out.reserve(items.size());
        for (const auto& [delivery, jobs] : items) {
            // A savepoint per item so one bad request does not spoil the batch.
            if (auto r = command("SAVEPOINT item"); !r) {
                rollback();
                return all_failed(r.error());
            }
            auto result = accept_one(delivery, jobs);
            if (!result && result.error().kind != StoreError::Kind::invalid) {
                rollback();
                return all_failed(result.error());
            }
            if (!result) {
                if (auto r = command("ROLLBACK TO item"); !r) {
                    rollback();
                    return all_failed(r.error());
                }
            }
            if (auto r = command("RELEASE item"); !r) {
                rollback();
                return all_failed(r.error());
            }
            out.push_back(std::move(result));
        }
        if (auto r = command("COMMIT"); !r) {
            rollback();
            return all_failed(r.error());
        }
        return out;
    }

    Result<std::vector<Job>> list_jobs(const JobFilter& filter) override {
        auto q = query(kListJobs);
        if (!q) {
            return Unexpected{q.error()};
        }
        q->bind(1, filter.state)
            .bind(2, filter.app)
            .bind(3, std::int64_t{filter.freeze_deferred_only ? 1 : 0});
        return read_jobs(*q);
    }

    Result<std::vector<Attempt>> list_attempts(const JobFilter& filter) override {
        auto q = query(kListAttempts);
        if (!q) {
            return Unexpected{q.error()};
        }
        q->bind(1, filter.state)
            .bind(2, filter.app)
            .bind(3, std::int64_t{filter.freeze_deferred_only ? 1 : 0});
        std::vector<Attempt> out;
        for (;;) {
            auto row = q->step();
            if (!row) {
                return Unexpected{row.error()};
            }
            if (!*row) {
                return out;
            }
            out.push_back(Attempt{q->int64(0), static_cast<std::int32_t>(q->int64(1)), q->time(2),
                                  q->text(3), q->opt_text(4)});
        }
    }

    Result<std::optional<Job>> get_job(std::int64_t id) override { return one_job(kGetJob, id); }

    Result<std::vector<Job>> claim_runnable(TimePoint now, std::size_t limit) override {
        if (limit == 0) {
            return std::vector<Job>{};
        }
        if (auto r = command("BEGIN IMMEDIATE"); !r) {
            return Unexpected{r.error()};
        }
        auto claimed = claim_in_transaction(now, limit);
        if (!claimed) {
            rollback();
            return claimed;
        }
        if (auto r = command("COMMIT"); !r) {
            rollback();
            return Unexpected{r.error()};
        }
        return claimed;
    }

    Result<SettleResult> settle(const std::vector<Transition>& transitions,
                                const std::vector<std::string>& named, TimePoint now,
                                std::size_t claim_limit, ClaimScope scope) override {
        if (transitions.empty() && claim_limit == 0) {
            return SettleResult{};
        }
        // Job outcomes and claims commit without waiting for the disk (WAL, synchronous =
        // NORMAL): a killed process loses nothing (the WAL is in the OS's cache), and only a
        // power loss can undo the last few, which puts those jobs back to running -> pending at
        // the next start: they run again, as at-least-once already allows. Deliveries keep
        // synchronous = FULL: the 202 promises they are on disk. This keeps an fsync out of
        // every job's path (bench/dispatch).
        if (auto r = command("PRAGMA synchronous = NORMAL"); !r) {
            return Unexpected{r.error()};
        }
        struct RestoreFull {
            SqliteStore& store;
            ~RestoreFull() { (void)store.command("PRAGMA synchronous = FULL"); }
        } restore{*this};
        if (auto r = command("BEGIN IMMEDIATE"); !r) {
            return Unexpected{r.error()};
        }
        SettleResult out;
        out.transitions.reserve(transitions.size());
        out.handovers.reserve(transitions.size());
        for (const auto& t : transitions) {
            auto r = apply(t, now);
            if (!r && r.error().kind != StoreError::Kind::not_found &&
                r.error().kind != StoreError::Kind::invalid_state) {
                rollback();
                return Unexpected{r.error()};
            }
            out.transitions.push_back(std::move(r));
            auto h = hand_over(t, now, out);
            if (!h && h.error().kind != StoreError::Kind::invalid_state) {
                rollback();
                return Unexpected{h.error()};
            }
            out.handovers.push_back(std::move(h));
        }
        if (claim_limit > 0 && scope == ClaimScope::all) {
            auto claimed = claim_in_transaction(now, claim_limit);
            if (!claimed) {
                rollback();
                return Unexpected{claimed.error()};
            }
            out.claimed = std::move(*claimed);
            for (const auto& j : out.claimed) {
                if (auto r = add_next(j.app, j.id, now, out); !r) {
                    rollback();
                    return Unexpected{r.error()};
                }
            }
            auto next = next_wakeup();
            if (!next) {
                rollback();
                return Unexpected{next.error()};
            }
            out.next_wakeup = *next;
        } else if (claim_limit > 0) {
            for (const auto app : detail::apps_to_claim(transitions, named)) {
                if (out.claimed.size() >= claim_limit) {
                    break;
                }
                if (auto r = claim_app_head(app, now, out); !r) {
                    rollback();
                    return Unexpected{r.error()};
                }
            }
            std::sort(out.claimed.begin(), out.claimed.end(),
                      [](const Job& a, const Job& b) { return a.id < b.id; });
        }
        if (auto r = command("COMMIT"); !r) {
            rollback();
            return Unexpected{r.error()};
        }
        return out;
    }

    Result<Ok> complete(std::int64_t id, std::string_view note, TimePoint now) override {
        return atomically([&]() -> Result<Ok> {
            if (auto r = transition(id, kStateRunning, kComplete,
                                    [&](Query& q) { q.bind(2, note).bind(3, now); });
                !r) {
                return r;
            }
            return record_attempt(id, now, kStateDone, note);
        });
    }

    Result<Ok> fail(std::int64_t id, std::string_view err, TimePoint now) override {
        return atomically([&]() -> Result<Ok> {
            if (auto r = transition(id, kStateRunning, kFail,
                                    [&](Query& q) { q.bind(2, err).bind(3, now); });
                !r) {
                return r;
            }
            return record_attempt(id, now, kStateFailed, err);
        });
    }

    Result<Ok> reschedule(std::int64_t id, std::string_view err, TimePoint next_attempt_at,
                          TimePoint now) override {
        return atomically([&]() -> Result<Ok> {
            if (auto r = transition(
                    id, kStateRunning, kReschedule,
                    [&](Query& q) { q.bind(2, err).bind(3, next_attempt_at).bind(4, now); });
                !r) {
                return r;
            }
            return record_attempt(id, now, kOutcomeRescheduled, err);
        });
    }

    Result<Ok> defer(std::int64_t id, TimePoint until, std::string_view note,
                     TimePoint now) override {
        return transition(id, kStateRunning, kDefer,
                          [&](Query& q) { q.bind(2, until).bind(3, note).bind(4, now); });
    }

    Result<Ok> skip(std::int64_t id, std::string_view note, TimePoint now) override {
        return transition(id, kStateRunning, kSkip,
                          [&](Query& q) { q.bind(2, note).bind(3, now); });
    }

    Result<Ok> retry(std::int64_t id, TimePoint now) override {
        return transition(id, kStateFailed, kRetry, [&](Query& q) { q.bind(2, now); });
    }

    Result<Ok> cancel(std::int64_t id, std::string_view note, TimePoint now) override {
        auto r =
            transition(id, kStatePending, kCancel, [&](Query& q) { q.bind(2, note).bind(3, now); });
        if (r || r.error().kind != StoreError::Kind::invalid_state) {
            return r;
        }
        // Still pending: the guard of kCancel refused it.
        auto job = get_job(id);
        if (!job) {
            return Unexpected{job.error()};
        }
        if (!*job || (*job)->state != kStatePending) {
            return r;
        }
        auto running = query(kAppRunning);
        if (!running) {
            return Unexpected{running.error()};
        }
        running->bind(1, (*job)->app);
        auto row = running->step();
        if (!row) {
            return Unexpected{row.error()};
        }
        return Unexpected{detail::cancel_refused(**job, *row ? running->int64(0) : 0)};
    }

    Result<Ok> run_now(std::int64_t id, bool ignore_freeze, std::string_view note,
                       TimePoint now) override {
        return transition(id, kStatePending, kRunNow, [&](Query& q) {
            q.bind(2, std::int64_t{ignore_freeze ? 1 : 0}).bind(3, note).bind(4, now);
        });
    }

    Result<Ok> redefer(std::int64_t id, TimePoint until, std::string_view note,
                       TimePoint now) override {
        return transition(id, detail::kFreezeDeferred, kRedefer,
                          [&](Query& q) { q.bind(2, until).bind(3, note).bind(4, now); });
    }

    Result<std::int64_t> recover_running(TimePoint now) override {
        auto q = query(kRecover);
        if (!q) {
            return Unexpected{q.error()};
        }
        q->bind(1, now);
        return q->run();
    }

    Result<std::optional<TimePoint>> next_wakeup() override {
        auto q = query(kNextWakeup);
        if (!q) {
            return Unexpected{q.error()};
        }
        auto row = q->step();
        if (!row) {
            return Unexpected{row.error()};
        }
        if (!*row || q->is_null(0)) {
            return std::optional<TimePoint>{};
        }
        return std::optional<TimePoint>{q->time(0)};
    }

    Result<std::optional<Delivery>> get_delivery(std::string_view id) override {
        auto q = query(kGetDelivery);
        if (!q) {
            return Unexpected{q.error()};
        }
        q->bind(1, id);
        auto row = q->step();
        if (!row) {
            return Unexpected{row.error()};
        }
        if (!*row) {
            return std::optional<Delivery>{};
        }
        Delivery d;
        d.id = q->text(0);
        d.provider = q->text(1);
        d.event = q->text(2);
        d.repo = q->text(3);
        d.received_at = q->time(4);
        d.status = q->text(5);
        d.payload = q->opt_text(6);
        d.payload_sha256 = q->text(7);
        d.event_json = q->text(8);
        d.verdicts_json = q->text(9);
        d.config_fingerprint = q->text(10);
        return std::optional<Delivery>{std::move(d)};
    }

    Result<std::int64_t> prune_payloads(TimePoint older_than) override {
        auto q = query(kPrunePayloads);
        if (!q) {
            return Unexpected{q.error()};
        }
        q->bind(1, older_than);
        return q->run();
    }

    Result<Stats> stats() override {
        Stats s;
        {
            auto q = query(kCountJobs);
            if (!q) {
                return Unexpected{q.error()};
            }
            for (;;) {
                auto row = q->step();
                if (!row) {
                    return Unexpected{row.error()};
                }
                if (!*row) {
                    break;
                }
                s.jobs.push_back(JobCount{q->text(0), q->text(1), q->int64(2)});
            }
        }
        auto q = query(kOldestPending);
        if (!q) {
            return Unexpected{q.error()};
        }
        auto row = q->step();
        if (!row) {
            return Unexpected{row.error()};
        }
        if (*row && !q->is_null(0)) {
            s.oldest_pending_created_at = q->time(0);
        }
        return s;
    }

    // `serve` and `linkpilot prune` may share one file: see SweepLockFile.
    Result<SweepLock> try_lock_sweep(const SweepHolder& self) override {
        if (read_only_) {
            return error(StoreError::Kind::readonly,
                         "the state store is open read-only: no sweep lock");
        }
        const char* file = sqlite3_db_filename(db_.get(), "main");
        if (file == nullptr || *file == '\0') {
            return SweepLock{.taken = true,
                             .holder = {}};  // in memory: no other process can share it
        }
        return sweep_lock_.try_lock(std::string{file} + ".sweep.lock", self);
    }
    Result<Ok> unlock_sweep() override { return sweep_lock_.unlock(); }

    Result<MigrateResult> migrate() override {
        auto current = schema_version();
        if (!current) {
            return Unexpected{current.error()};
        }
        if (*current > kLatestVersion) {
            return error(StoreError::Kind::other, "database schema version " +
                                                      std::to_string(*current) +
                                                      " is newer than this linkpilot knows (" +
                                                      std::to_string(kLatestVersion) + ")");
        }
        if (*current == kLatestVersion) {
            // Nothing to write: also the path a read-only connection takes.
            return MigrateResult{*current, *current};
        }
        if (read_only_) {
            return error(StoreError::Kind::readonly,
                         "database schema needs migrating but it is opened read-only");
        }
        if (auto r = exec("BEGIN IMMEDIATE"); !r) {
            return Unexpected{r.error()};
        }
        auto result = migrate_in_transaction();
        if (!result) {
            rollback();
            return result;
        }
        if (auto r = exec("COMMIT"); !r) {
            rollback();
            return Unexpected{r.error()};
        }
        return result;
    }

    Result<int> schema_version() override {
        auto has = query(kHasVersionTable);
        if (!has) {
            return Unexpected{has.error()};
        }
        auto row = has->step();
        if (!row) {
            return Unexpected{row.error()};
        }
        if (!*row || has->int64(0) == 0) {
            return 0;
        }
        // Not a cached statement: it cannot be prepared before the table exists.
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v2(db_.get(), kGetVersion, -1, &raw, nullptr);
        StmtPtr stmt{raw};
        if (rc != SQLITE_OK) {
            return sqlite_error(db_.get(), rc, "reading schema version");
        }
        Query q{db_.get(), stmt.get()};
        auto vrow = q.step();
        if (!vrow) {
            return Unexpected{vrow.error()};
        }
        if (!*vrow || q.is_null(0)) {
            return 0;
        }
        return static_cast<int>(q.int64(0));
    }

  private:
    Result<Ok> exec(const char* sql) {
        char* msg = nullptr;
        const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &msg);
        if (rc != SQLITE_OK) {
            std::string text = msg != nullptr ? msg : sqlite3_errstr(rc);
            sqlite3_free(msg);
            return with_reason(db_.get(), sqlite3_extended_errcode(db_.get()), std::move(text));
        }
        return Ok{};
    }

    // One transaction-control statement or pragma, prepared once: the hot paths run four per
    // transaction, and sqlite3_exec would parse each of them every time.
    Result<Ok> command(const char* sql) {
        auto q = query(sql);
        if (!q) {
            return Unexpected{q.error()};
        }
        if (const int rc = q->step_raw(); rc != SQLITE_DONE && rc != SQLITE_ROW) {
            const int code = sqlite3_extended_errcode(db_.get());
            return with_reason(db_.get(), code, sqlite3_errmsg(db_.get()));
        }
        return Ok{};
    }

    void rollback() {
        // Fails harmlessly when SQLite already rolled back (e.g. after SQLITE_FULL).
        if (sqlite3_get_autocommit(db_.get()) == 0) {
            sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }

    Result<Query> query(const char* sql) {
        auto it = stmts_.find(sql);
        if (it == stmts_.end()) {
            sqlite3_stmt* raw = nullptr;
            const int rc =
                sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
            StmtPtr stmt{raw};
            if (rc != SQLITE_OK) {
                return sqlite_error(db_.get(), rc, "preparing statement");
            }
            it = stmts_.emplace(sql, std::move(stmt)).first;
        }
        return Query{db_.get(), it->second.get()};
    }

    static Result<std::vector<Job>> read_jobs(Query& q) {
        std::vector<Job> jobs;
        for (;;) {
            auto row = q.step();
            if (!row) {
                return Unexpected{row.error()};
            }
            if (!*row) {
                return jobs;
            }
            jobs.push_back(read_job(q));
        }
    }

    // Inside an open transaction.
    Result<AcceptResult> accept_one(const NewDelivery& d, const std::vector<NewJob>& jobs) {
        if (auto wrong = detail::check_accept(d, jobs)) {
            return Unexpected{std::move(*wrong)};
        }
        // Never an empty hash in its place: the row would claim a payload it does not describe.
        const auto hash = sha256_hex(d.payload);
        if (!hash) {
            return error(StoreError::Kind::other,
                         "hashing the payload of delivery " + d.id + ": OpenSSL failed");
        }
        {
            auto q = query(kInsertDelivery);
            if (!q) {
                return Unexpected{q.error()};
            }
            q->bind(1, d.provider)
                .bind(2, d.id)
                .bind(3, d.event)
                .bind(4, d.repo)
                .bind(5, d.received_at)
                .bind(6, d.status)
                .bind_blob(7, d.payload)
                .bind(8, *hash)
                .bind(9, d.event_json)
                .bind(10, d.verdicts_json)
                .bind(11, d.config_fingerprint);
            auto changed = q->run();
            if (!changed) {
                return Unexpected{changed.error()};
            }
            if (*changed == 0) {
                return AcceptResult{true, {}};
            }
        }
        AcceptResult result;
        for (const auto& j : jobs) {
            const TimePoint next = detail::first_attempt_at(d, j);
            std::int64_t id = 0;
            {
                auto q = query(kInsertJob);
                if (!q) {
                    return Unexpected{q.error()};
                }
                q->bind(1, d.provider)
                    .bind(2, d.id)
                    .bind(3, j.rule)
                    .bind(4, j.action)
                    .bind(5, j.app)
                    .bind(6, j.args_json.empty() ? std::string_view{"{}"} : j.args_json)
                    .bind(7, next)
                    .bind(8, j.debounce_key)
                    .bind(9, d.received_at);
                if (auto r = q->run(); !r) {
                    return Unexpected{r.error()};
                }
                id = sqlite3_last_insert_rowid(db_.get());
            }
            if (j.debounce_key) {
                auto q = query(kSupersede);
                if (!q) {
                    return Unexpected{q.error()};
                }
                q->bind(1, id).bind(2, d.received_at).bind(3, *j.debounce_key);
                if (auto r = q->run(); !r) {
                    return Unexpected{r.error()};
                }
            }
            result.job_ids.push_back(id);
        }
        return result;
    }

    Result<std::vector<Job>> claim_in_transaction(TimePoint now, std::size_t limit) {
        std::vector<Job> jobs;
        {
            auto q = query(kRunnable);
            if (!q) {
                return Unexpected{q.error()};
            }
            q->bind(1, now).bind(2, static_cast<std::int64_t>(limit));
            auto read = read_jobs(*q);
            if (!read) {
                return read;
            }
            jobs = std::move(*read);
        }
        for (auto& j : jobs) {
            if (auto r = mark_running(j.id, now); !r) {
                return Unexpected{r.error()};
            }
            j.state = kStateRunning;
            j.updated_at = now;
        }
        return jobs;
    }

    // Claims `app`'s oldest pending job into `out` if it is due and the app has nothing
    // running; otherwise notes when it will be due.
    Result<Ok> claim_app_head(std::string_view app, TimePoint now, SettleResult& out) {
        {
            auto busy = query(kAppRunning);
            if (!busy) {
                return Unexpected{busy.error()};
            }
            busy->bind(1, app);
            auto row = busy->step();
            if (!row) {
                return Unexpected{row.error()};
            }
            if (*row) {
                return Ok{};
            }
        }
        auto found = app_head(app);
        if (!found) {
            return Unexpected{found.error()};
        }
        if (!*found) {
            return Ok{};
        }
        Job head = std::move(**found);
        if (head.next_attempt_at > now) {
            if (!out.next_wakeup || head.next_attempt_at < *out.next_wakeup) {
                out.next_wakeup = head.next_attempt_at;
            }
            return Ok{};
        }
        if (auto r = mark_running(head.id, now); !r) {
            return Unexpected{r.error()};
        }
        head.state = kStateRunning;
        head.updated_at = now;
        const auto id = head.id;
        out.claimed.push_back(std::move(head));
        return add_next(app, id, now, out);
    }

    // Marks `t.handover`, which the executor already started, running (see Transition).
    Result<Ok> hand_over(const Transition& t, TimePoint now, SettleResult& out) {
        if (t.handover == 0) {
            return Ok{};
        }
        auto marked = mark_running(t.handover, now);
        if (!marked) {
            return Unexpected{marked.error()};
        }
        if (!*marked) {
            return Unexpected{detail::handover_not_pending(t.handover)};
        }
        return add_next(t.app, t.handover, now, out);
    }

    // Marks pending job `id` running; false when it was not pending.
    Result<bool> mark_running(std::int64_t id, TimePoint now) {
        auto q = query(kMarkRunning);
        if (!q) {
            return Unexpected{q.error()};
        }
        q->bind(1, id).bind(2, now);
        auto changed = q->run();
        if (!changed) {
            return Unexpected{changed.error()};
        }
        return *changed > 0;
    }

    // The job `sql` selects with `arg` as ?1, if any.
    template <class Arg>
    Result<std::optional<Job>> one_job(const char* sql, const Arg& arg) {
        auto q = query(sql);
        if (!q) {
            return Unexpected{q.error()};
        }
        q->bind(1, arg);
        auto row = q->step();
        if (!row) {
            return Unexpected{row.error()};
        }
        if (!*row) {
            return std::optional<Job>{};
        }
        return std::optional<Job>{read_job(*q)};
    }

    // `app`'s oldest pending job, if any.
    Result<std::optional<Job>> app_head(std::string_view app) { return one_job(kAppHead, app); }

    // Adds `app`'s oldest pending job to out.next when it may follow job `after` unclaimed.
    Result<Ok> add_next(std::string_view app, std::int64_t after, TimePoint now,
                        SettleResult& out) {
        auto next = app_head(app);
        if (!next) {
            return Unexpected{next.error()};
        }
        if (*next && detail::may_follow(**next, now)) {
            out.next.push_back(NextJob{after, std::move(**next)});
        }
        return Ok{};
    }

    // Runs `fn` in a transaction of its own unless one is open (settle's), so a transition
    // and its history entry land together.
    template <class Fn>
    Result<Ok> atomically(Fn&& fn) {
        if (sqlite3_get_autocommit(db_.get()) == 0) {
            return fn();
        }
        if (auto r = command("BEGIN IMMEDIATE"); !r) {
            return r;
        }
        auto r = fn();
        if (!r) {
            rollback();
            return r;
        }
        if (auto c = command("COMMIT"); !c) {
            rollback();
            return c;
        }
        return r;
    }

    // Appends an attempt to job `id`'s history (see Attempt).
    Result<Ok> record_attempt(std::int64_t id, TimePoint at, std::string_view outcome,
                              std::string_view text) {
        auto q = query(kInsertAttempt);
        if (!q) {
            return Unexpected{q.error()};
        }
        q->bind(1, id).bind(2, at).bind(3, outcome).bind(4, text);
        if (auto r = q->run(); !r) {
            return Unexpected{r.error()};
        }
        return Ok{};
    }

    Result<Ok> apply(const Transition& t, TimePoint now) {
        switch (t.kind) {
            case Transition::Kind::complete:
                return complete(t.id, t.text, now);
            case Transition::Kind::fail:
                return fail(t.id, t.text, now);
            case Transition::Kind::reschedule:
                return reschedule(t.id, t.text, t.at, now);
            case Transition::Kind::defer:
                return defer(t.id, t.at, t.text, now);
            case Transition::Kind::skip:
                return skip(t.id, t.text, now);
        }
        return error(StoreError::Kind::invalid, "unknown transition");
    }

    template <class Bind>
    Result<Ok> transition(std::int64_t id, std::string_view from, const char* sql, Bind&& bind) {
        {
            auto q = query(sql);
            if (!q) {
                return Unexpected{q.error()};
            }
            q->bind(1, id);
            bind(*q);
            auto changed = q->run();
            if (!changed) {
                return Unexpected{changed.error()};
            }
            if (*changed > 0) {
                return Ok{};
            }
        }
        auto q = query(kJobState);
        if (!q) {
            return Unexpected{q.error()};
        }
        q->bind(1, id);
        auto row = q->step();
        if (!row) {
            return Unexpected{row.error()};
        }
        if (!*row) {
            return error(StoreError::Kind::not_found, "no job " + std::to_string(id));
        }
        return error(
            StoreError::Kind::invalid_state,
            "job " + std::to_string(id) + " is " + q->text(0) + ", not " + std::string{from});
    }

    Result<MigrateResult> migrate_in_transaction() {
        // Re-read under the write lock: another process may have migrated meanwhile.
        auto current = schema_version();
        if (!current) {
            return Unexpected{current.error()};
        }
        const int from = *current;
        if (auto r = exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            !r) {
            return Unexpected{r.error()};
        }
        for (int v = from; v < kLatestVersion; ++v) {
            if (auto r = exec(detail::kSqliteMigrations.at(static_cast<std::size_t>(v))); !r) {
                return Unexpected{StoreError{
                    r.error().kind,
                    "migration to version " + std::to_string(v + 1) + ": " + r.error().message}};
            }
        }
        const std::string set = "DELETE FROM schema_version; INSERT INTO schema_version VALUES (" +
                                std::to_string(kLatestVersion) + ")";
        if (auto r = exec(set.c_str()); !r) {
            return Unexpected{r.error()};
        }
        return MigrateResult{from, kLatestVersion};
    }

    DbPtr db_;
    bool read_only_;
    std::unordered_map<const char*, StmtPtr> stmts_;
    SweepLockFile sweep_lock_;
};

}  // namespace

int sqlite_latest_schema_version() { return kLatestVersion; }

Result<std::unique_ptr<Store>> open_sqlite(const SqliteOptions& options) {
    if (!options.read_only) {
        const auto dir = options.path.has_parent_path() ? options.path.parent_path()
                                                        : std::filesystem::path(".");
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            return error(kind_of_errno(ec.value(), StoreError::Kind::io),
                         "creating " + dir.string() + ": " + ec.message());
        }
        // SQLite creates its -wal and -shm files beside the database, so the directory must be
        // writable, not only the file. SQLite would fall back to a read-only open and then fail
        // with "unable to open database file" and a misleading errno (ENOENT); say the reason.
        if (::access(dir.c_str(), W_OK) != 0) {
            const int os = errno;
            return error(kind_of_errno(os, StoreError::Kind::io),
                         "opening " + options.path.string() + ": its directory " + dir.string() +
                             " is not writable (" + std::generic_category().message(os) + ")");
        }
    }
    const int flags =
        (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
        SQLITE_OPEN_NOMUTEX;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(options.path.c_str(), &raw, flags, nullptr);
    DbPtr db{raw};
    if (rc != SQLITE_OK) {
        return sqlite_error(db.get(), rc, "opening " + options.path.string());
    }
    auto store = std::make_unique<SqliteStore>(std::move(db), options.read_only);
    if (auto r = store->configure(options.busy_timeout); !r) {
        return Unexpected{StoreError{
            r.error().kind, "opening " + options.path.string() + ": " + r.error().message}};
    }
    if (auto r = store->migrate(); !r) {
        return Unexpected{r.error()};
    }
    return std::unique_ptr<Store>{std::move(store)};
}

}  // namespace linkpilot::store
