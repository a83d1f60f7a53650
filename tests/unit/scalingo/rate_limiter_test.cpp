#include "daemon/scalingo/rate_limiter.hpp"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.hpp"

namespace linkpilot::scalingo {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(Scalingo_RateLimiter, FirstCallGoesAtOnce) {
    testing::FakeClock clock;
    RateLimiter limiter(60, minutes(1));
    EXPECT_EQ(limiter.acquire(clock.steady_now()), RateLimiter::Duration::zero());
}

TEST(Scalingo_RateLimiter, BackToBackCallsQueueOneIntervalApart) {
    testing::FakeClock clock;
    RateLimiter limiter(60, minutes(1));
    EXPECT_EQ(limiter.acquire(clock.steady_now()), RateLimiter::Duration::zero());
    EXPECT_EQ(limiter.acquire(clock.steady_now()), seconds(1));
    EXPECT_EQ(limiter.acquire(clock.steady_now()), seconds(2));
    EXPECT_EQ(limiter.acquire(clock.steady_now()), seconds(3));
}

TEST(Scalingo_RateLimiter, RefillsWithTime) {
    testing::FakeClock clock;
    RateLimiter limiter(60, minutes(1));
    (void)limiter.acquire(clock.steady_now());
    clock.advance(milliseconds(400));
    EXPECT_EQ(limiter.acquire(clock.steady_now()), milliseconds(600));
    clock.advance(seconds(10));
    EXPECT_EQ(limiter.acquire(clock.steady_now()), RateLimiter::Duration::zero());
}

TEST(Scalingo_RateLimiter, BurstAllowsThatManyAtOnce) {
    testing::FakeClock clock;
    RateLimiter limiter(60, minutes(1), 3);
    EXPECT_EQ(limiter.acquire(clock.steady_now()), RateLimiter::Duration::zero());
    EXPECT_EQ(limiter.acquire(clock.steady_now()), RateLimiter::Duration::zero());
    EXPECT_EQ(limiter.acquire(clock.steady_now()), RateLimiter::Duration::zero());
    EXPECT_EQ(limiter.acquire(clock.steady_now()), seconds(1));
}

TEST(Scalingo_RateLimiter, NeverMoreThanTheLimitInAWindow) {
    testing::FakeClock clock;
    RateLimiter limiter(60, minutes(1));
    // 200 calls arriving together: the 61st must wait at least a minute.
    RateLimiter::Duration last{};
    for (int i = 0; i < 200; ++i) {
        last = limiter.acquire(clock.steady_now());
        if (i == 60) {
            EXPECT_GE(last, minutes(1));
        }
    }
    EXPECT_EQ(last, seconds(199));
}

TEST(Scalingo_RateLimiter, IdleTimeDoesNotBankMoreThanTheBurst) {
    testing::FakeClock clock;
    RateLimiter limiter(60, minutes(1), 2);
    clock.advance(minutes(30));
    EXPECT_EQ(limiter.acquire(clock.steady_now()), RateLimiter::Duration::zero());
    EXPECT_EQ(limiter.acquire(clock.steady_now()), RateLimiter::Duration::zero());
    EXPECT_EQ(limiter.acquire(clock.steady_now()), seconds(1));
}

TEST(Scalingo_RateLimiter, ZeroRequestsDisablesPacing) {
    testing::FakeClock clock;
    RateLimiter limiter(0, minutes(1));
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(limiter.acquire(clock.steady_now()), RateLimiter::Duration::zero());
    }
}

}  // namespace
}  // namespace linkpilot::scalingo
