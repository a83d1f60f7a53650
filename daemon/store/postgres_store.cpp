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

#include "daemon/store/detail.hpp"
#include "daemon/store/schema_postgres.hpp"

namespace linkpilot::store {
namespace {

using detail::from_ms;
using detail::to_ms;

constexpr int kLatestVersion = static_cast<int>(detail::kPostgresMigrations.size());

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
// its entry in the job's history: one statement, one round trip. $3 is the time, the last
// two the outcome and its detail (text).
#define LINKPILOT_WITH_ATTEMPT(update, outcome, detail)                         \
    "WITH u AS (" update                                                        \
    " RETURNING id) "                                                           \
    "INSERT INTO job_attempts (job_id, attempt, at, outcome, detail) "          \
    "SELECT u.id, COALESCE((SELECT MAX(a.attempt) FROM job_attempts AS a "      \
    "WHERE a.job_id = u.id), 0) + 1, $3::bigint, '" outcome "', NULLIF(" detail \
    "::text, '') "                                                              \
    "FROM u"

constexpr const char* kInsertDelivery =
    "INSERT INTO deliveries (provider, id, event, repo, received_at, status, payload, "
    "payload_sha256, event_json, verdicts_json, config_fingerprint) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7::bytea, encode(sha256($7::bytea), 'hex'), $8, $9, $10) "
    "ON CONFLICT (provider, id) DO NOTHING";
constexpr const char* kInsertJob =
    "INSERT INTO jobs (provider, delivery_id, rule, action, app, args, state, attempts, "
    "next_attempt_at, debounce_key, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $9) RETURNING id";
constexpr const char* kInsertDeliveryAndJob =
    "WITH d AS (INSERT INTO deliveries (provider, id, event, repo, received_at, status, payload, "
    "payload_sha256, event_json, verdicts_json, config_fingerprint) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7::bytea, encode(sha256($7::bytea), 'hex'), $8, $9, $10) "
    "ON CONFLICT (provider, id) DO NOTHING RETURNING provider, id) "
    "INSERT INTO jobs (provider, delivery_id, rule, action, app, args, state, attempts, "
    "next_attempt_at, debounce_key, created_at, updated_at) "
    "SELECT d.provider, d.id, $11, $12, $13, $14, 'pending', 0, $15, $16, $17, $17 FROM d "
    "RETURNING id";
constexpr const char* kLockDebounceKeys =
    "SELECT pg_advisory_xact_lock(hashtextextended(" LINKPILOT_SCHEMA
    " || ':' || k, 0)) "
    "FROM unnest($1::text[]) AS k";
constexpr const char* kSupersede =
    "UPDATE jobs SET state = 'done', note = 'superseded by job ' || $1::bigint, updated_at = $2 "
    "WHERE debounce_key = $3 AND state = 'pending' AND attempts = 0 AND id < $1::bigint";
constexpr const char* kListJobs =
    "SELECT " LINKPILOT_JOB_COLUMNS
    " FROM jobs WHERE ($1::text IS NULL OR state = $1::text) "
    "AND ($2::text IS NULL OR app = $2::text) AND ($3::bigint = 0 OR freeze_deferred) "
    "ORDER BY id";
constexpr const char* kListAttempts =
    "SELECT a.job_id, a.attempt, a.at, a.outcome, a.detail FROM job_attempts AS a "
    "JOIN jobs AS j ON j.id = a.job_id WHERE ($1::text IS NULL OR j.state = $1::text) "
    "AND ($2::text IS NULL OR j.app = $2::text) AND ($3::bigint = 0 OR j.freeze_deferred) "
    "ORDER BY a.job_id, a.attempt";
constexpr const char* kGetJob = "SELECT " LINKPILOT_JOB_COLUMNS " FROM jobs WHERE id = $1";
constexpr const char* kJobState = "SELECT state, lease_owner FROM jobs WHERE id = $1";
constexpr const char* kClaimLock = "SELECT pg_advisory_xact_lock(" LINKPILOT_CLAIM_LOCK ")";
// Jobs whose owner stopped renewing (it died, or lost its connection for a whole lease) go
// back to pending: at-least-once, as after a crash on SQLite.
constexpr const char* kTakeOver =
    "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, "
    "note = 'lease of ' || lease_owner || ' expired: back in the queue', updated_at = $1 "
    "WHERE state = 'running' AND lease_expires_at <= $1";
constexpr const char* kRenew =
    "UPDATE jobs SET lease_expires_at = $2 WHERE state = 'running' AND lease_owner = $1";
// The head of each app's queue (its oldest pending job) when the app has nothing running,
// claimed in one statement. Run under the claim lock, after kTakeOver.
constexpr const char* kClaimRunnable =
    "UPDATE jobs AS u SET state = 'running', lease_owner = $3, lease_expires_at = $4, "
    "freeze_deferred = false, updated_at = $1 "
    "FROM (SELECT j.id FROM (SELECT MIN(id) AS head FROM jobs WHERE state = 'pending' "
    "GROUP BY app) AS h JOIN jobs AS j ON j.id = h.head "
    "WHERE j.next_attempt_at <= $1 "
    "AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = j.app AND r.state = 'running') "
    "ORDER BY j.id LIMIT $2 FOR UPDATE OF j SKIP LOCKED) AS c "
    "WHERE u.id = c.id RETURNING u.id, u.delivery_id, u.provider, u.rule, u.action, u.app, "
    "u.args, u.state, u.attempts, u.next_attempt_at, u.last_error, u.note, u.debounce_key, "
    "u.created_at, u.updated_at, u.freeze_deferred, u.ignore_freeze";
constexpr const char* kNextWakeup =
    "SELECT MIN(j.next_attempt_at) FROM (SELECT MIN(id) AS head FROM jobs "
    "WHERE state = 'pending' GROUP BY app) AS h JOIN jobs AS j ON j.id = h.head "
    "WHERE NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = j.app AND r.state = 'running')";
constexpr const char* kAppHead = "SELECT " LINKPILOT_JOB_COLUMNS
                                 " FROM jobs WHERE app = $1 AND state = 'pending' "
                                 "ORDER BY id LIMIT 1";
constexpr const char* kAppRunning =
    "SELECT id FROM jobs WHERE app = $1 AND state = 'running' LIMIT 1";
constexpr const char* kMarkRunning =
    "UPDATE jobs SET state = 'running', lease_owner = $2, lease_expires_at = $3, "
    "freeze_deferred = false, updated_at = $4 WHERE id = $1 AND state = 'pending'";
// Transitions of a running job: only by the instance holding its lease ($4).
constexpr const char* kComplete = LINKPILOT_WITH_ATTEMPT(
    "UPDATE jobs SET state = 'done', attempts = attempts + 1, last_error = NULL, "
    "note = NULLIF($2, ''), lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 "
    "WHERE id = $1 AND state = 'running' AND lease_owner = $4",
    "done", "$2");
constexpr const char* kFail = LINKPILOT_WITH_ATTEMPT(
    "UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = $2, "
    "lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 "
    "WHERE id = $1 AND state = 'running' AND lease_owner = $4",
    "failed", "$2");
constexpr const char* kReschedule = LINKPILOT_WITH_ATTEMPT(
    "UPDATE jobs SET state = 'pending', attempts = attempts + 1, last_error = $2, "
    "next_attempt_at = $5, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 "
    "WHERE id = $1 AND state = 'running' AND lease_owner = $4",
    "rescheduled", "$2");
constexpr const char* kDefer =
    "UPDATE jobs SET state = 'pending', next_attempt_at = $2, note = NULLIF($3, ''), "
    "freeze_deferred = true, lease_owner = NULL, lease_expires_at = NULL, updated_at = $4 "
    "WHERE id = $1 AND state = 'running' AND lease_owner = $5";
constexpr const char* kSkip =
    "UPDATE jobs SET state = 'done', last_error = NULL, note = NULLIF($2, ''), "
    "lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 "
    "WHERE id = $1 AND state = 'running' AND lease_owner = $4";
constexpr const char* kRetry =
    "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2 "
    "WHERE id = $1 AND state = 'failed'";
// Not the job the executor may hand its app's slot to without a claim (Store::cancel): its
// app's oldest pending job, due and not debounced, while the app has a job running.
constexpr const char* kCancel =
    "UPDATE jobs SET state = 'cancelled', freeze_deferred = false, note = $2, updated_at = $3 "
    "WHERE id = $1 AND state = 'pending' AND NOT (next_attempt_at <= $3 "
    "AND debounce_key IS NULL "
    "AND id = (SELECT MIN(h.id) FROM jobs AS h WHERE h.app = jobs.app AND h.state = 'pending') "
    "AND EXISTS (SELECT 1 FROM jobs AS r WHERE r.app = jobs.app AND r.state = 'running'))";
constexpr const char* kRunNow =
    "UPDATE jobs SET next_attempt_at = $4, freeze_deferred = false, "
    "ignore_freeze = ignore_freeze OR $2::bigint <> 0, note = $3, updated_at = $4 "
    "WHERE id = $1 AND state = 'pending'";
constexpr const char* kRedefer =
    "UPDATE jobs SET next_attempt_at = $2, freeze_deferred = $2::bigint > $4::bigint, "
    "note = $3, updated_at = $4 WHERE id = $1 AND state = 'pending' AND freeze_deferred";
// At start: only jobs whose lease ran out. The others belong to live replicas.
constexpr const char* kRecover =
    "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, "
    "updated_at = $1 WHERE state = 'running' AND lease_expires_at <= $1";
constexpr const char* kGetDelivery =
    "SELECT id, provider, event, repo, received_at, status, payload, payload_sha256, "
    "event_json, verdicts_json, config_fingerprint FROM deliveries WHERE id = $1 "
    "ORDER BY received_at DESC LIMIT 1";
constexpr const char* kPrunePayloads =
    "UPDATE deliveries SET payload = NULL WHERE payload IS NOT NULL AND received_at < $1";
constexpr const char* kCountJobs =
    "SELECT state, action, COUNT(*) FROM jobs GROUP BY state, action ORDER BY state, action";
constexpr const char* kOldestPending = "SELECT MIN(created_at) FROM jobs WHERE state = 'pending'";
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
constexpr const char* kLockMigrate = "SELECT pg_advisory_lock(" LINKPILOT_MIGRATE_LOCK ")";
constexpr const char* kUnlockMigrate = "SELECT pg_advisory_unlock(" LINKPILOT_MIGRATE_LOCK ")";
constexpr const char* kHasVersionTable = "SELECT to_regclass('schema_version') IS NOT NULL";
constexpr const char* kGetVersion = "SELECT MAX(version) FROM schema_version";

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

// Statement parameters. Strings go in binary format (their exact bytes, with their length:
// no NUL-terminated truncation), numbers as text.
class Params {
  public:
    Params& add(std::int64_t v) { return push(std::to_string(v), 0); }
    Params& add(TimePoint t) { return add(to_ms(t)); }
    Params& add(std::string_view v) { return push(std::string{v}, 1); }
    Params& add(const char* v) { return add(std::string_view{v}); }
    Params& add(const std::string& v) { return add(std::string_view{v}); }
    Params& add(const std::optional<std::string>& v) {
        if (!v) {
            values_.emplace_back();
            null_.push_back(true);
            formats_.push_back(0);
            return *this;
        }
        return add(std::string_view{*v});
    }
    // A PostgreSQL text[] literal (text format), for unnest($n::text[]).
    Params& add_text_array(const std::vector<std::string>& items) {
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
        return push(std::move(lit), 0);
    }

