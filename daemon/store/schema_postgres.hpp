#pragma once

// The PostgreSQL store's schema (postgres_store.cpp): its migrations, in order.

#include <array>

namespace linkpilot::store::detail {

// Schema. Migration i (0-based) takes the database from version i to i + 1; never edit a
// shipped one. Same tables as the SQLite store, times in integer milliseconds, plus the lease
// columns of running jobs.
inline constexpr std::array<const char*, 2> kPostgresMigrations = {
    R"sql(
CREATE TABLE deliveries (
    provider           TEXT   NOT NULL,
    id                 TEXT   NOT NULL,
    event              TEXT   NOT NULL,
    repo               TEXT   NOT NULL,
    received_at        BIGINT NOT NULL,
    status             TEXT   NOT NULL,
    payload            BYTEA,
    payload_sha256     TEXT   NOT NULL,
    event_json         TEXT   NOT NULL,
    verdicts_json      TEXT   NOT NULL,
    config_fingerprint TEXT   NOT NULL,
    PRIMARY KEY (provider, id)
);
CREATE INDEX deliveries_by_id ON deliveries (id, received_at);
CREATE INDEX deliveries_with_payload ON deliveries (received_at) WHERE payload IS NOT NULL;

CREATE TABLE jobs (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider         TEXT    NOT NULL,
    delivery_id      TEXT    NOT NULL,
    rule             TEXT    NOT NULL,
    action           TEXT    NOT NULL
                     CHECK (action IN ('deploy', 'review_app', 'delete_review_app')),
    app              TEXT    NOT NULL,
    args             TEXT    NOT NULL CHECK (args::jsonb IS NOT NULL),
    state            TEXT    NOT NULL
                     CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL,
    last_error       TEXT,
    note             TEXT,
    debounce_key     TEXT,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    FOREIGN KEY (provider, delivery_id) REFERENCES deliveries (provider, id)
);
CREATE INDEX jobs_pending_by_app ON jobs (app, id) WHERE state = 'pending';
CREATE INDEX jobs_running_by_app ON jobs (app) WHERE state = 'running';
CREATE INDEX jobs_running_by_owner ON jobs (lease_owner) WHERE state = 'running';
CREATE INDEX jobs_by_debounce ON jobs (debounce_key) WHERE state = 'pending';
CREATE INDEX jobs_by_delivery ON jobs (provider, delivery_id);
)sql",
    // Version 2 (as SQLite's version 3): the `cancelled` state, the freeze_deferred flag (pending
    // jobs an older version deferred are recognised by their note), the ignore_freeze flag, and
    // job_attempts, every finished attempt's outcome.
    R"sql(
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled'));
ALTER TABLE jobs ADD COLUMN freeze_deferred BOOLEAN NOT NULL DEFAULT false,
                 ADD COLUMN ignore_freeze   BOOLEAN NOT NULL DEFAULT false;
UPDATE jobs SET freeze_deferred = true
    WHERE state = 'pending' AND note LIKE 'deferred: freeze window %';
CREATE TABLE job_attempts (
    job_id  BIGINT  NOT NULL REFERENCES jobs (id),
    attempt INTEGER NOT NULL,
    at      BIGINT  NOT NULL,
    outcome TEXT    NOT NULL CHECK (outcome IN ('done', 'failed', 'rescheduled')),
    detail  TEXT,
    PRIMARY KEY (job_id, attempt)
);
)sql",
};

}  // namespace linkpilot::store::detail
