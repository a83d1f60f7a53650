#pragma once

// The seam between the store's algorithms, written once (store_core.cpp), and the databases
// under them (sqlite_store.cpp, postgres_store.cpp). A Backend knows its SQL dialect, its
// connection, its transactions and the few things that really differ between the two: the
// sweep lock, leases, and how cheap a round trip is. Everything a Store does with jobs and
// deliveries is in store_core.cpp and nowhere else. Not for callers of the Store interface.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/store/detail.hpp"
#include "daemon/store/postgres_store.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "daemon/store/store.hpp"

namespace linkpilot::store::detail {

// Every statement the algorithms run. Each backend spells each one in its dialect (SQLite `?N`,
// PostgreSQL `$N`) with the SAME parameters in the same order, as listed here; a SQLite
// statement may leave out parameters it has no use for (the lease ones: SQLite has no
// leases). A backend answers nullptr for a step its database does not need, and running that
// statement does nothing (Backend::run returns no rows).
enum class Stmt {
    // Deliveries: (provider, id, event, repo, received_at, status, payload blob, payload
    // sha256, event_json, verdicts_json, config_fingerprint); nothing changed: a duplicate.
    insert_delivery,
    // insert_delivery's parameters, then insert_job's from rule on; returns the job's id, no
    // row for a duplicate. One round trip for the usual delivery (PostgreSQL only).
    insert_delivery_and_job,
    // (provider, delivery_id, rule, action, app, args, next_attempt_at, debounce_key,
    // created_at) -> id.
    insert_job,
    // (sorted debounce keys, a text array): locks them for this transaction, so two replicas
    // accepting for one key supersede each other (PostgreSQL only).
    lock_debounce_keys,
    supersede,  // (job id, now, debounce_key)
    // (state or null, app or null, freeze_deferred only 0/1) -> job columns / attempt rows.
    list_jobs,
    list_attempts,
    // (job id, at, outcome, detail): the next entry of the job's history. Null where the
    // transitions that count an attempt record it themselves (PostgreSQL: one round trip).
    insert_attempt,
    get_job,    // (id) -> job columns
    job_state,  // (id) -> state, lease owner (null where there are no leases)
    // The claim lock: claimers (settle, claim_runnable) of every replica take it first, before
    // any row lock, so they serialise and lock in one order (PostgreSQL only; SQLite's
    // BEGIN IMMEDIATE already makes the whole transaction the only writer).
    claim_lock,
    renew_leases,   // (owner, lease expiry): this instance's running jobs (PostgreSQL only)
    expire_leases,  // (now): running jobs whose lease ran out go back to pending (PostgreSQL)
    // (now, limit, owner, lease expiry) -> job columns of the due queue heads of apps with
    // nothing running, now marked running (in any order).
    claim_runnable,
    next_wakeup,   // () -> earliest next_attempt_at of a queue head of an idle app, or null
    app_head,      // (app) -> job columns of its oldest pending job
    app_running,   // (app) -> id of a running job of the app
    mark_running,  // (id, owner, lease expiry, now): pending -> running
    // Transitions of a running job held by this instance (owner): complete (id, note, now,
    // owner), fail (id, error, now, owner), reschedule (id, error, now, owner,
    // next_attempt_at), defer (id, until, note, now, owner), skip (id, note, now, owner).
    complete,
    fail,
    reschedule,
    defer,
    skip,
    retry,              // (id, now): failed -> pending
    cancel,             // (id, note, now)
    run_now,            // (id, ignore_freeze 0/1, note, now)
    redefer,            // (id, until, note, now)
    recover,            // (now): running jobs nobody holds go back to pending
    get_delivery,       // (id) -> delivery columns
    prune_payloads,     // (older_than)
    count_jobs,         // () -> state, action, count
    oldest_pending,     // () -> min created_at of pending jobs, or null
    has_version_table,  // () -> non-zero when schema_version exists
    get_version,        // () -> its version, or null (run uncached: the table may be new)
    // Around migrating: replicas starting together migrate once (PostgreSQL only; SQLite's
    // write lock and the re-read of the version in each step's transaction are enough).
    lock_migrations,
    unlock_migrations,
};

inline constexpr std::size_t kStmtCount = static_cast<std::size_t>(Stmt::unlock_migrations) + 1;

// A statement parameter. Views: the values it names must outlive the call to run().
class Param {
  public:
    enum class Type { null, integer, text, blob, text_array };