    [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }
    [[nodiscard]] std::vector<const char*> values() const {
        std::vector<const char*> out;
        out.reserve(values_.size());
        for (std::size_t i = 0; i < values_.size(); ++i) {
            out.push_back(null_[i] ? nullptr : values_[i].c_str());
        }
        return out;
    }
    [[nodiscard]] std::vector<int> lengths() const {
        std::vector<int> out;
        out.reserve(values_.size());
        for (const auto& v : values_) {
            out.push_back(static_cast<int>(v.size()));
        }
        return out;
    }
    [[nodiscard]] const std::vector<int>& formats() const { return formats_; }

  private:
    Params& push(std::string v, int format) {
        values_.push_back(std::move(v));
        null_.push_back(false);
        formats_.push_back(format);
        return *this;
    }
    std::vector<std::string> values_;
    std::vector<bool> null_;
    std::vector<int> formats_;
};

// A statement's answer (text format).
class Rows {
  public:
    explicit Rows(ResultPtr r) : r_(std::move(r)) {}
    [[nodiscard]] int size() const { return PQntuples(r_.get()); }
    [[nodiscard]] bool is_null(int row, int col) const {
        return PQgetisnull(r_.get(), row, col) == 1;
    }
    [[nodiscard]] std::string text(int row, int col) const {
        return {PQgetvalue(r_.get(), row, col),
                static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }
    [[nodiscard]] std::optional<std::string> opt_text(int row, int col) const {
        if (is_null(row, col)) {
            return std::nullopt;
        }
        return text(row, col);
    }
    [[nodiscard]] std::int64_t int64(int row, int col) const {
        const char* p = PQgetvalue(r_.get(), row, col);
        std::int64_t v = 0;
        std::from_chars(p, p + PQgetlength(r_.get(), row, col), v);
        return v;
    }
    [[nodiscard]] TimePoint time(int row, int col) const { return from_ms(int64(row, col)); }
    [[nodiscard]] bool boolean(int row, int col) const {
        return PQgetvalue(r_.get(), row, col)[0] == 't';
    }
    // A bytea column (hex text format) as its raw bytes.
    [[nodiscard]] std::string bytes(int row, int col) const {
        std::size_t n = 0;
        unsigned char* raw = PQunescapeBytea(
            reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
        if (raw == nullptr) {
            return {};
        }
        std::string out(reinterpret_cast<const char*>(raw), n);
        PQfreemem(raw);
        return out;
    }
    // Rows an INSERT/UPDATE/DELETE changed.
    [[nodiscard]] std::int64_t affected() const {
        const char* n = PQcmdTuples(r_.get());
        const std::string_view text = n == nullptr ? "" : n;
        std::int64_t count = 0;
        std::from_chars(text.data(), text.data() + text.size(), count);  // "" stays 0
        return count;
    }

  private:
    ResultPtr r_;
};

Job read_job(const Rows& q, int row) {
    Job j;
    j.id = q.int64(row, 0);
    j.delivery_id = q.text(row, 1);
    j.provider = q.text(row, 2);
    j.rule = q.text(row, 3);
    j.action = q.text(row, 4);
    j.app = q.text(row, 5);
    j.args_json = q.text(row, 6);
    j.state = q.text(row, 7);
    j.attempts = static_cast<std::int32_t>(q.int64(row, 8));
    j.next_attempt_at = q.time(row, 9);
    j.last_error = q.opt_text(row, 10);
    j.note = q.opt_text(row, 11);
    j.debounce_key = q.opt_text(row, 12);
    j.created_at = q.time(row, 13);
    j.updated_at = q.time(row, 14);
    j.freeze_deferred = q.boolean(row, 15);
    j.ignore_freeze = q.boolean(row, 16);
    return j;
}

std::vector<Job> read_jobs(const Rows& q) {
    std::vector<Job> jobs;
    jobs.reserve(static_cast<std::size_t>(q.size()));
    for (int i = 0; i < q.size(); ++i) {
        jobs.push_back(read_job(q, i));
    }
    return jobs;
}

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

class PostgresStore final : public Store {
  public:
    PostgresStore(ConnPtr conn, PostgresOptions options)
        : conn_(std::move(conn)), options_(std::move(options)), owner_(make_owner()) {}

    PostgresStore(const PostgresStore&) = delete;
    PostgresStore& operator=(const PostgresStore&) = delete;
    PostgresStore(PostgresStore&&) = delete;
    PostgresStore& operator=(PostgresStore&&) = delete;
    // Gives the sweep lock back now rather than when the server notices the disconnect, so
    // closing a store releases it as on SQLite.
    ~PostgresStore() override {
        if (sweep_locked_ && PQstatus(conn_.get()) == CONNECTION_OK) {
            (void)exec(kUnlockSweep);
        }
    }

    // Per-connection settings: every statement and lock wait is bounded, and a transaction
    // left open by a hung process does not hold its locks forever.
    Result<Ok> configure_session() {
        const auto ms = std::to_string(options_.statement_timeout.count());
        const std::string sql = "SET statement_timeout = " + ms + "; SET lock_timeout = " + ms +
                                "; SET idle_in_transaction_session_timeout = " + ms +
                                "; SET client_encoding = 'UTF8'";
        return exec(sql.c_str());
    }

    Result<AcceptResult> accept(const NewDelivery& delivery,
                                const std::vector<NewJob>& jobs) override {
        std::vector<AcceptItem> items;
        items.emplace_back(delivery, jobs);
        auto out = accept_batch(items);
        return std::move(out.front());
    }

    std::vector<Result<AcceptResult>> accept_batch(const std::vector<AcceptItem>& items) override {
        if (items.empty()) {
            return {};
        }
        // Each statement is a round trip to the server, so the usual batch goes without a
        // savepoint per item. When the server finds an item itself wrong (a text with a NUL,
        // invalid args JSON, ...), the whole transaction is void: it is then redone with a
        // savepoint per item, so only that item fails.
        auto out = accept_all(items, /*savepoints=*/false);
        if (!out.front() && out.front().error().kind == StoreError::Kind::invalid &&
            out.front().error().message.starts_with(kBadItem)) {
            out = accept_all(items, /*savepoints=*/true);
        }
        return out;
    }

    Result<std::vector<Job>> list_jobs(const JobFilter& filter) override {
        auto q = run(kListJobs, Params{}
                                    .add(filter.state)
                                    .add(filter.app)
                                    .add(std::int64_t{filter.freeze_deferred_only ? 1 : 0}));
        if (!q) {
            return Unexpected{q.error()};
        }
        return read_jobs(*q);
    }

    Result<std::optional<Job>> get_job(std::int64_t id) override {
        auto q = run(kGetJob, Params{}.add(id));
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->size() == 0) {
            return std::optional<Job>{};
        }
        return std::optional<Job>{read_job(*q, 0)};
    }

    Result<std::vector<Job>> claim_runnable(TimePoint now, std::size_t limit) override {
        if (limit == 0) {
            return std::vector<Job>{};
        }
        std::vector<Job> claimed;
        auto r = transaction("BEGIN", [&]() -> Result<Ok> {
            // The claim lock before any row lock (renew), as in settle().
            if (auto l = run(kClaimLock, Params{}); !l) {
                return Unexpected{l.error()};
            }
            if (auto renewed = renew(now); !renewed) {
                return renewed;
            }
            auto c = claim_locked(now, limit);
            if (!c) {
                return Unexpected{c.error()};
            }
            claimed = std::move(*c);
            return Ok{};
        });
        if (!r) {
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
        SettleResult out;
        auto r = transaction("BEGIN", [&]() -> Result<Ok> {
            out = SettleResult{};
            // As on SQLite, job outcomes need not wait for the disk: a lost commit only puts
            // the job back to running, then pending (at-least-once). Deliveries stay synchronous.
            if (auto s = exec("SET LOCAL synchronous_commit = off"); !s) {
                return s;
            }
            // The claim lock first, before any row lock, so claimers always lock in one order.
            const bool hands_over =
                std::any_of(transitions.begin(), transitions.end(),
                            [](const Transition& t) { return t.handover != 0; });
            if (claim_limit > 0 || hands_over) {
                if (auto l = run(kClaimLock, Params{}); !l) {
                    return Unexpected{l.error()};
                }
            }
            if (auto renewed = renew(now); !renewed) {
                return renewed;
            }
            for (const auto& t : transitions) {
                auto applied = apply(t, now);
                if (!applied && applied.error().kind != StoreError::Kind::not_found &&
                    applied.error().kind != StoreError::Kind::invalid_state) {
                    return applied;
                }
                out.transitions.push_back(std::move(applied));
                auto handed = hand_over(t, now, out);
                if (!handed && handed.error().kind != StoreError::Kind::invalid_state) {
                    return handed;
                }
                out.handovers.push_back(std::move(handed));
            }
            if (claim_limit == 0) {
                return Ok{};
            }
            if (scope == ClaimScope::all) {
                auto claimed = claim_locked(now, claim_limit);
                if (!claimed) {
                    return Unexpected{claimed.error()};
                }
                out.claimed = std::move(*claimed);
                for (const auto& j : out.claimed) {
                    if (auto n = add_next(j.app, j.id, now, out); !n) {
                        return n;
                    }
                }
                auto next = next_wakeup_query();
                if (!next) {
                    return Unexpected{next.error()};
                }
                out.next_wakeup = *next;
                return Ok{};
            }
            if (auto t = run(kTakeOver, Params{}.add(now)); !t) {
                return Unexpected{t.error()};
            }
            for (const auto app : detail::apps_to_claim(transitions, named)) {
                if (out.claimed.size() >= claim_limit) {
                    break;
                }
                if (auto c = claim_app_head(app, now, out); !c) {
                    return c;
                }
            }
            std::sort(out.claimed.begin(), out.claimed.end(),
                      [](const Job& a, const Job& b) { return a.id < b.id; });
            return Ok{};
        });
        if (!r) {
            return Unexpected{r.error()};
        }
        return out;
    }

    Result<Ok> complete(std::int64_t id, std::string_view note, TimePoint now) override {
        return transition(id, kStateRunning, kComplete,
                          Params{}.add(id).add(note).add(now).add(owner_));
    }

    Result<Ok> fail(std::int64_t id, std::string_view err, TimePoint now) override {
        return transition(id, kStateRunning, kFail, Params{}.add(id).add(err).add(now).add(owner_));
    }

    Result<Ok> reschedule(std::int64_t id, std::string_view err, TimePoint next_attempt_at,
                          TimePoint now) override {
        return transition(id, kStateRunning, kReschedule,
                          Params{}.add(id).add(err).add(now).add(owner_).add(next_attempt_at));
    }

    Result<Ok> defer(std::int64_t id, TimePoint until, std::string_view note,
                     TimePoint now) override {
        return transition(id, kStateRunning, kDefer,
                          Params{}.add(id).add(until).add(note).add(now).add(owner_));
    }

    Result<Ok> skip(std::int64_t id, std::string_view note, TimePoint now) override {
        return transition(id, kStateRunning, kSkip,
                          Params{}.add(id).add(note).add(now).add(owner_));
    }

    Result<Ok> retry(std::int64_t id, TimePoint now) override {
        return transition(id, kStateFailed, kRetry, Params{}.add(id).add(now));
    }

    Result<Ok> cancel(std::int64_t id, std::string_view note, TimePoint now) override {
        auto r = transition(id, kStatePending, kCancel, Params{}.add(id).add(note).add(now));
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
        auto running = run(kAppRunning, Params{}.add((*job)->app));
        if (!running) {
            return Unexpected{running.error()};
        }
        return Unexpected{
            detail::cancel_refused(**job, running->size() > 0 ? running->int64(0, 0) : 0)};
    }

    Result<Ok> run_now(std::int64_t id, bool ignore_freeze, std::string_view note,
                       TimePoint now) override {
        return transition(
            id, kStatePending, kRunNow,
            Params{}.add(id).add(std::int64_t{ignore_freeze ? 1 : 0}).add(note).add(now));
    }

    Result<Ok> redefer(std::int64_t id, TimePoint until, std::string_view note,
                       TimePoint now) override {
        return transition(id, detail::kFreezeDeferred, kRedefer,
                          Params{}.add(id).add(until).add(note).add(now));
    }

    Result<std::vector<Attempt>> list_attempts(const JobFilter& filter) override {
        auto q = run(kListAttempts, Params{}
                                        .add(filter.state)
                                        .add(filter.app)
                                        .add(std::int64_t{filter.freeze_deferred_only ? 1 : 0}));
        if (!q) {
            return Unexpected{q.error()};
        }
        std::vector<Attempt> out;
        out.reserve(static_cast<std::size_t>(q->size()));
        for (int i = 0; i < q->size(); ++i) {
            out.push_back(Attempt{q->int64(i, 0), static_cast<std::int32_t>(q->int64(i, 1)),
                                  q->time(i, 2), q->text(i, 3), q->opt_text(i, 4)});
        }
        return out;
    }

    Result<std::int64_t> recover_running(TimePoint now) override {
        auto q = run(kRecover, Params{}.add(now));
        if (!q) {
            return Unexpected{q.error()};
        }
        return q->affected();
    }

    Result<std::optional<TimePoint>> next_wakeup() override { return next_wakeup_query(); }

    Result<std::optional<Delivery>> get_delivery(std::string_view id) override {
        auto q = run(kGetDelivery, Params{}.add(id));
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->size() == 0) {
            return std::optional<Delivery>{};
        }
        Delivery d;
        d.id = q->text(0, 0);
        d.provider = q->text(0, 1);
        d.event = q->text(0, 2);
        d.repo = q->text(0, 3);
        d.received_at = q->time(0, 4);
        d.status = q->text(0, 5);
        if (!q->is_null(0, 6)) {
            d.payload = q->bytes(0, 6);
        }
        d.payload_sha256 = q->text(0, 7);
        d.event_json = q->text(0, 8);
        d.verdicts_json = q->text(0, 9);
        d.config_fingerprint = q->text(0, 10);
        return std::optional<Delivery>{std::move(d)};
    }

    Result<std::int64_t> prune_payloads(TimePoint older_than) override {
        auto q = run(kPrunePayloads, Params{}.add(older_than));
        if (!q) {
            return Unexpected{q.error()};
        }
        return q->affected();
    }

    Result<Stats> stats() override {
        Stats s;
        auto counts = run(kCountJobs, Params{});
        if (!counts) {
            return Unexpected{counts.error()};
        }
        for (int i = 0; i < counts->size(); ++i) {
            s.jobs.push_back(JobCount{counts->text(i, 0), counts->text(i, 1), counts->int64(i, 2)});
        }
        auto oldest = run(kOldestPending, Params{});
        if (!oldest) {
            return Unexpected{oldest.error()};
        }
        if (oldest->size() > 0 && !oldest->is_null(0, 0)) {
            s.oldest_pending_created_at = oldest->time(0, 0);
        }
        return s;
    }

    Result<SweepLock> try_lock_sweep(const SweepHolder& self) override {
        if (auto c = ensure_connected(); !c) {
            return Unexpected{c.error()};
        }
        if (sweep_locked_) {
            return SweepLock{.taken = true, .holder = {}};  // advisory locks stack: take it once
        }
        // A second try when the holder let go between the refusal and the look at who it was.
        for (int attempt = 0; attempt < 2; ++attempt) {
            auto q = run(kTryLockSweep, Params{});
            if (!q) {
                return Unexpected{q.error()};
            }
            if (q->size() > 0 && q->boolean(0, 0)) {
                sweep_locked_ = true;
                auto named = run(kNameSweepHolder, Params{}.add(sweep_holder_name(self)));
                if (!named) {
                    (void)unlock_sweep();
                    return Unexpected{named.error()};
                }
                return SweepLock{.taken = true, .holder = {}};
            }
            auto holder = run(kSweepHolder, Params{});
            if (!holder) {
                return Unexpected{holder.error()};
            }
            if (holder->size() > 0) {
                return SweepLock{.taken = false, .holder = describe_sweep_holder(*holder)};
            }
        }
        return SweepLock{.taken = false, .holder = "another PostgreSQL session"};
    }

    Result<Ok> unlock_sweep() override {
        if (!sweep_locked_) {
            return Ok{};
        }
        sweep_locked_ = false;
        if (auto q = run(kUnlockSweep, Params{}); !q) {
            return Unexpected{q.error()};
        }
        // After the unlock: a replica that sees the lock always sees its holder's name.
        return exec(kUnnameSweepHolder);
    }

    Result<MigrateResult> migrate() override {
        if (auto c = ensure_connected(); !c) {
            return Unexpected{c.error()};
        }
        // Replicas starting together: the first migrates, the others wait, then see it done.
        if (auto l = run(kLockMigrate, Params{}); !l) {
            return Unexpected{l.error()};
        }
        auto result = migrate_locked();
        (void)run(kUnlockMigrate, Params{});
        return result;
    }

    Result<int> schema_version() override {
        auto has = run(kHasVersionTable, Params{});
        if (!has) {
            return Unexpected{has.error()};
        }
        if (has->size() == 0 || !has->boolean(0, 0)) {
            return 0;
        }
        // Not prepared: the table may not exist when the connection is new.
        auto v = exec_rows(kGetVersion);
        if (!v) {
            return Unexpected{v.error()};
        }
        if (v->size() == 0 || v->is_null(0, 0)) {
            return 0;
        }
        return static_cast<int>(v->int64(0, 0));
    }

  private:
    [[nodiscard]] std::chrono::milliseconds lease() const { return options_.lease; }

    // A row of kSweepHolder: what the holder said of itself, or the session as PostgreSQL
    // knows it when it said nothing we read.
    static std::string describe_sweep_holder(const Rows& row) {
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
    Result<Ok> ensure_connected() {
        if (PQstatus(conn_.get()) == CONNECTION_OK) {
            return Ok{};
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

    // Statements without parameters (transaction control, session settings, DDL).
    Result<Ok> exec(const char* sql) {
        ResultPtr r{PQexec(conn_.get(), sql)};
        if (r == nullptr || !succeeded(r.get())) {
            return failure(r.get(), "PostgreSQL");
        }
        return Ok{};
    }

    Result<Rows> exec_rows(const char* sql) {
        ResultPtr r{PQexec(conn_.get(), sql)};
        if (r == nullptr || !succeeded(r.get())) {
            return failure(r.get(), "PostgreSQL");
        }
        return Rows{std::move(r)};
    }

    // A statement prepared once per connection (cached by the SQL constant's address).
    Result<Rows> run(const char* sql, const Params& params) {
        // Never mid-transaction: statements after a reconnect would run outside it.
        if (!in_transaction_) {
            if (auto c = ensure_connected(); !c) {
                return Unexpected{c.error()};
            }
        }
        auto it = prepared_.find(sql);
        if (it == prepared_.end()) {
            std::string name = "lp" + std::to_string(prepared_.size());
            ResultPtr p{PQprepare(conn_.get(), name.c_str(), sql, 0, nullptr)};
            if (p == nullptr || !succeeded(p.get())) {
                return failure(p.get(), "preparing statement");
            }
            it = prepared_.emplace(sql, std::move(name)).first;
        }
        const auto values = params.values();
        const auto lengths = params.lengths();
        ResultPtr r{PQexecPrepared(conn_.get(), it->second.c_str(), params.size(), values.data(),
                                   lengths.data(), params.formats().data(), 0)};
        if (r == nullptr || !succeeded(r.get())) {
            return failure(r.get(), "PostgreSQL");
        }
        return Rows{std::move(r)};
    }

    // BEGIN, body, COMMIT; ROLLBACK when the body or the commit fails.
    template <class Body>
    Result<Ok> transaction(const char* begin, Body&& body) {
        if (auto c = ensure_connected(); !c) {
            return c;
        }
        if (auto b = exec(begin); !b) {
            return b;
        }
        in_transaction_ = true;
        struct Leave {
            bool& flag;
            ~Leave() { flag = false; }
        } leave{in_transaction_};
        auto result = body();
        if (!result) {
            rollback();
            return result;
        }
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
        return Ok{};
    }

    void rollback() {
        if (PQstatus(conn_.get()) == CONNECTION_OK &&
            PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) {
            ResultPtr r{PQexec(conn_.get(), "ROLLBACK")};
        }
    }

    Result<Ok> renew(TimePoint now) {
        if (auto q = run(kRenew, Params{}.add(owner_).add(now + lease())); !q) {
            return Unexpected{q.error()};
        }
        return Ok{};
    }

    static constexpr std::string_view kBadItem = "batch item refused: ";

    std::vector<Result<AcceptResult>> accept_all(const std::vector<AcceptItem>& items,
                                                 bool savepoints) {
        std::vector<Result<AcceptResult>> out;
        auto r = transaction("BEGIN", [&]() -> Result<Ok> {
            out.clear();
            if (auto locked = lock_debounce_keys(items); !locked) {
                return locked;
            }
            for (const auto& [delivery, jobs] : items) {
                if (auto wrong = detail::check_accept(delivery, jobs)) {
                    out.emplace_back(Unexpected{std::move(*wrong)});
                    continue;
                }
                if (savepoints) {
                    if (auto sp = exec("SAVEPOINT item"); !sp) {
                        return Unexpected{sp.error()};
                    }
                }
                auto result = accept_one(delivery, jobs);
                if (!result && result.error().kind == StoreError::Kind::invalid && !savepoints) {
                    return error(StoreError::Kind::invalid,
                                 std::string{kBadItem} + result.error().message);
                }
                if (!result && result.error().kind != StoreError::Kind::invalid) {
                    return Unexpected{result.error()};
                }
                if (savepoints) {
                    if (auto end = exec(result ? "RELEASE item" : "ROLLBACK TO item"); !end) {
                        return Unexpected{end.error()};
                    }
                }
                out.push_back(std::move(result));
            }
            return Ok{};
        });
        if (!r) {
            return std::vector<Result<AcceptResult>>(items.size(), Unexpected{r.error()});
        }
        return out;
    }

    // Two replicas accepting for one debounce key must not both keep a pending job: each
    // batch locks its keys (in sorted order: no deadlock between batches) before inserting,
    // so the later one sees, and supersedes, the earlier one's job.
    Result<Ok> lock_debounce_keys(const std::vector<AcceptItem>& items) {
        std::vector<std::string> keys;
        for (const auto& item : items) {
            for (const auto& j : item.second) {
                if (j.debounce_key) {
                    keys.push_back(*j.debounce_key);
                }
            }
        }
        if (keys.empty()) {
            return Ok{};
        }
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        if (auto q = run(kLockDebounceKeys, Params{}.add_text_array(keys)); !q) {
            return Unexpected{q.error()};
        }
        return Ok{};
    }

    // Inside an open transaction and savepoint.
    Result<AcceptResult> accept_one(const NewDelivery& d, const std::vector<NewJob>& jobs) {
        Params p;
        p.add(d.provider)
            .add(d.id)
            .add(d.event)
            .add(d.repo)
            .add(d.received_at)
            .add(d.status)
            .add(std::string_view{d.payload})
            .add(d.event_json)
            .add(d.verdicts_json)
            .add(d.config_fingerprint);
        AcceptResult result;
        if (jobs.empty()) {
            auto q = run(kInsertDelivery, p);
            if (!q) {
                return Unexpected{q.error()};
            }
            result.duplicate = q->affected() == 0;
            return result;
        }
        // The delivery and its first job in one statement (one round trip for the usual
        // delivery): no job row comes back when the delivery was already stored.
        add_job_params(p, d, jobs.front());
        auto first = run(kInsertDeliveryAndJob, p);
        if (!first) {
            return Unexpected{first.error()};
        }
        if (first->size() == 0) {
            return AcceptResult{true, {}};
        }
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            const auto& j = jobs[i];
            std::int64_t id = 0;
            if (i == 0) {
                id = first->int64(0, 0);
            } else {
                Params jp;
                jp.add(d.provider).add(d.id);
                add_job_params(jp, d, j);
                auto q = run(kInsertJob, jp);
                if (!q) {
                    return Unexpected{q.error()};
                }
                id = q->int64(0, 0);
            }
            if (j.debounce_key) {
                auto sup =
                    run(kSupersede, Params{}.add(id).add(d.received_at).add(*j.debounce_key));
                if (!sup) {
                    return Unexpected{sup.error()};
                }
            }
            result.job_ids.push_back(id);
        }
        return result;
    }

    // rule, action, app, args, next_attempt_at, debounce_key, created_at.
    static void add_job_params(Params& p, const NewDelivery& d, const NewJob& j) {
        p.add(j.rule)
            .add(j.action)
            .add(j.app)
            .add(j.args_json.empty() ? std::string_view{"{}"} : std::string_view{j.args_json})
            .add(detail::first_attempt_at(d, j))
            .add(j.debounce_key)
            .add(d.received_at);
    }

    // Under the claim lock: take over expired leases, then claim the due queue heads.
    Result<std::vector<Job>> claim_locked(TimePoint now, std::size_t limit) {
        if (auto t = run(kTakeOver, Params{}.add(now)); !t) {
            return Unexpected{t.error()};
        }
        auto q = run(
            kClaimRunnable,
            Params{}.add(now).add(static_cast<std::int64_t>(limit)).add(owner_).add(now + lease()));
        if (!q) {
            return Unexpected{q.error()};
        }
        auto jobs = read_jobs(*q);
        std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
        return jobs;
    }

    Result<Ok> claim_app_head(std::string_view app, TimePoint now, SettleResult& out) {
        {
            auto busy = run(kAppRunning, Params{}.add(app));
            if (!busy) {
                return Unexpected{busy.error()};
            }
            if (busy->size() > 0) {
                return Ok{};
            }
        }
        auto q = run(kAppHead, Params{}.add(app));
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->size() == 0) {
            return Ok{};
        }
        Job head = read_job(*q, 0);
        if (head.next_attempt_at > now) {
            if (!out.next_wakeup || head.next_attempt_at < *out.next_wakeup) {
                out.next_wakeup = head.next_attempt_at;
            }
            return Ok{};
        }
        auto marked = mark_running(head.id, now);
        if (!marked) {
            return Unexpected{marked.error()};
        }
        if (!*marked) {
            return Ok{};  // superseded by an accept that committed meanwhile
        }
        head.state = kStateRunning;
        head.updated_at = now;
        const auto id = head.id;
        out.claimed.push_back(std::move(head));
        return add_next(app, id, now, out);
    }

    // Marks `t.handover`, which the executor already started, running under this instance's
    // lease (see Transition).
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

    // Marks pending job `id` running under this instance's lease; false when it was not pending.
    Result<bool> mark_running(std::int64_t id, TimePoint now) {
        auto mark = run(kMarkRunning, Params{}.add(id).add(owner_).add(now + lease()).add(now));
        if (!mark) {
            return Unexpected{mark.error()};
        }
        return mark->affected() > 0;
    }

    // Adds `app`'s oldest pending job to out.next when it may follow job `after` unclaimed.
    Result<Ok> add_next(std::string_view app, std::int64_t after, TimePoint now,
                        SettleResult& out) {
        auto q = run(kAppHead, Params{}.add(app));
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->size() > 0) {
            if (auto next = read_job(*q, 0); detail::may_follow(next, now)) {
                out.next.push_back(NextJob{after, std::move(next)});
            }
        }
        return Ok{};
    }

    Result<std::optional<TimePoint>> next_wakeup_query() {
        auto q = run(kNextWakeup, Params{});
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->size() == 0 || q->is_null(0, 0)) {
            return std::optional<TimePoint>{};
        }
        return std::optional<TimePoint>{q->time(0, 0)};
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

    Result<Ok> transition(std::int64_t id, std::string_view from, const char* sql,
                          const Params& params) {
        {
            auto q = run(sql, params);
            if (!q) {
                return Unexpected{q.error()};
            }
            if (q->affected() > 0) {
                return Ok{};
            }
        }
        auto q = run(kJobState, Params{}.add(id));
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->size() == 0) {
            return error(StoreError::Kind::not_found, "no job " + std::to_string(id));
        }
        const auto state = q->text(0, 0);
        if (state == from && from == kStateRunning) {
            return error(StoreError::Kind::invalid_state,
                         "job " + std::to_string(id) + " is running under another lease (" +
                             q->opt_text(0, 1).value_or("none") + "): this one expired");
        }
        return error(StoreError::Kind::invalid_state,
                     "job " + std::to_string(id) + " is " + state + ", not " + std::string{from});
    }

