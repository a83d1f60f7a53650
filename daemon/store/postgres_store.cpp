#include "daemon/store/postgres_store.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "daemon/store/backend.hpp"
#include "daemon/store/schema_postgres.hpp"

namespace linkpilot::store {
namespace {

using detail::Stmt;

// ---------------------------------------------------------------------------------------------
// Statements (backend.hpp's Stmt, with its parameters). Times are integer milliseconds.
// ---------------------------------------------------------------------------------------------

// Advisory locks are database-wide, so their keys carry the schema: deployments sharing one
// database in different schemas never block each other. Keys are (schema, object) pairs;
// single-key locks (the debounce keys' hashes) live in a separate key space.
#define LINKPILOT_SCHEMA "coalesce(current_schema(), current_setting('search_path'))"
#define LINKPILOT_LOCK(n) "hashtext('linkpilot:' || " LINKPILOT_SCHEMA "), " #n
#define LINKPILOT_CLAIM_LOCK LINKPILOT_LOCK(1)
#define LINKPILOT_MIGRATE_LOCK LINKPILOT_LOCK(2)
#define LINKPILOT_SWEEP_LOCK LINKPILOT_LOCK(3)

#define LINKPILOT_JOB_COLUMNS                                                                \
    "id, delivery_id, provider, rule, action, app, args, state, attempts, next_attempt_at, " \
    "last_error, note, debounce_key, created_at, updated_at, freeze_deferred, ignore_freeze"
// A transition of a running job (the UPDATE `u`, RETURNING id) that counts an attempt, and
// its entry in the job's history: one statement, one round trip (so Stmt::insert_attempt is
// not needed). $3 is the time, the last two the outcome and its detail (text).
#define LINKPILOT_WITH_ATTEMPT(update, outcome, detail)                         \
    "WITH u AS (" update                                                        \
    " RETURNING id) "                                                           \
    "INSERT INTO job_attempts (job_id, attempt, at, outcome, detail) "          \
    "SELECT u.id, COALESCE((SELECT MAX(a.attempt) FROM job_attempts AS a "      \
    "WHERE a.job_id = u.id), 0) + 1, $3::bigint, '" outcome "', NULLIF(" detail \
    "::text, '') "                                                              \
    "FROM u"
#define LINKPILOT_INSERT_DELIVERY                                                       \
    "INSERT INTO deliveries (provider, id, event, repo, received_at, status, payload, " \
    "payload_sha256, event_json, verdicts_json, config_fingerprint) "                   \
    "VALUES ($1, $2, $3, $4, $5, $6, $7::bytea, $8, $9, $10, $11) "                     \
    "ON CONFLICT (provider, id) DO NOTHING"

// nullptr: a step PostgreSQL does not need (backend.hpp says why for each).
const char* postgres_sql(Stmt stmt) {
    switch (stmt) {
        case Stmt::insert_delivery:
            return LINKPILOT_INSERT_DELIVERY;
        case Stmt::insert_delivery_and_job:
            return "WITH d AS (" LINKPILOT_INSERT_DELIVERY
                   " RETURNING provider, id) "
                   "INSERT INTO jobs (provider, delivery_id, rule, action, app, args, state, "
                   "attempts, next_attempt_at, debounce_key, created_at, updated_at) "
                   "SELECT d.provider, d.id, $12, $13, $14, $15, 'pending', 0, $16, $17, $18, "
                   "$18 FROM d RETURNING id";
        case Stmt::insert_job:
            return "INSERT INTO jobs (provider, delivery_id, rule, action, app, args, state, "
                   "attempts, next_attempt_at, debounce_key, created_at, updated_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $9) RETURNING id";
        case Stmt::lock_debounce_keys:
            return "SELECT pg_advisory_xact_lock(hashtextextended(" LINKPILOT_SCHEMA
                   " || ':' || k, 0)) FROM unnest($1::text[]) AS k";
        case Stmt::supersede:
            return "UPDATE jobs SET state = 'done', note = 'superseded by job ' || $1::bigint, "
                   "updated_at = $2 WHERE debounce_key = $3 AND state = 'pending' "
                   "AND attempts = 0 AND id < $1::bigint";
        case Stmt::list_jobs:
            return "SELECT " LINKPILOT_JOB_COLUMNS
                   " FROM jobs WHERE ($1::text IS NULL OR state = $1::text) "
                   "AND ($2::text IS NULL OR app = $2::text) "
                   "AND ($3::bigint = 0 OR freeze_deferred) ORDER BY id";
        case Stmt::list_attempts:
            return "SELECT a.job_id, a.attempt, a.at, a.outcome, a.detail FROM job_attempts AS a "
                   "JOIN jobs AS j ON j.id = a.job_id WHERE ($1::text IS NULL OR j.state = "
                   "$1::text) AND ($2::text IS NULL OR j.app = $2::text) "
                   "AND ($3::bigint = 0 OR j.freeze_deferred) ORDER BY a.job_id, a.attempt";
        case Stmt::insert_attempt:
            return nullptr;  // the transitions that count an attempt record it themselves
        case Stmt::get_job:
            return "SELECT " LINKPILOT_JOB_COLUMNS " FROM jobs WHERE id = $1";
        case Stmt::job_state:
            return "SELECT state, lease_owner FROM jobs WHERE id = $1";
        case Stmt::claim_lock:
            return "SELECT pg_advisory_xact_lock(" LINKPILOT_CLAIM_LOCK ")";
        case Stmt::renew_leases:
            return "UPDATE jobs SET lease_expires_at = $2 "
                   "WHERE state = 'running' AND lease_owner = $1";
        case Stmt::expire_leases:
            // Jobs whose owner stopped renewing (it died, or lost its connection for a whole
            // lease) go back to pending: at-least-once, as after a crash on SQLite.
            return "UPDATE jobs SET state = 'pending', lease_owner = NULL, "
                   "lease_expires_at = NULL, "
                   "note = 'lease of ' || lease_owner || ' expired: back in the queue', "
                   "updated_at = $1 WHERE state = 'running' AND lease_expires_at <= $1";
        case Stmt::claim_runnable:
            // Under the claim lock, after expire_leases.
            return "UPDATE jobs AS u SET state = 'running', lease_owner = $3, "
                   "lease_expires_at = $4, freeze_deferred = false, updated_at = $1 "
                   "FROM (SELECT j.id FROM (SELECT MIN(id) AS head FROM jobs "
                   "WHERE state = 'pending' GROUP BY app) AS h JOIN jobs AS j ON j.id = h.head "
                   "WHERE j.next_attempt_at <= $1 "
                   "AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = j.app "
                   "AND r.state = 'running') "
                   "ORDER BY j.id LIMIT $2 FOR UPDATE OF j SKIP LOCKED) AS c "
                   "WHERE u.id = c.id RETURNING u.id, u.delivery_id, u.provider, u.rule, "
                   "u.action, u.app, u.args, u.state, u.attempts, u.next_attempt_at, "
                   "u.last_error, u.note, u.debounce_key, u.created_at, u.updated_at, "
                   "u.freeze_deferred, u.ignore_freeze";
        case Stmt::next_wakeup:
            return "SELECT MIN(j.next_attempt_at) FROM (SELECT MIN(id) AS head FROM jobs "
                   "WHERE state = 'pending' GROUP BY app) AS h JOIN jobs AS j ON j.id = h.head "
                   "WHERE NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = j.app "
                   "AND r.state = 'running')";
        case Stmt::app_head:
            return "SELECT " LINKPILOT_JOB_COLUMNS
                   " FROM jobs WHERE app = $1 AND state = 'pending' ORDER BY id LIMIT 1";
        case Stmt::app_running:
            return "SELECT id FROM jobs WHERE app = $1 AND state = 'running' LIMIT 1";
        case Stmt::mark_running:
            return "UPDATE jobs SET state = 'running', lease_owner = $2, lease_expires_at = $3, "
                   "freeze_deferred = false, updated_at = $4 WHERE id = $1 AND state = 'pending'";
        // Transitions of a running job: only by the instance holding its lease ($4, or $5).
        case Stmt::complete:
            return LINKPILOT_WITH_ATTEMPT(
                "UPDATE jobs SET state = 'done', attempts = attempts + 1, last_error = NULL, "
                "note = NULLIF($2, ''), lease_owner = NULL, lease_expires_at = NULL, "
                "updated_at = $3 WHERE id = $1 AND state = 'running' AND lease_owner = $4",
                "done", "$2");
        case Stmt::fail:
            return LINKPILOT_WITH_ATTEMPT(
                "UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = $2, "
                "lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 "
                "WHERE id = $1 AND state = 'running' AND lease_owner = $4",
                "failed", "$2");
        case Stmt::reschedule:
            return LINKPILOT_WITH_ATTEMPT(
                "UPDATE jobs SET state = 'pending', attempts = attempts + 1, last_error = $2, "
                "next_attempt_at = $5, lease_owner = NULL, lease_expires_at = NULL, "
                "updated_at = $3 WHERE id = $1 AND state = 'running' AND lease_owner = $4",
                "rescheduled", "$2");
        case Stmt::defer:
            return "UPDATE jobs SET state = 'pending', next_attempt_at = $2, "
                   "note = NULLIF($3, ''), freeze_deferred = true, lease_owner = NULL, "
                   "lease_expires_at = NULL, updated_at = $4 "
                   "WHERE id = $1 AND state = 'running' AND lease_owner = $5";
        case Stmt::skip:
            return "UPDATE jobs SET state = 'done', last_error = NULL, note = NULLIF($2, ''), "
                   "lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 "
                   "WHERE id = $1 AND state = 'running' AND lease_owner = $4";
        case Stmt::retry:
            return "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = $2, "
                   "updated_at = $2 WHERE id = $1 AND state = 'failed'";
        case Stmt::cancel:
            // Not the job the executor may hand its app's slot to without a claim
            // (Store::cancel): its app's oldest pending job, due and not debounced, while the
            // app has a job running.
            return "UPDATE jobs SET state = 'cancelled', freeze_deferred = false, note = $2, "
                   "updated_at = $3 WHERE id = $1 AND state = 'pending' "
                   "AND NOT (next_attempt_at <= $3 AND debounce_key IS NULL "
                   "AND id = (SELECT MIN(h.id) FROM jobs AS h "
                   "WHERE h.app = jobs.app AND h.state = 'pending') "
                   "AND EXISTS (SELECT 1 FROM jobs AS r "
                   "WHERE r.app = jobs.app AND r.state = 'running'))";
        case Stmt::run_now:
            return "UPDATE jobs SET next_attempt_at = $4, freeze_deferred = false, "
                   "ignore_freeze = ignore_freeze OR $2::bigint <> 0, note = $3, "
                   "updated_at = $4 WHERE id = $1 AND state = 'pending'";
        case Stmt::redefer:
            return "UPDATE jobs SET next_attempt_at = $2, "
                   "freeze_deferred = $2::bigint > $4::bigint, note = $3, updated_at = $4 "
                   "WHERE id = $1 AND state = 'pending' AND freeze_deferred";
        case Stmt::recover:
            // At start: only jobs whose lease ran out. The others belong to live replicas.
            return "UPDATE jobs SET state = 'pending', lease_owner = NULL, "
                   "lease_expires_at = NULL, updated_at = $1 "
                   "WHERE state = 'running' AND lease_expires_at <= $1";
        case Stmt::get_delivery:
            return "SELECT id, provider, event, repo, received_at, status, payload, "
                   "payload_sha256, event_json, verdicts_json, config_fingerprint "
                   "FROM deliveries WHERE id = $1 ORDER BY received_at DESC LIMIT 1";
        case Stmt::prune_payloads:
            return "UPDATE deliveries SET payload = NULL "
                   "WHERE payload IS NOT NULL AND received_at < $1";
        case Stmt::count_jobs:
            return "SELECT state, action, COUNT(*) FROM jobs GROUP BY state, action "
                   "ORDER BY state, action";
        case Stmt::oldest_pending:
            return "SELECT MIN(created_at) FROM jobs WHERE state = 'pending'";
        case Stmt::has_version_table:
            return "SELECT to_regclass('schema_version') IS NOT NULL";
        case Stmt::get_version:
            return "SELECT MAX(version) FROM schema_version";
        case Stmt::lock_migrations:
            return "SELECT pg_advisory_lock(" LINKPILOT_MIGRATE_LOCK ")";
        case Stmt::unlock_migrations:
            return "SELECT pg_advisory_unlock(" LINKPILOT_MIGRATE_LOCK ")";
    }
    return nullptr;
}

// The sweep lock's statements, which only the backend runs.
constexpr const char* kTryLockSweep = "SELECT pg_try_advisory_lock(" LINKPILOT_SWEEP_LOCK ")";
constexpr const char* kUnlockSweep = "SELECT pg_advisory_unlock(" LINKPILOT_SWEEP_LOCK ")";
// Who holds the sweep lock, for a replica refused it: the session holding the advisory lock
// (pg_locks shows LINKPILOT_SWEEP_LOCK's two keys as classid and objid, with objsubid 2) and
// the application_name it set when taking it (kNameSweepHolder). No holder table: the lock's
// own session says who it is, so nothing can go stale and no migration is needed.
constexpr const char* kSweepHolder =
    "SELECT a.pid, a.application_name, host(a.client_addr) FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid = (hashtext('linkpilot:' || " LINKPILOT_SCHEMA "))::oid AND l.objid = 3";
constexpr const char* kNameSweepHolder = "SELECT set_config('application_name', $1, false)";
// Back to the connection's own application_name (the URL's, or none).
constexpr const char* kUnnameSweepHolder = "RESET application_name";

#undef LINKPILOT_INSERT_DELIVERY
#undef LINKPILOT_JOB_COLUMNS
#undef LINKPILOT_WITH_ATTEMPT
#undef LINKPILOT_CLAIM_LOCK
#undef LINKPILOT_MIGRATE_LOCK
#undef LINKPILOT_SWEEP_LOCK
#undef LINKPILOT_LOCK
#undef LINKPILOT_SCHEMA

// ---------------------------------------------------------------------------------------------

Unexpected<StoreError> error(StoreError::Kind kind, std::string message) {
    return Unexpected{StoreError{kind, std::move(message)}};
}

// SQLSTATE classes (PostgreSQL appendix A) onto the store's error kinds: what the ingress
// answers 503 for (unavailable) versus what is the request's own fault (invalid).
StoreError::Kind kind_of(std::string_view sqlstate) {
    if (sqlstate == "53300") {
        return StoreError::Kind::busy;  // too_many_connections: may succeed later
    }
    if (sqlstate == "25006") {
        return StoreError::Kind::readonly;  // read_only_sql_transaction (a standby)
    }
    if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014") {
        return StoreError::Kind::busy;  // serialization, deadlock, lock or statement timeout
    }
    if (sqlstate == "XX001" || sqlstate == "XX002") {
        return StoreError::Kind::corrupt;
    }
    const auto cls = sqlstate.substr(0, std::min<std::size_t>(2, sqlstate.size()));
    if (cls == "53") {
        return StoreError::Kind::full;  // disk_full, out_of_memory
    }
    if (cls == "08" || cls == "57" || cls == "58") {
        return StoreError::Kind::io;  // connection lost, server shutting down, system I/O
    }
    if (cls == "22" || cls == "23") {
        return StoreError::Kind::invalid;  // bad data (invalid UTF-8, NUL), constraint
    }
    return StoreError::Kind::other;
}

struct ConnCloser {
    void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClear {
    void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultClear>;

// "host/pid/random": unique per process, readable in `lease of ... expired` notes.
std::string make_owner() {
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0) {
        host[0] = '\0';
    }
    std::random_device rd;
    const auto salt = static_cast<unsigned>(rd()) & 0xffffU;
    std::array<char, 8> hex{};
    std::to_chars(hex.data(), hex.data() + hex.size(), salt, 16);
    return std::string{host.data()} + "/" + std::to_string(getpid()) + "/" + hex.data();
}

// The sweep lock holder as its session's application_name says it while it holds the lock:
// "linkpilot serve 4242 1700000000 web-1" (command, pid, since in Unix seconds, host). Host
// last: PostgreSQL keeps 63 bytes of an application_name, so a long host name is what is cut.
std::string sweep_holder_name(const SweepHolder& h) {
    const auto since =
        std::chrono::duration_cast<std::chrono::seconds>(h.since.time_since_epoch()).count();
    return "linkpilot " + h.command + " " + std::to_string(h.pid) + " " + std::to_string(since) +
           " " + h.host;
}

// The inverse of sweep_holder_name; nullopt for any other application_name (an older
// linkpilot, or someone taking the lock by hand).
std::optional<SweepHolder> parse_sweep_holder_name(std::string_view name) {
    auto field = [&name]() {
        const auto end = std::min(name.find(' '), name.size());
        const auto f = name.substr(0, end);
        name.remove_prefix(std::min(end + 1, name.size()));
        return f;
    };
    auto number = [](std::string_view f, std::int64_t& out) {
        const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), out);
        return ec == std::errc{} && end == f.data() + f.size() && !f.empty();
    };
    SweepHolder h;
    std::int64_t since = 0;
    if (field() != "linkpilot") {
        return std::nullopt;
    }
    h.command = std::string{field()};
    if (h.command.empty() || !number(field(), h.pid) || !number(field(), since) || name.empty()) {
        return std::nullopt;
    }
    h.since = TimePoint{std::chrono::seconds{since}};
    h.host = std::string{name};
    return h;
}