    // Implicit on purpose: call sites list a statement's parameters as {id, note, now}.
    Param(std::int64_t v) : type_(Type::integer), int_(v) {}
    Param(TimePoint t) : Param(to_ms(t)) {}
    Param(std::string_view v) : type_(Type::text), text_(v) {}
    Param(const std::string& v) : Param(std::string_view{v}) {}
    Param(const char* v) : Param(std::string_view{v}) {}
    // NULL when empty.
    Param(const std::optional<std::string>& v)
        : type_(v ? Type::text : Type::null),
          text_(v ? std::string_view{*v} : std::string_view{}) {}

    static Param blob(std::string_view bytes) {
        Param p{bytes};
        p.type_ = Type::blob;
        return p;
    }
    static Param text_array(const std::vector<std::string>& items) {
        Param p;
        p.type_ = Type::text_array;
        p.array_ = &items;
        return p;
    }

    [[nodiscard]] Type type() const { return type_; }
    [[nodiscard]] std::int64_t integer() const { return int_; }
    [[nodiscard]] std::string_view text() const { return text_; }  // text and blob
    [[nodiscard]] const std::vector<std::string>& items() const { return *array_; }

  private:
    Param() = default;

    Type type_ = Type::null;
    std::int64_t int_ = 0;
    std::string_view text_;
    const std::vector<std::string>* array_ = nullptr;
};

using Params = std::span<const Param>;

// A column value as read: NULL, an integer (booleans are 0/1) or bytes (text and blobs).
using Cell = std::variant<std::monostate, std::int64_t, std::string>;

// A statement's answer: its rows, and how many rows it changed (INSERT, UPDATE, DELETE).
class Rows {
  public:
    Rows() = default;
    Rows(std::vector<Cell> cells, std::size_t columns, std::int64_t affected)
        : cells_(std::move(cells)), columns_(columns), affected_(affected) {}

    [[nodiscard]] std::size_t size() const { return columns_ == 0 ? 0 : cells_.size() / columns_; }
    [[nodiscard]] bool empty() const { return size() == 0; }
    [[nodiscard]] std::int64_t affected() const { return affected_; }

    [[nodiscard]] bool is_null(std::size_t row, std::size_t col) const {
        return std::holds_alternative<std::monostate>(cell(row, col));
    }
    // 0 for NULL; a text cell is read as a decimal number.
    [[nodiscard]] std::int64_t int64(std::size_t row, std::size_t col) const;
    [[nodiscard]] TimePoint time(std::size_t row, std::size_t col) const {
        return from_ms(int64(row, col));
    }
    [[nodiscard]] bool boolean(std::size_t row, std::size_t col) const {
        return int64(row, col) != 0;
    }
    // "" for NULL; an integer as its decimal digits.
    [[nodiscard]] std::string text(std::size_t row, std::size_t col) const;
    [[nodiscard]] std::optional<std::string> opt_text(std::size_t row, std::size_t col) const {
        if (is_null(row, col)) {
            return std::nullopt;
        }
        return text(row, col);
    }

  private:
    [[nodiscard]] const Cell& cell(std::size_t row, std::size_t col) const {
        return cells_.at((row * columns_) + col);
    }

    std::vector<Cell> cells_;
    std::size_t columns_ = 0;
    std::int64_t affected_ = 0;
};

// How long a commit may wait for the disk: `full` for what the ingress promised (deliveries,
// operator commands), `relaxed` for job outcomes and claims (Store::settle), which a lost commit
// only runs again (at-least-once).
enum class Durability { full, relaxed };

class Backend {
  public:
    virtual ~Backend() = default;
    Backend() = default;
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;
    Backend(Backend&&) = delete;
    Backend& operator=(Backend&&) = delete;

