#pragma once

// A token bucket (in its GCRA form) that paces the calls of one Client: at most `burst` calls at
// once, then one every `per / requests`. Pure logic over the injected clock's steady time; the
// caller waits the returned duration before sending. Each acquire reserves a slot, so
// concurrent callers queue in order instead of stampeding when the bucket refills.

#include <chrono>
#include <cstdint>
#include <optional>

namespace linkpilot::scalingo {

class RateLimiter {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;
    using Duration = std::chrono::steady_clock::duration;

    // requests == 0 disables pacing.
    RateLimiter(std::uint32_t requests, std::chrono::milliseconds per, std::uint32_t burst = 1);

    // Takes one slot and returns how long to wait before using it (zero: go now).
    [[nodiscard]] Duration acquire(TimePoint now);

  private:
    Duration interval_{0};
    std::uint32_t burst_ = 1;
    std::optional<TimePoint> next_;  // theoretical arrival time of the next slot
};

}  // namespace linkpilot::scalingo
