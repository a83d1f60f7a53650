#include "daemon/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <span>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "daemon/store/backend.hpp"
#include "daemon/store/schema_sqlite.hpp"

namespace linkpilot::store {
namespace {

using detail::Stmt;

// ---------------------------------------------------------------------------------------------
// Statements (backend.hpp's Stmt, with its parameters: SQLite leaves out the lease ones).
// ---------------------------------------------------------------------------------------------
#define LINKPILOT_JOB_COLUMNS                                                                \
    "id, delivery_id, provider, rule, action, app, args, state, attempts, next_attempt_at, " \
    "last_error, note, debounce_key, created_at, updated_at, freeze_deferred, ignore_freeze"
// The head of each app's queue (its oldest pending job), when the app has nothing running.
// Grouping the partial index jobs_pending_by_app reads only pending rows, already in app order
// (without INDEXED BY, SQLite prefers jobs_by_state and sorts every pending row).
#define LINKPILOT_APP_HEADS                                             \
    "(SELECT MIN(id) AS head FROM jobs INDEXED BY jobs_pending_by_app " \
    "WHERE state = 'pending' GROUP BY app) AS h "

// nullptr: a step SQLite does not need (backend.hpp says why for each).
const char* sqlite_sql(Stmt stmt) {
    switch (stmt) {
        case Stmt::insert_delivery:
            return "INSERT INTO deliveries (provider, id, event, repo, received_at, status, "
                   "payload, payload_sha256, event_json, verdicts_json, config_fingerprint) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                   "ON CONFLICT (provider, id) DO NOTHING";
        case Stmt::insert_delivery_and_job:
        case Stmt::lock_debounce_keys:
        case Stmt::claim_lock:
        case Stmt::renew_leases:
        case Stmt::expire_leases:
        case Stmt::lock_migrations:
        case Stmt::unlock_migrations:
            return nullptr;
        case Stmt::insert_job:
            return "INSERT INTO jobs (provider, delivery_id, rule, action, app, args, state, "
                   "attempts, next_attempt_at, debounce_key, created_at, updated_at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8, ?9, ?9) RETURNING id";
        case Stmt::supersede:
            return "UPDATE jobs SET state = 'done', note = 'superseded by job ' || ?1, "
                   "updated_at = ?2 "
                   "WHERE debounce_key = ?3 AND state = 'pending' AND attempts = 0 AND id < ?1";
        case Stmt::list_jobs:
            return "SELECT " LINKPILOT_JOB_COLUMNS
                   " FROM jobs WHERE (?1 IS NULL OR state = ?1) "
                   "AND (?2 IS NULL OR app = ?2) AND (?3 = 0 OR freeze_deferred = 1) ORDER BY id";
        case Stmt::list_attempts:
            return "SELECT a.job_id, a.attempt, a.at, a.outcome, a.detail FROM job_attempts AS a "
                   "JOIN jobs AS j ON j.id = a.job_id WHERE (?1 IS NULL OR j.state = ?1) "
                   "AND (?2 IS NULL OR j.app = ?2) AND (?3 = 0 OR j.freeze_deferred = 1) "
                   "ORDER BY a.job_id, a.attempt";
        case Stmt::insert_attempt:
            // The next number of the job's history; its transition has just matched it.
            return "INSERT INTO job_attempts (job_id, attempt, at, outcome, detail) "
                   "SELECT ?1, COALESCE(MAX(attempt), 0) + 1, ?2, ?3, NULLIF(?4, '') "
                   "FROM job_attempts WHERE job_id = ?1";
        case Stmt::get_job:
            return "SELECT " LINKPILOT_JOB_COLUMNS " FROM jobs WHERE id = ?1";
        case Stmt::job_state:
            return "SELECT state, NULL FROM jobs WHERE id = ?1";
        case Stmt::claim_runnable:
            return "UPDATE jobs SET state = 'running', freeze_deferred = 0, updated_at = ?1 "
                   "WHERE id IN (SELECT j.id FROM " LINKPILOT_APP_HEADS
                   "JOIN jobs AS j ON j.id = h.head WHERE j.next_attempt_at <= ?1 "
                   "AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = j.app "
                   "AND r.state = 'running') ORDER BY j.id LIMIT ?2) "
                   "RETURNING " LINKPILOT_JOB_COLUMNS;
        case Stmt::next_wakeup:
            return "SELECT MIN(j.next_attempt_at) FROM " LINKPILOT_APP_HEADS
                   "JOIN jobs AS j ON j.id = h.head "
                   "WHERE NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = j.app "
                   "AND r.state = 'running')";
        case Stmt::app_head:
            return "SELECT " LINKPILOT_JOB_COLUMNS
                   " FROM jobs WHERE app = ?1 AND state = 'pending' ORDER BY id LIMIT 1";
        case Stmt::app_running:
            return "SELECT id FROM jobs WHERE app = ?1 AND state = 'running' LIMIT 1";
        case Stmt::mark_running:
            return "UPDATE jobs SET state = 'running', freeze_deferred = 0, updated_at = ?4 "
                   "WHERE id = ?1 AND state = 'pending'";
        case Stmt::complete:
            return "UPDATE jobs SET state = 'done', attempts = attempts + 1, last_error = NULL, "
                   "note = NULLIF(?2, ''), updated_at = ?3 WHERE id = ?1 AND state = 'running'";
        case Stmt::fail:
            return "UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = ?2, "
                   "updated_at = ?3 WHERE id = ?1 AND state = 'running'";
        case Stmt::reschedule:
            return "UPDATE jobs SET state = 'pending', attempts = attempts + 1, last_error = ?2, "
                   "next_attempt_at = ?5, updated_at = ?3 WHERE id = ?1 AND state = 'running'";
        case Stmt::defer:
            return "UPDATE jobs SET state = 'pending', next_attempt_at = ?2, "
                   "note = NULLIF(?3, ''), freeze_deferred = 1, updated_at = ?4 "
                   "WHERE id = ?1 AND state = 'running'";
        case Stmt::skip:
            return "UPDATE jobs SET state = 'done', last_error = NULL, note = NULLIF(?2, ''), "
                   "updated_at = ?3 WHERE id = ?1 AND state = 'running'";
        case Stmt::retry:
            return "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = ?2, "
                   "updated_at = ?2 WHERE id = ?1 AND state = 'failed'";
        case Stmt::cancel:
            // Not the job the executor may hand its app's slot to without a claim
            // (Store::cancel): its app's oldest pending job, due and not debounced, while the
            // app has a job running.
            return "UPDATE jobs SET state = 'cancelled', freeze_deferred = 0, note = ?2, "
                   "updated_at = ?3 WHERE id = ?1 AND state = 'pending' "
                   "AND NOT (next_attempt_at <= ?3 AND debounce_key IS NULL "
                   "AND id = (SELECT MIN(h.id) FROM jobs AS h "
                   "WHERE h.app = jobs.app AND h.state = 'pending') "
                   "AND EXISTS (SELECT 1 FROM jobs AS r "
                   "WHERE r.app = jobs.app AND r.state = 'running'))";
        case Stmt::run_now:
            return "UPDATE jobs SET next_attempt_at = ?4, freeze_deferred = 0, "
                   "ignore_freeze = MAX(ignore_freeze, ?2), note = ?3, updated_at = ?4 "
                   "WHERE id = ?1 AND state = 'pending'";
        case Stmt::redefer:
            return "UPDATE jobs SET next_attempt_at = ?2, freeze_deferred = (?2 > ?4), "
                   "note = ?3, updated_at = ?4 "
                   "WHERE id = ?1 AND state = 'pending' AND freeze_deferred = 1";
        case Stmt::recover:
            return "UPDATE jobs SET state = 'pending', updated_at = ?1 WHERE state = 'running'";
        case Stmt::get_delivery:
            return "SELECT id, provider, event, repo, received_at, status, payload, "
                   "payload_sha256, event_json, verdicts_json, config_fingerprint "
                   "FROM deliveries WHERE id = ?1 ORDER BY received_at DESC LIMIT 1";
        case Stmt::prune_payloads:
            return "UPDATE deliveries SET payload = NULL "
                   "WHERE payload IS NOT NULL AND received_at < ?1";
        case Stmt::count_jobs:
            return "SELECT state, action, COUNT(*) FROM jobs GROUP BY state, action "
                   "ORDER BY state, action";
        case Stmt::oldest_pending:
            return "SELECT MIN(created_at) FROM jobs WHERE state = 'pending'";
        case Stmt::has_version_table:
            return "SELECT COUNT(*) FROM sqlite_master "
                   "WHERE type = 'table' AND name = 'schema_version'";
        case Stmt::get_version:
            return "SELECT MAX(version) FROM schema_version";
    }
    return nullptr;
}

#undef LINKPILOT_APP_HEADS
#undef LINKPILOT_JOB_COLUMNS

// ---------------------------------------------------------------------------------------------

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
    Result<void> unlock() {
        if (!held_) {
            return {};
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
        return {};
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

// Resets a cached statement when its use ends, so it is ready (and holds no read lock) for the
// next one.
class Reset {
  public:
    explicit Reset(sqlite3_stmt* stmt) : stmt_(stmt) {}
    ~Reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    Reset(const Reset&) = delete;
    Reset& operator=(const Reset&) = delete;
    Reset(Reset&&) = delete;
    Reset& operator=(Reset&&) = delete;

  private:
    sqlite3_stmt* stmt_;
};

// Binds `p` to parameter `i`: an empty text or blob binds '' (a null data pointer would bind
// NULL).
int bind(sqlite3_stmt* stmt, int i, const detail::Param& p) {
    using Type = detail::Param::Type;
    switch (p.type()) {
        case Type::null:
            return sqlite3_bind_null(stmt, i);
        case Type::integer:
            return sqlite3_bind_int64(stmt, i, p.integer());
        case Type::text:
            return sqlite3_bind_text64(stmt, i, p.text().empty() ? "" : p.text().data(),
                                       p.text().size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        case Type::blob:
            return sqlite3_bind_blob64(stmt, i, p.text().empty() ? "" : p.text().data(),
                                       p.text().size(), SQLITE_TRANSIENT);
        case Type::text_array:
            break;  // no SQLite statement takes one
    }
    return SQLITE_MISMATCH;
}

detail::Cell column(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
            return std::monostate{};
        case SQLITE_INTEGER:
        case SQLITE_FLOAT:
            return static_cast<std::int64_t>(sqlite3_column_int64(stmt, c));
        default: {
            const auto* p = sqlite3_column_blob(stmt, c);
            const int n = sqlite3_column_bytes(stmt, c);
            return p == nullptr
                       ? std::string{}
                       : std::string(static_cast<const char*>(p), static_cast<std::size_t>(n));
        }
    }
}

class SqliteBackend final : public detail::Backend {
  public:
    SqliteBackend(DbPtr db, bool read_only) : db_(std::move(db)), read_only_(read_only) {}

    ~SqliteBackend() override {
        // Statements first: closing a connection with live statements would leak it.
        stmts_.clear();
        commands_.clear();
        db_.reset();
    }

    SqliteBackend(const SqliteBackend&) = delete;
    SqliteBackend& operator=(const SqliteBackend&) = delete;
    SqliteBackend(SqliteBackend&&) = delete;
    SqliteBackend& operator=(SqliteBackend&&) = delete;

    Result<void> configure(std::chrono::milliseconds busy_timeout) {
        sqlite3_busy_timeout(db_.get(), static_cast<int>(busy_timeout.count()));
        sqlite3_extended_result_codes(db_.get(), 1);
        if (!read_only_) {
            // WAL lets `linkpilot jobs` read while the daemon writes; FULL syncs the WAL on
            // every commit so an answered 202 survives power loss.
            if (auto r = script("PRAGMA journal_mode = WAL"); !r) {
                return r;
            }
        }
        if (auto r = script("PRAGMA synchronous = FULL"); !r) {
            return r;
        }
        return script("PRAGMA foreign_keys = ON");
    }

    [[nodiscard]] const char* sql(Stmt stmt) const override { return sqlite_sql(stmt); }

    // One statement (a savepoint) is prepared once: the accept path runs two per item, and
    // sqlite3_exec would parse them every time. Several (DDL) go through sqlite3_exec.
    Result<void> exec(const char* sql) override {
        if (std::string_view{sql}.find(';') != std::string_view::npos) {
            return script(sql);
        }
        return command(sql);
    }

    // BEGIN IMMEDIATE takes the write lock up front: a transaction that reads and then writes
    // cannot fail half-way on another writer, and claims need no lock of their own.
    Result<void> begin(detail::Durability durability) override {
        if (in_transaction()) {
            return error(StoreError::Kind::other, "a transaction is open already");
        }
        if (durability == detail::Durability::relaxed) {
            // WAL with synchronous = NORMAL: a killed process loses nothing (the WAL is in the
            // OS's cache); only a power loss can undo the last few commits.
            if (auto r = command("PRAGMA synchronous = NORMAL"); !r) {
                return r;
            }
            relaxed_ = true;
        }
        if (auto r = command("BEGIN IMMEDIATE"); !r) {
            restore_durability();
            return r;
        }
        return {};
    }

    Result<void> commit() override {
        if (auto r = command("COMMIT"); !r) {
            rollback();
            return r;
        }
        restore_durability();
        return {};
    }

    void rollback() override {
        // Fails harmlessly when SQLite already rolled back (e.g. after SQLITE_FULL).
        if (in_transaction()) {
            sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        }
        restore_durability();
    }

    [[nodiscard]] bool in_transaction() const override {
        return sqlite3_get_autocommit(db_.get()) == 0;
    }
    [[nodiscard]] bool cheap_savepoints() const override { return true; }
    [[nodiscard]] std::string_view lease_owner() const override { return {}; }
    [[nodiscard]] std::chrono::milliseconds lease() const override {
        return std::chrono::milliseconds{0};
    }
    [[nodiscard]] bool read_only() const override { return read_only_; }
    [[nodiscard]] std::span<const char* const> migrations() const override {
        return detail::kSqliteMigrations;
    }

    // `serve` and `linkpilot prune` may share one file: see SweepLockFile.
    Result<SweepLock> try_lock_sweep(const SweepHolder& self) override {
        if (read_only_) {
            return error(StoreError::Kind::readonly,
                         "the state store is open read-only: no sweep lock");
        }
        const char* file = sqlite3_db_filename(db_.get(), "main");
        if (file == nullptr || *file == '\0') {
            // In memory: no other process can share it.
            return SweepLock{.taken = true, .holder = {}};
        }
        return sweep_lock_.try_lock(std::string{file} + ".sweep.lock", self);
    }
    Result<void> unlock_sweep() override { return sweep_lock_.unlock(); }

  private:
    Result<detail::Rows> execute(const char* sql, detail::Params params, bool cache) override {
        StmtPtr once;
        sqlite3_stmt* stmt = nullptr;
        if (cache) {
            auto found = prepared(stmts_, sql, sql);
            if (!found) {
                return Unexpected{found.error()};
            }
            stmt = *found;
        } else {
            sqlite3_stmt* raw = nullptr;
            const int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr);
            once.reset(raw);
            if (rc != SQLITE_OK) {
                return sqlite_error(db_.get(), rc, "preparing statement");
            }
            stmt = raw;
        }
        const Reset reset{stmt};
        // A statement may leave out trailing parameters it has no use for (backend.hpp).
        const auto count = std::min<std::size_t>(
            static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt)), params.size());
        for (std::size_t i = 0; i < count; ++i) {
            if (const int rc = bind(stmt, static_cast<int>(i) + 1, params[i]); rc != SQLITE_OK) {
                return sqlite_error(db_.get(), rc, "binding parameter " + std::to_string(i + 1));
            }
        }
        const int columns = sqlite3_column_count(stmt);
        std::vector<detail::Cell> cells;
        for (;;) {
            const int rc = sqlite3_step(stmt);
            if (rc == SQLITE_DONE) {
                break;
            }
            if (rc != SQLITE_ROW) {
                return sqlite_error(db_.get(), sqlite3_extended_errcode(db_.get()), "sqlite step");
            }
            for (int c = 0; c < columns; ++c) {
                cells.push_back(column(stmt, c));
            }
        }
        const std::int64_t changed =
            sqlite3_stmt_readonly(stmt) != 0 ? 0 : sqlite3_changes64(db_.get());
        return detail::Rows{std::move(cells), static_cast<std::size_t>(columns), changed};
    }