// Result column types (pg_type.h) read as integers; bytea is unescaped, the rest is text.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;

detail::Cell cell(const PGresult* r, int row, int col) {
    if (PQgetisnull(r, row, col) == 1) {
        return std::monostate{};
    }
    const char* p = PQgetvalue(r, row, col);
    const auto n = static_cast<std::size_t>(PQgetlength(r, row, col));
    switch (PQftype(r, col)) {
        case kBoolOid:
            return std::int64_t{p[0] == 't' ? 1 : 0};
        case kInt2Oid:
        case kInt4Oid:
        case kInt8Oid:
        case kOidOid: {
            std::int64_t v = 0;
            std::from_chars(p, p + n, v);
            return v;
        }
        case kByteaOid: {
            std::size_t len = 0;
            unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(p), &len);
            if (raw == nullptr) {
                return std::string{};
            }
            std::string out(reinterpret_cast<const char*>(raw), len);
            PQfreemem(raw);
            return out;
        }
        default:
            return std::string(p, n);
    }
}

// A statement's answer, read whole (text format).
detail::Rows read_rows(PGresult* r) {
    const int rows = PQntuples(r);
    const int columns = PQnfields(r);
    std::vector<detail::Cell> cells;
    cells.reserve(static_cast<std::size_t>(rows) * static_cast<std::size_t>(columns));
    for (int i = 0; i < rows; ++i) {
        for (int c = 0; c < columns; ++c) {
            cells.push_back(cell(r, i, c));
        }
    }
    // Rows an INSERT/UPDATE/DELETE changed ("" for other statements stays 0).
    const char* n = PQcmdTuples(r);
    const std::string_view tuples = n == nullptr ? "" : n;
    std::int64_t affected = 0;
    std::from_chars(tuples.data(), tuples.data() + tuples.size(), affected);
    return detail::Rows{std::move(cells), static_cast<std::size_t>(columns), affected};
}

