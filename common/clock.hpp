#pragma once

// The injected clock (STYLE 7): components take a `const Clock&`; tests pass a FakeClock
// (tests/support/fake_clock.hpp) and move time by hand instead of sleeping.

#include <chrono>

namespace linkpilot {

class Clock {
  public:
    virtual ~Clock() = default;
    // Wall time: timestamps in the store, freeze windows, token expiry.
    [[nodiscard]] virtual std::chrono::system_clock::time_point now() const = 0;
    // Monotonic time: timeouts, rate limiting, latencies.
    [[nodiscard]] virtual std::chrono::steady_clock::time_point steady_now() const = 0;
};

class SystemClock final : public Clock {
  public:
    [[nodiscard]] std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::now();
    }
    [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::now();
    }
};

}  // namespace linkpilot
