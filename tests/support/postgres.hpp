#pragma once

// PostgreSQL for tests: the server scripts/test starts (LINKPILOT_TEST_PG_URL). Each test gets
// its own schema (created here, dropped afterwards), so tests running in parallel against one
// server never see each other's tables. Without the variable, tests skip with a message.

#include <optional>
#include <string>

namespace linkpilot::testing {

// LINKPILOT_TEST_PG_URL, or nullopt when unset or empty.
std::optional<std::string> test_postgres_url();

// The message tests print when they skip for lack of a server.
inline constexpr const char* kNoPostgres =
    "PostgreSQL tests skipped: LINKPILOT_TEST_PG_URL is not set (scripts/test starts a local "
    "PostgreSQL 15 and sets it; see docs/ha.md)";

// A fresh schema on the test server; url() points at it (search_path), for the store and for
// `state.url` in daemon configs.
class PgSchema {
  public:
    explicit PgSchema(const std::string& server_url);
    ~PgSchema();
    PgSchema(const PgSchema&) = delete;
    PgSchema& operator=(const PgSchema&) = delete;

    [[nodiscard]] bool ok() const { return error_.empty(); }
    [[nodiscard]] const std::string& error() const { return error_; }
    [[nodiscard]] const std::string& url() const { return url_; }
    [[nodiscard]] const std::string& name() const { return name_; }

    // Runs SQL on the server (in this schema); returns the first column of the first row, or
    // the error message prefixed with "error: ".
    std::string query(const std::string& sql) const;

  private:
    std::string server_url_;
    std::string name_;
    std::string url_;
    std::string error_;
};

}  // namespace linkpilot::testing