// Statement parameters as libpq takes them. Texts and blobs go in binary format (their exact
// bytes, with their length: no NUL-terminated truncation, no copy), numbers and arrays as text.
class PgParams {
  public:
    PgParams(const PgParams&) = delete;
    PgParams& operator=(const PgParams&) = delete;
    PgParams(PgParams&&) = delete;
    PgParams& operator=(PgParams&&) = delete;
    ~PgParams() = default;

    explicit PgParams(detail::Params params) {
        const auto n = params.size();
        values_.reserve(n);
        lengths_.reserve(n);
        formats_.reserve(n);
        owned_.reserve(n);
        using Type = detail::Param::Type;
        for (const auto& p : params) {
            switch (p.type()) {
                case Type::null:
                    push(nullptr, 0, 0);
                    break;
                case Type::integer:
                    push_owned(std::to_string(p.integer()));
                    break;
                case Type::text:
                case Type::blob:
                    push(p.text().empty() ? "" : p.text().data(), p.text().size(), 1);
                    break;
                case Type::text_array:
                    push_owned(array_literal(p.items()));
                    break;
            }
        }
    }

    [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }
    [[nodiscard]] const char* const* values() const { return values_.data(); }
    [[nodiscard]] const int* lengths() const { return lengths_.data(); }
    [[nodiscard]] const int* formats() const { return formats_.data(); }

