#pragma once

// SQLite implementation of Store: WAL journal, synchronous=FULL (a commit is on disk before
// the ingress answers 202), foreign keys on, a busy timeout so a second process (the CLI next
// to the daemon) waits instead of failing, and cached prepared statements. One connection per
// Store object.

#include <chrono>
#include <filesystem>
#include <memory>

#include "daemon/store/store.hpp"

namespace linkpilot::store {

struct SqliteOptions {
    std::filesystem::path path;  // created, with its parent directories, if missing
    // Opens the file read-only: reads work, every write answers StoreError::Kind::readonly.
    // The schema must already be current (nothing can be migrated).
    bool read_only = false;
    std::chrono::milliseconds busy_timeout{5000};
};

// Opens (creating if needed) and migrates the database to the current schema.
Result<std::unique_ptr<Store>> open_sqlite(const SqliteOptions& options);

// The schema version this build writes (the number of migrations it knows).
int sqlite_latest_schema_version();

}  // namespace linkpilot::store
