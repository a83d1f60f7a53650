#include "daemon/scalingo/retry.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace linkpilot::scalingo {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

RetryPolicy policy() { return RetryPolicy{5, seconds(1), seconds(10)}; }

CallError server_error() { return CallError{ErrorKind::retryable, 500, std::nullopt, "500"}; }

TEST(Scalingo_Retry, BackoffCapDoublesUntilMaxBackoff) {
    const auto p = policy();
    EXPECT_EQ(backoff_cap(p, 1), seconds(1));
    EXPECT_EQ(backoff_cap(p, 2), seconds(2));
    EXPECT_EQ(backoff_cap(p, 3), seconds(4));
    EXPECT_EQ(backoff_cap(p, 4), seconds(8));
    EXPECT_EQ(backoff_cap(p, 5), seconds(10));
    EXPECT_EQ(backoff_cap(p, 60), seconds(10));  // no overflow for huge attempt numbers
}

TEST(Scalingo_Retry, ServerErrorRetriesWithFullJitterWithinCap) {
    RetryPolicy p{100, seconds(1), seconds(30)};
    std::mt19937_64 rng(42);
    for (std::uint32_t attempt = 1; attempt < 10; ++attempt) {
        for (int i = 0; i < 50; ++i) {
            const auto d = decide(p, server_error(), attempt, rng);
            ASSERT_TRUE(d.retry);
            EXPECT_GE(d.delay, milliseconds(0));
            EXPECT_LE(d.delay, backoff_cap(p, attempt));
        }
    }
}

TEST(Scalingo_Retry, JitterIsDeterministicForASeedAndSpreadsOut) {
    std::mt19937_64 a(7);
    std::mt19937_64 b(7);
    const RetryPolicy p{100, seconds(10), seconds(10)};
    milliseconds lowest = seconds(10);
    milliseconds highest{0};
    for (int i = 0; i < 200; ++i) {
        const auto da = decide(p, server_error(), 1, a);
        const auto db = decide(p, server_error(), 1, b);
        EXPECT_EQ(da.delay, db.delay);
        lowest = std::min(lowest, da.delay);
        highest = std::max(highest, da.delay);
    }
    // Full jitter: the delays use the whole [0, cap] range, not just its top.
    EXPECT_LT(lowest, seconds(2));
    EXPECT_GT(highest, seconds(8));
}

TEST(Scalingo_Retry, TransportErrorBacksOff) {
    std::mt19937_64 rng(1);
    const auto d = decide(policy(), transport_error("connecting: refused"), 2, rng);
    EXPECT_TRUE(d.retry);
    EXPECT_LE(d.delay, seconds(2));
}

TEST(Scalingo_Retry, TooManyRequestsHonoursRetryAfter) {
    std::mt19937_64 rng(1);
    const CallError e{ErrorKind::retryable, 429, seconds(42), "429 Too Many Requests"};
    const auto d = decide(policy(), e, 1, rng);
    EXPECT_TRUE(d.retry);
    EXPECT_EQ(d.delay, seconds(42));  // even beyond max_backoff: the server said so
}

TEST(Scalingo_Retry, TooManyRequestsWithoutRetryAfterBacksOff) {
    std::mt19937_64 rng(1);
    const CallError e{ErrorKind::retryable, 429, std::nullopt, "429 Too Many Requests"};
    const auto d = decide(policy(), e, 3, rng);
    EXPECT_TRUE(d.retry);
    EXPECT_LE(d.delay, seconds(4));
}

TEST(Scalingo_Retry, NotFoundFailsAtOnce) {
    std::mt19937_64 rng(1);
    const auto e = error_from_answer(404, R"({"resource": "app", "error": "not found"})", {});
    EXPECT_EQ(e.kind, ErrorKind::fatal);
    EXPECT_FALSE(decide(policy(), e, 1, rng).retry);
}

TEST(Scalingo_Retry, UnprocessableEntityFailsAtOnce) {
    std::mt19937_64 rng(1);
    const auto e = error_from_answer(422, R"({"errors": {"branch": ["can't be blank"]}})", {});
    EXPECT_FALSE(decide(policy(), e, 1, rng).retry);
}

TEST(Scalingo_Retry, StopsWhenAttemptsAreExhausted) {
    std::mt19937_64 rng(1);
    EXPECT_TRUE(decide(policy(), server_error(), 4, rng).retry);
    EXPECT_FALSE(decide(policy(), server_error(), 5, rng).retry);
    EXPECT_FALSE(decide(policy(), server_error(), 6, rng).retry);
}

TEST(Scalingo_Retry, ClassifiesStatuses) {
    EXPECT_EQ(classify_status(429), ErrorKind::retryable);
    EXPECT_EQ(classify_status(500), ErrorKind::retryable);
    EXPECT_EQ(classify_status(503), ErrorKind::retryable);
    EXPECT_EQ(classify_status(408), ErrorKind::retryable);
    EXPECT_EQ(classify_status(400), ErrorKind::fatal);
    EXPECT_EQ(classify_status(401), ErrorKind::fatal);
    EXPECT_EQ(classify_status(404), ErrorKind::fatal);
    EXPECT_EQ(classify_status(422), ErrorKind::fatal);
}

TEST(Scalingo_Retry, ParsesRetryAfterSeconds) {
    const auto now = std::chrono::system_clock::time_point(seconds(1'700'000'000));
    EXPECT_EQ(parse_retry_after("120", now), seconds(120));
    EXPECT_EQ(parse_retry_after(" 0 ", now), seconds(0));
}

TEST(Scalingo_Retry, ParsesRetryAfterHttpDateRelativeToNow) {
    // 2015-10-21T07:28:00Z = 1445412480
    const auto now = std::chrono::system_clock::time_point(seconds(1445412480 - 90));
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), seconds(90));
}

TEST(Scalingo_Retry, RetryAfterDateInThePastIsZero) {
    const auto now = std::chrono::system_clock::time_point(seconds(1445412480 + 10));
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), milliseconds(0));
}

TEST(Scalingo_Retry, RejectsGarbageRetryAfter) {
    const auto now = std::chrono::system_clock::time_point(seconds(1'700'000'000));
    EXPECT_FALSE(parse_retry_after("", now));
    EXPECT_FALSE(parse_retry_after("soon", now));
    EXPECT_FALSE(parse_retry_after("-5", now));
    EXPECT_FALSE(parse_retry_after("21 Oct 2015", now));
}

TEST(Scalingo_Retry, PolicyComesFromConfig) {
    config::Retry r;
    r.max_attempts = 3;
    r.initial_backoff = seconds(2);
    r.max_backoff = seconds(20);
    const auto p = retry_policy_from(r);
    EXPECT_EQ(p.max_attempts, 3u);
    EXPECT_EQ(p.initial_backoff, seconds(2));
    EXPECT_EQ(p.max_backoff, seconds(20));
}

}  // namespace
}  // namespace linkpilot::scalingo
