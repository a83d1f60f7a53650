#pragma once

// --rate-limit N/min: a rolling one-minute window per API token, like Scalingo's own limit.

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "common/expected.hpp"

namespace linkpilot::simulator {

// "60/min" -> 60. Also accepts "N/m" and a bare "N".
Expected<unsigned, std::string> parse_rate_limit(const std::string& text);

class RateLimiter {
  public:
    explicit RateLimiter(unsigned per_minute) : per_minute_(per_minute) {}
    // Records the request and says whether it fits in the window.
    bool allow(const std::string& key, std::chrono::steady_clock::time_point now);

  private:
    unsigned per_minute_;
    std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> windows_;
};

}  // namespace linkpilot::simulator
