#pragma once

#include "common/clock.hpp"

namespace linkpilot::testing {

// A clock that only moves when told to.
class FakeClock final : public Clock {
  public:
    explicit FakeClock(std::chrono::system_clock::time_point start =
                           std::chrono::system_clock::time_point{
                               std::chrono::seconds{1'700'000'000}})
        : wall_(start) {}

    [[nodiscard]] std::chrono::system_clock::time_point now() const override { return wall_; }
    [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override {
        return steady_;
    }
    void advance(std::chrono::nanoseconds d) {
        wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
        steady_ += d;
    }
    void set_wall(std::chrono::system_clock::time_point t) { wall_ = t; }

  private:
    std::chrono::system_clock::time_point wall_;
    std::chrono::steady_clock::time_point steady_{};
};

}  // namespace linkpilot::testing
