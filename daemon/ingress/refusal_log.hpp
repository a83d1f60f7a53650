#pragma once

// Warn lines for the answers the listener gives before any webhook logic runs: 413 (body over
// server.max_body_bytes), 404 (unknown path), 405 (wrong method). Scanners and misconfigured
// senders repeat them, so each kind is logged at most once per interval (on the injected
// clock) and the next line of that kind says how many were left out; the metrics count them
// all. A line names the method, the path and the peer, never the body, the headers or the query
// string (any of them may carry a secret).

#include <spdlog/logger.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace linkpilot::ingress {

enum class Refusal { too_large, not_found, method_not_allowed };

class RefusalLog {
  public:
    static constexpr std::chrono::seconds kInterval{10};

    RefusalLog(const Clock& clock, std::shared_ptr<spdlog::logger> log,
               std::chrono::steady_clock::duration interval = kInterval);

    // One such answer, to `method` `target` from `peer` ("" when unknown).
    void note(Refusal kind, std::string_view method, std::string_view target,
              std::string_view peer);

  private:
    struct State {
        std::optional<std::chrono::steady_clock::time_point> last_line;
        std::uint64_t left_out = 0;  // since last_line
    };

    const Clock& clock_;
    std::shared_ptr<spdlog::logger> log_;
    std::chrono::steady_clock::duration interval_;
    std::array<State, 3> states_{};
};

// A request target as a log line may show it: the path only ("?..." where a query was cut),
// bytes outside printable ASCII, '"' and '\' as \xNN, at most `max` characters of path.
std::string loggable_path(std::string_view target, std::size_t max = 200);

}  // namespace linkpilot::ingress
