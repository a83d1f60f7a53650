#pragma once

// PostgreSQL implementation of Store (libpq), for several linkpilot replicas sharing one state
// (docs/ha.md). Same semantics as the SQLite store, with what sharing needs, all built on
// PostgreSQL's own guarantees:
// - deliveries are unique by (provider, id): a delivery sent to two replicas is stored once,
//   and the second answers duplicate once the first committed;
// - claiming runnable jobs takes a transaction-scoped advisory lock, so claims of all replicas
//   are serialised and an app never has two jobs running; rows are taken with
//   FOR UPDATE SKIP LOCKED;
// - a claimed job carries a lease (owner, expiry) that every settle() of its owner renews; a
//   job whose lease expired (its replica died) goes back to pending and another replica takes
//   it. Transitions only apply to jobs this store instance holds;
// - accepts lock their debounce keys (advisory, in key order), so two replicas accepting for
//   the same key supersede each other instead of both deploying;
// - migrations run under a session advisory lock; the review app sweep has its own.
// One connection per Store object, re-opened after it breaks; every statement has a timeout.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/store/store.hpp"

namespace linkpilot::store {

struct PostgresOptions {
    std::string url;  // postgresql://user:password@host:port/db?params (libpq's URI syntax)
    // How long a claimed job stays this instance's without a renewal (every settle() renews).
    // A replica that dies holds its running jobs this long before another one takes them.
    std::chrono::milliseconds lease{30000};
    std::chrono::milliseconds connect_timeout{10000};
    // statement_timeout and lock_timeout of every statement (a hung server fails the call,
    // the ingress answers 503, the forge redelivers).
    std::chrono::milliseconds statement_timeout{30000};
    // Read-only commands (`linkpilot jobs`) may skip migrating.
    bool migrate = true;
};

// Connects and (unless options.migrate is false) migrates the schema under an advisory lock.
// Errors never contain the URL's password.
Result<std::unique_ptr<Store>> open_postgres(const PostgresOptions& options);

// The schema version this build writes.
int postgres_latest_schema_version();

// `url` with its password replaced by "***", for logs and messages.
std::string redact_postgres_url(std::string_view url);

}  // namespace linkpilot::store
