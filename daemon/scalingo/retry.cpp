#include "daemon/scalingo/retry.hpp"

#include <date/date.h>

#include <algorithm>
#include <charconv>
#include <sstream>
#include <string>

namespace linkpilot::scalingo {

RetryPolicy retry_policy_from(const config::Retry& retry) {
    return RetryPolicy{retry.max_attempts, retry.initial_backoff, retry.max_backoff};
}

std::chrono::milliseconds backoff_cap(const RetryPolicy& policy, std::uint32_t attempt) {
    auto cap = std::max(policy.initial_backoff, std::chrono::milliseconds(0));
    // Doubling stops at max_backoff, so no overflow whatever the attempt number.
    for (std::uint32_t i = 1; i < attempt && cap < policy.max_backoff; ++i) {
        cap *= 2;
    }
    return std::min(cap, policy.max_backoff);
}

RetryDecision decide(const RetryPolicy& policy, const CallError& error, std::uint32_t attempt,
                     std::mt19937_64& rng) {
    if (!error.retryable() || attempt >= policy.max_attempts) {
        return {};
    }
    if (error.status == 429 && error.retry_after) {
        return {true, std::max(*error.retry_after, std::chrono::milliseconds(0))};
    }
    const auto cap = backoff_cap(policy, attempt);
    std::uniform_int_distribution<std::chrono::milliseconds::rep> jitter(0, cap.count());
    return {true, std::chrono::milliseconds(jitter(rng))};
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
    while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    while (!value.empty() && value.back() == ' ') {
        value.remove_suffix(1);
    }
    if (value.empty()) {
        return std::nullopt;
    }
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        std::int64_t seconds = 0;
        const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec != std::errc{} || ptr != value.data() + value.size()) {
            return std::nullopt;
        }
        // A day is plenty; a larger value is a broken header, not a plan.
        seconds = std::min<std::int64_t>(seconds, 24 * 3600);
        return std::chrono::seconds(seconds);
    }
    // RFC 9110 IMF-fixdate, the only form servers may send today.
    std::istringstream in{std::string(value)};
    date::sys_seconds at;
    in >> date::parse("%a, %d %b %Y %H:%M:%S GMT", at);
    if (in.fail()) {
        return std::nullopt;
    }
    const auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
    return std::max(delta, std::chrono::milliseconds(0));
}

}  // namespace linkpilot::scalingo