    // Statements without parameters: transaction control, pragmas, savepoints.
    Result<void> command(const char* sql) {
        auto stmt = prepared(commands_, std::string{sql}, sql);
        if (!stmt) {
            return Unexpected{stmt.error()};
        }
        const Reset reset{*stmt};
        if (const int rc = sqlite3_step(*stmt); rc != SQLITE_DONE && rc != SQLITE_ROW) {
            const int code = sqlite3_extended_errcode(db_.get());
            return with_reason(db_.get(), code, sqlite3_errmsg(db_.get()));
        }
        return {};
    }

    // Several statements, each parsed as it runs.
    Result<void> script(const char* sql) {
        char* msg = nullptr;
        const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &msg);
        if (rc != SQLITE_OK) {
            std::string text = msg != nullptr ? msg : sqlite3_errstr(rc);
            sqlite3_free(msg);
            return with_reason(db_.get(), sqlite3_extended_errcode(db_.get()), std::move(text));
        }
        return {};
    }

    // `sql`'s statement in `cache` under `key`, prepared on first use.
    template <class Key>
    Result<sqlite3_stmt*> prepared(std::unordered_map<Key, StmtPtr>& cache, const Key& key,
                                   const char* sql) {
        auto it = cache.find(key);
        if (it == cache.end()) {
            sqlite3_stmt* raw = nullptr;
            const int rc =
                sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
            StmtPtr stmt{raw};
            if (rc != SQLITE_OK) {
                return sqlite_error(db_.get(), rc, "preparing statement");
            }
            it = cache.emplace(key, std::move(stmt)).first;
        }
        return it->second.get();
    }

