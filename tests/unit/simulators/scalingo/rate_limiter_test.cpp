#include "simulators/scalingo/rate_limiter.hpp"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.hpp"

namespace linkpilot::simulator {
namespace {

TEST(Simulator_RateLimit, ParsesPerMinute) {
    EXPECT_EQ(*parse_rate_limit("60/min"), 60U);
    EXPECT_EQ(*parse_rate_limit("5/m"), 5U);
    EXPECT_EQ(*parse_rate_limit("7"), 7U);
    EXPECT_FALSE(parse_rate_limit("0/min").has_value());
    EXPECT_FALSE(parse_rate_limit("x/min").has_value());
    EXPECT_FALSE(parse_rate_limit("5/hour").has_value());
}

TEST(Simulator_RateLimit, RejectsBeyondNWithinAMinute) {
    testing::FakeClock clock;
    RateLimiter limiter(2);
    EXPECT_TRUE(limiter.allow("a", clock.steady_now()));
    clock.advance(std::chrono::seconds{10});
    EXPECT_TRUE(limiter.allow("a", clock.steady_now()));
    EXPECT_FALSE(limiter.allow("a", clock.steady_now()));
    EXPECT_TRUE(limiter.allow("b", clock.steady_now()));  // per token
}

TEST(Simulator_RateLimit, WindowRolls) {
    testing::FakeClock clock;
    RateLimiter limiter(1);
    EXPECT_TRUE(limiter.allow("a", clock.steady_now()));
    clock.advance(std::chrono::seconds{59});
    EXPECT_FALSE(limiter.allow("a", clock.steady_now()));
    clock.advance(std::chrono::seconds{1});
    EXPECT_TRUE(limiter.allow("a", clock.steady_now()));
}

}  // namespace
}  // namespace linkpilot::simulator