    Result<MigrateResult> migrate_locked() {
        auto current = schema_version();
        if (!current) {
            return Unexpected{current.error()};
        }
        const int from = *current;
        if (from > kLatestVersion) {
            return error(StoreError::Kind::other, "database schema version " +
                                                      std::to_string(from) +
                                                      " is newer than this linkpilot knows (" +
                                                      std::to_string(kLatestVersion) + ")");
        }
        for (int v = from; v < kLatestVersion; ++v) {
            const std::string set =
                "DELETE FROM schema_version; INSERT INTO schema_version "
                "VALUES (" +
                std::to_string(v + 1) + ")";
            auto r = transaction("BEGIN", [&]() -> Result<Ok> {
                if (auto t = exec(
                        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
                    !t) {
                    return t;
                }
                if (auto m = exec(detail::kPostgresMigrations.at(static_cast<std::size_t>(v)));
                    !m) {
                    return m;
                }
                return exec(set.c_str());
            });
            if (!r) {
                return error(r.error().kind, "migration to version " + std::to_string(v + 1) +
                                                 ": " + r.error().message);
            }
        }
        return MigrateResult{from, kLatestVersion};
    }

    ConnPtr conn_;
    PostgresOptions options_;
    std::string owner_;  // this instance's lease owner name
    std::unordered_map<const char*, std::string> prepared_;
    bool sweep_locked_ = false;
    bool in_transaction_ = false;
};

}  // namespace

int postgres_latest_schema_version() { return kLatestVersion; }

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

Result<std::unique_ptr<Store>> open_postgres(const PostgresOptions& options) {
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
    auto store = std::make_unique<PostgresStore>(std::move(conn), options);
    if (auto r = store->configure_session(); !r) {
        return Unexpected{r.error()};
    }
    if (options.migrate) {
        if (auto r = store->migrate(); !r) {
            return Unexpected{r.error()};
        }
    }
    return std::unique_ptr<Store>{std::move(store)};
}

}  // namespace linkpilot::store
