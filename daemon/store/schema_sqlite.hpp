#pragma once

// The SQLite store's schema (sqlite_store.cpp): its migrations, in order.

#include <array>

namespace linkpilot::store::detail {

// Schema. Migration i (0-based) takes the database from version i to i + 1. Never edit a
// shipped migration; append a new one. Times are integer milliseconds since the Unix epoch.
inline constexpr std::array<const char*, 3> kSqliteMigrations = {
    R"sql(
CREATE TABLE deliveries (
    provider           TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    event              TEXT    NOT NULL,
    repo               TEXT    NOT NULL,
    received_at        INTEGER NOT NULL,
    status             TEXT    NOT NULL,
    payload            BLOB,
    payload_sha256     TEXT    NOT NULL,
    event_json         TEXT    NOT NULL,
    verdicts_json      TEXT    NOT NULL,
    config_fingerprint TEXT    NOT NULL,
    PRIMARY KEY (provider, id)
);
CREATE INDEX deliveries_by_id ON deliveries (id, received_at);
CREATE INDEX deliveries_with_payload ON deliveries (received_at) WHERE payload IS NOT NULL;

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT    NOT NULL,
    delivery_id     TEXT    NOT NULL,
    rule            TEXT    NOT NULL,
    action          TEXT    NOT NULL
                    CHECK (action IN ('deploy', 'review_app', 'delete_review_app')),
    app             TEXT    NOT NULL,
    args            TEXT    NOT NULL CHECK (json_valid(args)),
    state           TEXT    NOT NULL
                    CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    note            TEXT,
    debounce_key    TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    FOREIGN KEY (provider, delivery_id) REFERENCES deliveries (provider, id)
);
CREATE INDEX jobs_by_app ON jobs (app, state, id);
CREATE INDEX jobs_by_state ON jobs (state, next_attempt_at);
CREATE INDEX jobs_by_debounce ON jobs (debounce_key) WHERE state = 'pending';
CREATE INDEX jobs_by_delivery ON jobs (provider, delivery_id);
)sql",
    // Version 2: the executor finds queue heads and busy apps among the pending and running
    // jobs only, not among every done job the table accumulates; and a job's state change
    // touches these two small partial indexes instead of two indexes over every job.
    R"sql(
CREATE INDEX jobs_pending_by_app ON jobs (app, id) WHERE state = 'pending';
CREATE INDEX jobs_running_by_app ON jobs (app) WHERE state = 'running';
DROP INDEX jobs_by_app;
DROP INDEX jobs_by_state;
)sql",
    // Version 3: the `cancelled` state (`linkpilot jobs cancel`), which the state CHECK must
    // allow: SQLite cannot alter a CHECK, so the table is rebuilt, keeping every id and the id
    // sequence. Two flags: freeze_deferred (set by a deferral, so a reload can re-check it;
    // pending jobs an older version deferred are recognised by their note) and ignore_freeze
    // (`jobs run-now --ignore-freeze`). And job_attempts: every finished attempt's outcome.
    R"sql(
CREATE TABLE jobs_v3 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT    NOT NULL,
    delivery_id     TEXT    NOT NULL,
    rule            TEXT    NOT NULL,
    action          TEXT    NOT NULL
                    CHECK (action IN ('deploy', 'review_app', 'delete_review_app')),
    app             TEXT    NOT NULL,
    args            TEXT    NOT NULL CHECK (json_valid(args)),
    state           TEXT    NOT NULL
                    CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    note            TEXT,
    debounce_key    TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    freeze_deferred INTEGER NOT NULL DEFAULT 0,
    ignore_freeze   INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (provider, delivery_id) REFERENCES deliveries (provider, id)
);
INSERT INTO jobs_v3 (id, provider, delivery_id, rule, action, app, args, state, attempts,
                     next_attempt_at, last_error, note, debounce_key, created_at, updated_at,
                     freeze_deferred)
SELECT id, provider, delivery_id, rule, action, app, args, state, attempts, next_attempt_at,
       last_error, note, debounce_key, created_at, updated_at,
       CASE WHEN state = 'pending' AND note LIKE 'deferred: freeze window %' THEN 1 ELSE 0 END
FROM jobs;
DELETE FROM sqlite_sequence WHERE name = 'jobs_v3';
INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs_v3', seq FROM sqlite_sequence WHERE name = 'jobs';
DROP TABLE jobs;
ALTER TABLE jobs_v3 RENAME TO jobs;
CREATE INDEX jobs_pending_by_app ON jobs (app, id) WHERE state = 'pending';
CREATE INDEX jobs_running_by_app ON jobs (app) WHERE state = 'running';
CREATE INDEX jobs_by_debounce ON jobs (debounce_key) WHERE state = 'pending';
CREATE INDEX jobs_by_delivery ON jobs (provider, delivery_id);

CREATE TABLE job_attempts (
    job_id  INTEGER NOT NULL REFERENCES jobs (id),
    attempt INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    outcome TEXT    NOT NULL CHECK (outcome IN ('done', 'failed', 'rescheduled')),
    detail  TEXT,
    PRIMARY KEY (job_id, attempt)
);
)sql",
};

}  // namespace linkpilot::store::detail