  private:
    void push(const char* v, std::size_t length, int format) {
        values_.push_back(v);
        lengths_.push_back(static_cast<int>(length));
        formats_.push_back(format);
    }
    void push_owned(std::string v) {
        // reserve() above: no reallocation moves the strings the pointers name.
        owned_.push_back(std::move(v));
        push(owned_.back().c_str(), owned_.back().size(), 0);
    }

    // A PostgreSQL text[] literal (text format), for unnest($n::text[]).
    static std::string array_literal(const std::vector<std::string>& items) {
        std::string lit = "{";
        for (const auto& item : items) {
            if (lit.size() > 1) {
                lit += ',';
            }
            lit += '"';
            for (const char c : item) {
                if (c == '"' || c == '\\') {
                    lit += '\\';
                }
                lit += c;
            }
            lit += '"';
        }
        lit += '}';
        return lit;
    }

    std::vector<const char*> values_;
    std::vector<int> lengths_;
    std::vector<int> formats_;
    std::vector<std::string> owned_;
};

class PostgresBackend final : public detail::Backend {
  public:
    PostgresBackend(ConnPtr conn, PostgresOptions options)
        : conn_(std::move(conn)), options_(std::move(options)), owner_(make_owner()) {}

    PostgresBackend(const PostgresBackend&) = delete;
    PostgresBackend& operator=(const PostgresBackend&) = delete;
    PostgresBackend(PostgresBackend&&) = delete;
    PostgresBackend& operator=(PostgresBackend&&) = delete;
    // Gives the sweep lock back now rather than when the server notices the disconnect, so
    // closing a store releases it as on SQLite.
    ~PostgresBackend() override {
        if (sweep_locked_ && PQstatus(conn_.get()) == CONNECTION_OK) {
            (void)exec(kUnlockSweep);
        }
    }