    // The dialect's text of `stmt`, or nullptr when this database needs no such step.
    [[nodiscard]] virtual const char* sql(Stmt stmt) const = 0;
    [[nodiscard]] bool has(Stmt stmt) const { return sql(stmt) != nullptr; }

    // Runs `stmt` (prepared once per connection) and reads its whole answer. A statement the
    // dialect does not need does nothing.
    Result<Rows> run(Stmt stmt, Params params = {}) {
        const char* text = sql(stmt);
        if (text == nullptr) {
            return Rows{};
        }
        return execute(text, params, /*cache=*/true);
    }
    Result<Rows> run(Stmt stmt, std::initializer_list<Param> params) {
        return run(stmt, Params{params.begin(), params.size()});
    }
    // As run, without keeping the prepared statement (its table may not exist yet next time).
    Result<Rows> run_uncached(Stmt stmt) {
        const char* text = sql(stmt);
        if (text == nullptr) {
            return Rows{};
        }
        return execute(text, {}, /*cache=*/false);
    }

    // SQL without parameters or rows, possibly several statements: savepoints, DDL.
    virtual Result<void> exec(const char* sql) = 0;

    // Transactions; see Transaction, which callers use instead. begin() fails inside one.
    // commit() rolls back itself when the commit fails; rollback() does nothing outside one.
    virtual Result<void> begin(Durability durability) = 0;
    virtual Result<void> commit() = 0;
    virtual void rollback() = 0;
    [[nodiscard]] virtual bool in_transaction() const = 0;

    // Savepoints cost no round trip (SQLite): an accept batch takes one per item up front
    // rather than redoing the batch with them after an item failed.
    [[nodiscard]] virtual bool cheap_savepoints() const = 0;
    // This instance's lease owner name and lease length ("" and 0 where there are no leases).
    [[nodiscard]] virtual std::string_view lease_owner() const = 0;
    [[nodiscard]] virtual std::chrono::milliseconds lease() const = 0;
    // Opened read-only: nothing can be migrated.
    [[nodiscard]] virtual bool read_only() const = 0;
    // The migrations of this dialect's schema (schema_*.hpp), in order.
    [[nodiscard]] virtual std::span<const char* const> migrations() const = 0;

    // The review app sweep lock (Store::try_lock_sweep), which is no SQL on SQLite.
    virtual Result<SweepLock> try_lock_sweep(const SweepHolder& self) = 0;
    virtual Result<void> unlock_sweep() = 0;

  private:
    virtual Result<Rows> execute(const char* sql, Params params, bool cache) = 0;
};

// A transaction on a Backend: commit() it explicitly; one left uncommitted (an early return
// on an error) rolls back when it goes out of scope.
class [[nodiscard]] Transaction {
  public:
    static Result<Transaction> begin(Backend& backend, Durability durability = Durability::full) {
        if (auto r = backend.begin(durability); !r) {
            return Unexpected{r.error()};
        }
        return Transaction{backend};
    }

    Transaction(Transaction&& other) noexcept : backend_(std::exchange(other.backend_, nullptr)) {}
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() {
        if (backend_ != nullptr) {
            backend_->rollback();
        }
    }

    // Once: a failed commit has rolled back already.
    Result<void> commit() { return std::exchange(backend_, nullptr)->commit(); }

  private:
    explicit Transaction(Backend& backend) : backend_(&backend) {}
    Backend* backend_;
};

// The Store over `backend`: every algorithm, once. Does not migrate.
std::unique_ptr<Store> make_store(std::unique_ptr<Backend> backend);

// Store::migrate and Store::schema_version over a backend, for opening (before make_store).
Result<MigrateResult> migrate(Backend& backend);
Result<int> schema_version(Backend& backend);

// The backends, for open_sqlite / open_postgres and the seam's own tests: open and configure a
// connection, and nothing more (no migration).
Result<std::unique_ptr<Backend>> open_sqlite_backend(const SqliteOptions& options);
Result<std::unique_ptr<Backend>> open_postgres_backend(const PostgresOptions& options);

}  // namespace linkpilot::store::detail