    // Deliveries keep synchronous = FULL: the 202 promises they are on disk.
    void restore_durability() {
        if (relaxed_) {
            relaxed_ = false;
            (void)command("PRAGMA synchronous = FULL");
        }
    }

    DbPtr db_;
    bool read_only_;
    bool relaxed_ = false;  // a Durability::relaxed transaction lowered synchronous
    std::unordered_map<const char*, StmtPtr> stmts_;     // by the address of sqlite_sql's text
    std::unordered_map<std::string, StmtPtr> commands_;  // by their text
    SweepLockFile sweep_lock_;
};

}  // namespace

namespace detail {

Result<std::unique_ptr<Backend>> open_sqlite_backend(const SqliteOptions& options) {
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
    auto backend = std::make_unique<SqliteBackend>(std::move(db), options.read_only);
    if (auto r = backend->configure(options.busy_timeout); !r) {
        return Unexpected{StoreError{
            r.error().kind, "opening " + options.path.string() + ": " + r.error().message}};
    }
    return std::unique_ptr<Backend>{std::move(backend)};
}

}  // namespace detail

int sqlite_latest_schema_version() { return static_cast<int>(detail::kSqliteMigrations.size()); }

Result<std::unique_ptr<Store>> open_sqlite(const SqliteOptions& options) {
    auto backend = detail::open_sqlite_backend(options);
    if (!backend) {
        return Unexpected{backend.error()};
    }
    if (auto r = detail::migrate(**backend); !r) {
        return Unexpected{r.error()};
    }
    return detail::make_store(std::move(*backend));
}

}  // namespace linkpilot::store