    // Per-connection settings: every statement and lock wait is bounded, and a transaction
    // left open by a hung process does not hold its locks forever.
    Result<void> configure_session() {
        const auto ms = std::to_string(options_.statement_timeout.count());
        const std::string sql = "SET statement_timeout = " + ms + "; SET lock_timeout = " + ms +
                                "; SET idle_in_transaction_session_timeout = " + ms +
                                "; SET client_encoding = 'UTF8'";
        return exec(sql.c_str());
    }

    [[nodiscard]] const char* sql(Stmt stmt) const override { return postgres_sql(stmt); }

    // Statements without parameters (transaction control, savepoints, session settings, DDL).
    Result<void> exec(const char* sql) override {
        ResultPtr r{PQexec(conn_.get(), sql)};
        if (r == nullptr || !succeeded(r.get())) {
            return failure(r.get(), "PostgreSQL");
        }
        return {};
    }

    Result<void> begin(detail::Durability durability) override {
        if (in_transaction_) {
            return error(StoreError::Kind::other, "a transaction is open already");
        }
        if (auto c = ensure_connected(); !c) {
            return c;
        }
        if (auto b = exec("BEGIN"); !b) {
            return b;
        }
        in_transaction_ = true;
        if (durability == detail::Durability::relaxed) {
            // As on SQLite, job outcomes need not wait for the disk (backend.hpp).
            if (auto s = exec("SET LOCAL synchronous_commit = off"); !s) {
                rollback();
                return s;
            }
        }
        return {};
    }

