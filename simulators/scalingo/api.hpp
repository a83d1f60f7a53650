#pragma once

// The simulator's routes as plain functions of (request, deps) -> response (STYLE 9): the
// Scalingo calls of SPEC 4/7 and the /_sim/ test controls. The server does the I/O, the
// faults' delays, the rate limit and the persistence.

#include <boost/json/array.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "simulators/scalingo/faults.hpp"
#include "simulators/scalingo/jwt.hpp"
#include "simulators/scalingo/state.hpp"

namespace linkpilot::simulator {

struct Request {
    std::string method;  // "GET", "POST", ...
    std::string target;  // path and query
    std::string authorization;
    std::string body;
};

struct Response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool mutated = false;  // the state changed: persist it
};

struct CallRecord {
    std::uint64_t seq = 0;
    std::string method;
    std::string path;
    std::string app;
    unsigned status = 0;  // 0 while in flight
    std::int64_t started_at_ms = 0;
    std::optional<std::int64_t> finished_at_ms;
};

// Every Scalingo call in arrival order, for GET /_sim/calls.
class CallLog {
  public:
    std::uint64_t start(std::string method, std::string path, std::string app, std::int64_t now_ms);
    void finish(std::uint64_t seq, unsigned status, std::int64_t now_ms);
    void clear() { calls_.clear(); }
    [[nodiscard]] boost::json::array to_json() const;

  private:
    std::deque<CallRecord> calls_;
    std::uint64_t next_seq_ = 1;
};

struct Deps {
    State& state;
    JwtSigner& jwt;
    FaultQueue& faults;
    CallLog& calls;
    const Clock& clock;
    std::optional<std::string> api_token;  // --token: the only one the exchange accepts
};

// The app a path names (/v1/apps/NAME/...), or "".
std::string app_of(std::string_view path);
// The path part of a request target.
std::string path_of(std::string_view target);
bool is_control_path(std::string_view path);

// Key for --rate-limit: one window per API token (the JWT's subject), or "anonymous".
std::string rate_key(const Request& req, const Deps& deps);

Response handle(const Request& req, Deps& deps);

Response json_error(unsigned status, std::string_view message);
Response too_many_requests();

}  // namespace linkpilot::simulator
