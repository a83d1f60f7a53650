#pragma once

// The retry policy of SPEC 4 as pure logic: the job executor asks `decide` after a failed
// attempt and stores the next attempt time durably; nothing here sleeps or does I/O.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

#include "config/config.hpp"
#include "daemon/scalingo/errors.hpp"

namespace linkpilot::scalingo {

struct RetryPolicy {
    std::uint32_t max_attempts = 8;
    std::chrono::milliseconds initial_backoff = std::chrono::seconds(1);
    std::chrono::milliseconds max_backoff = std::chrono::minutes(5);
};

[[nodiscard]] RetryPolicy retry_policy_from(const config::Retry& retry);

struct RetryDecision {
    bool retry = false;
    std::chrono::milliseconds delay{0};
};

// `attempt` is the 1-based number of the attempt that just failed with `error`.
// - fatal errors and exhausted attempts: no retry;
// - 429 with Retry-After: that delay;
// - anything else retryable: full jitter, uniform(0, min(max_backoff, initial * 2^(attempt-1))).
[[nodiscard]] RetryDecision decide(const RetryPolicy& policy, const CallError& error,
                                   std::uint32_t attempt, std::mt19937_64& rng);

// The upper bound of the jittered delay after `attempt` (exposed for tests and logs).
[[nodiscard]] std::chrono::milliseconds backoff_cap(const RetryPolicy& policy,
                                                    std::uint32_t attempt);

// A Retry-After header value: delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `now`; a date in the past gives 0).
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace linkpilot::scalingo