    Result<void> commit() override {
        in_transaction_ = false;
        ResultPtr c{PQexec(conn_.get(), "COMMIT")};
        if (c == nullptr || !succeeded(c.get())) {
            auto e = failure(c.get(), "commit");
            rollback();
            return e;
        }
        // A transaction that had failed answers COMMIT with ROLLBACK: nothing was written.
        if (std::string_view{PQcmdStatus(c.get())} != "COMMIT") {
            return error(StoreError::Kind::other, "transaction rolled back by the server");
        }
        return {};
    }

    void rollback() override {
        in_transaction_ = false;
        if (PQstatus(conn_.get()) == CONNECTION_OK &&
            PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) {
            const ResultPtr r{PQexec(conn_.get(), "ROLLBACK")};
        }
    }

    [[nodiscard]] bool in_transaction() const override { return in_transaction_; }
    [[nodiscard]] bool cheap_savepoints() const override { return false; }
    [[nodiscard]] std::string_view lease_owner() const override { return owner_; }
    [[nodiscard]] std::chrono::milliseconds lease() const override { return options_.lease; }
    [[nodiscard]] bool read_only() const override { return false; }
    [[nodiscard]] std::span<const char* const> migrations() const override {
        return detail::kPostgresMigrations;
    }

    // An advisory lock of the session, its holder named by the session's application_name.
    Result<SweepLock> try_lock_sweep(const SweepHolder& self) override {
        if (auto c = ensure_connected(); !c) {
            return Unexpected{c.error()};
        }
        if (sweep_locked_) {
            return SweepLock{.taken = true, .holder = {}};  // advisory locks stack: take it once
        }
        // A second try when the holder let go between the refusal and the look at who it was.
        for (int attempt = 0; attempt < 2; ++attempt) {
            auto q = execute(kTryLockSweep, {}, true);
            if (!q) {
                return Unexpected{q.error()};
            }
            if (!q->empty() && q->boolean(0, 0)) {
                sweep_locked_ = true;
                const auto name = sweep_holder_name(self);
                const std::array<detail::Param, 1> params{name};
                if (auto named = execute(kNameSweepHolder, params, true); !named) {
                    (void)unlock_sweep();
                    return Unexpected{named.error()};
                }
                return SweepLock{.taken = true, .holder = {}};
            }
            auto holder = execute(kSweepHolder, {}, true);
            if (!holder) {
                return Unexpected{holder.error()};
            }
            if (!holder->empty()) {
                return SweepLock{.taken = false, .holder = describe_sweep_holder(*holder)};
            }
        }
        return SweepLock{.taken = false, .holder = "another PostgreSQL session"};
    }

