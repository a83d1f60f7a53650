#include "simulators/scalingo/rate_limiter.hpp"

#include <charconv>

namespace linkpilot::simulator {

Expected<unsigned, std::string> parse_rate_limit(const std::string& text) {
    std::string_view s = text;
    for (std::string_view suffix : {"/min", "/m"}) {
        if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
            s.remove_suffix(suffix.size());
            break;
        }
    }
    unsigned n = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || ptr != s.data() + s.size() || n == 0) {
        return Unexpected{"invalid --rate-limit \"" + text + "\" (expected N/min, N > 0)"};
    }
    return n;
}

bool RateLimiter::allow(const std::string& key, std::chrono::steady_clock::time_point now) {
    auto& window = windows_[key];
    while (!window.empty() && now - window.front() >= std::chrono::minutes{1}) {
        window.pop_front();
    }
    if (window.size() >= per_minute_) {
        return false;  // rejected calls do not count, as with a token bucket
    }
    window.push_back(now);
    return true;
}

}  // namespace linkpilot::simulator
