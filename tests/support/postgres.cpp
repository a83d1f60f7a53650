#include "tests/support/postgres.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>

namespace linkpilot::testing {
namespace {

struct ConnCloser {
    void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

std::string run(const std::string& url, const std::string& sql) {
    Conn c{PQconnectdb(url.c_str())};
    if (PQstatus(c.get()) != CONNECTION_OK) {
        return std::string{"error: "} + PQerrorMessage(c.get());
    }
    // No NOTICE lines ("drop cascades to ...") in the test output.
    PQsetNoticeProcessor(
        c.get(), [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(c.get(), sql.c_str());
    std::string out;
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        out = std::string{"error: "} + PQresultErrorMessage(r);
    } else if (PQntuples(r) > 0 && PQnfields(r) > 0) {
        out = PQgetvalue(r, 0, 0);
    }
    PQclear(r);
    return out;
}

std::string with_search_path(const std::string& url, const std::string& schema) {
    const char sep = url.find('?') == std::string::npos ? '?' : '&';
    return url + sep + "options=-csearch_path%3D" + schema;
}

}  // namespace

std::optional<std::string> test_postgres_url() {
    const char* v = std::getenv("LINKPILOT_TEST_PG_URL");
    if (v == nullptr || *v == '\0') {
        return std::nullopt;
    }
    return std::string{v};
}

PgSchema::PgSchema(const std::string& server_url) : server_url_(server_url) {
    static std::atomic<int> counter{0};
    std::random_device rd;
    name_ = "lp_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
            std::to_string(rd() % 100000);
    url_ = with_search_path(server_url_, name_);
    auto r = run(server_url_, "CREATE SCHEMA " + name_);
    if (r.starts_with("error: ")) {
        error_ = r;
    }
}

PgSchema::~PgSchema() {
    if (ok()) {
        (void)run(server_url_, "DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    }
}

std::string PgSchema::query(const std::string& sql) const { return run(url_, sql); }

}  // namespace linkpilot::testing