    Result<void> unlock_sweep() override {
        if (!sweep_locked_) {
            return {};
        }
        sweep_locked_ = false;
        if (auto q = execute(kUnlockSweep, {}, true); !q) {
            return Unexpected{q.error()};
        }
        // After the unlock: a replica that sees the lock always sees its holder's name.
        return exec(kUnnameSweepHolder);
    }

  private:
    // A statement prepared once per connection (cached by the SQL text's address), or run
    // unprepared.
    Result<detail::Rows> execute(const char* sql, detail::Params params, bool cache) override {
        // Never mid-transaction: statements after a reconnect would run outside it.
        if (!in_transaction_) {
            if (auto c = ensure_connected(); !c) {
                return Unexpected{c.error()};
            }
        }
        const PgParams p{params};
        ResultPtr r;
        if (cache) {
            auto it = prepared_.find(sql);
            if (it == prepared_.end()) {
                std::string name = "lp" + std::to_string(prepared_.size());
                const ResultPtr prep{PQprepare(conn_.get(), name.c_str(), sql, 0, nullptr)};
                if (prep == nullptr || !succeeded(prep.get())) {
                    return failure(prep.get(), "preparing statement");
                }
                it = prepared_.emplace(sql, std::move(name)).first;
            }
            r.reset(PQexecPrepared(conn_.get(), it->second.c_str(), p.size(), p.values(),
                                   p.lengths(), p.formats(), 0));
        } else {
            r.reset(PQexecParams(conn_.get(), sql, p.size(), nullptr, p.values(), p.lengths(),
                                 p.formats(), 0));
        }
        if (r == nullptr || !succeeded(r.get())) {
            return failure(r.get(), "PostgreSQL");
        }
        return read_rows(r.get());
    }

    // A row of kSweepHolder: what the holder said of itself, or the session as PostgreSQL
    // knows it when it said nothing we read.
    static std::string describe_sweep_holder(const detail::Rows& row) {
        const auto name = row.opt_text(0, 1).value_or("");
        if (auto h = parse_sweep_holder_name(name)) {
            return to_string(*h);
        }
        std::string out = "PostgreSQL session " + std::to_string(row.int64(0, 0));
        if (const auto client = row.opt_text(0, 2)) {
            out += " from " + *client;
        }
        if (!name.empty()) {
            out += " (application_name '" + name + "')";
        }
        return out;
    }

    // The connection breaks when the server restarts or the network drops: re-open it at the
    // next call (outside a transaction), so the store recovers without a daemon restart.
    Result<void> ensure_connected() {
        if (PQstatus(conn_.get()) == CONNECTION_OK) {
            return {};
        }
        prepared_.clear();
        sweep_locked_ = false;  // it went with the old session
        PQreset(conn_.get());
        if (PQstatus(conn_.get()) != CONNECTION_OK) {
            return error(StoreError::Kind::io,
                         std::string{"PostgreSQL connection lost and not re-established: "} +
                             PQerrorMessage(conn_.get()));
        }
        return configure_session();
    }

