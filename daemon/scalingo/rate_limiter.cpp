#include "daemon/scalingo/rate_limiter.hpp"

#include <algorithm>

namespace linkpilot::scalingo {

RateLimiter::RateLimiter(std::uint32_t requests, std::chrono::milliseconds per, std::uint32_t burst)
    : burst_(std::max<std::uint32_t>(burst, 1)) {
    if (requests > 0) {
        interval_ = std::chrono::duration_cast<Duration>(per) / requests;
    }
}

RateLimiter::Duration RateLimiter::acquire(TimePoint now) {
    if (interval_ <= Duration::zero()) {
        return Duration::zero();
    }
    const auto tat = next_ ? std::max(*next_, now) : now;
    const auto allowed_at = tat - interval_ * (burst_ - 1);
    next_ = tat + interval_;
    return std::max(allowed_at - now, Duration::zero());
}

}  // namespace linkpilot::scalingo