    Unexpected<StoreError> failure(const PGresult* r, std::string_view what) {
        std::string message{what};
        message += ": ";
        if (PQstatus(conn_.get()) != CONNECTION_OK) {
            message += "PostgreSQL connection lost: ";
            message += PQerrorMessage(conn_.get());
            return error(StoreError::Kind::io, std::move(message));
        }
        if (r == nullptr) {
            message += PQerrorMessage(conn_.get());
            return error(StoreError::Kind::io, std::move(message));
        }
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        message += primary != nullptr ? primary : PQresultErrorMessage(r);
        return error(kind_of(state != nullptr ? state : ""), std::move(message));
    }

    static bool succeeded(const PGresult* r) {
        const auto s = PQresultStatus(r);
        return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    }

    ConnPtr conn_;
    PostgresOptions options_;
    std::string owner_;  // this instance's lease owner name
    std::unordered_map<const char*, std::string> prepared_;
    bool sweep_locked_ = false;
    bool in_transaction_ = false;
};

}  // namespace

namespace detail {

Result<std::unique_ptr<Backend>> open_postgres_backend(const PostgresOptions& options) {
    const auto connect_seconds = std::to_string(std::max<std::int64_t>(
        2, std::chrono::ceil<std::chrono::seconds>(options.connect_timeout).count()));
    const auto user_timeout = std::to_string(options.statement_timeout.count());
    // Defaults first: with expand_dbname, the URL's own parameters override them.
    const std::array<const char*, 8> keys = {"connect_timeout",
                                             "application_name",
                                             "tcp_user_timeout",
                                             "keepalives_idle",
                                             "keepalives_interval",
                                             "dbname",
                                             nullptr,
                                             nullptr};
    const std::array<const char*, 8> values = {connect_seconds.c_str(),
                                               "linkpilot",
                                               user_timeout.c_str(),
                                               "30",
                                               "10",
                                               options.url.c_str(),
                                               nullptr,
                                               nullptr};
    ConnPtr conn{PQconnectdbParams(keys.data(), values.data(), 1)};
    if (conn == nullptr) {
        return error(StoreError::Kind::io, "connecting to PostgreSQL: out of memory");
    }
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        std::string why = PQerrorMessage(conn.get());
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
            why.pop_back();
        }
        // Callers name the store (redact_postgres_url) before this message.
        return error(StoreError::Kind::io, "connecting to PostgreSQL: " + why);
    }
    // Server NOTICEs would go to stderr, between the daemon's log lines: nothing in them is
    // for the user (errors come back as results).
    PQsetNoticeProcessor(
        conn.get(), [](void*, const char*) {}, nullptr);
    auto backend = std::make_unique<PostgresBackend>(std::move(conn), options);
    if (auto r = backend->configure_session(); !r) {
        return Unexpected{r.error()};
    }
    return std::unique_ptr<Backend>{std::move(backend)};
}

}  // namespace detail

int postgres_latest_schema_version() {
    return static_cast<int>(detail::kPostgresMigrations.size());
}

std::string redact_postgres_url(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (parsed) {
        boost::urls::url u{*parsed};
        if (u.has_password()) {
            u.set_password("***");
        }
        return std::string{u.buffer()};
    }
    // libpq also takes forms Boost.URL does not (several hosts): drop the whole user info.
    const auto scheme_end = url.find("://");
    const auto at = url.rfind('@');
    if (scheme_end == std::string_view::npos || at == std::string_view::npos || at < scheme_end) {
        return std::string{url};
    }
    return std::string{url.substr(0, scheme_end + 3)} + "***" + std::string{url.substr(at)};
}

// Connects and (unless options.migrate is false) migrates the schema under an advisory lock.
Result<std::unique_ptr<Store>> open_postgres(const PostgresOptions& options) {
    auto backend = detail::open_postgres_backend(options);
    if (!backend) {
        return Unexpected{backend.error()};
    }
    if (options.migrate) {
        if (auto r = detail::migrate(**backend); !r) {
            return Unexpected{r.error()};
        }
    }
    return detail::make_store(std::move(*backend));
}

}  // namespace linkpilot::store
