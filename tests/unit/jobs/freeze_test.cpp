#include "daemon/jobs/freeze.hpp"

#include <date/date.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>

#include "tests/support/store_builders.hpp"

namespace linkpilot::jobs {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using SysTime = std::chrono::system_clock::time_point;

using testing::utc;

config::FreezeWindow window(std::vector<int> days, minutes from, minutes to, std::string tz,
                            config::FreezeMode mode = config::FreezeMode::defer) {
    config::FreezeWindow w;
    w.days = std::move(days);
    w.from = from;
    w.to = to;
    w.tz = std::move(tz);
    w.mode = mode;
    return w;
}

constexpr int kFri = 5;
constexpr int kSat = 6;

TEST(Freeze_Unit, HoldsDeployInsideWindowAndGivesItsEnd) {
    // Friday 2026-01-09 16:30 in Paris (CET, UTC+1).
    const auto hit =
        active_window({window({kFri}, hours(16), hours(23) + minutes(59), "Europe/Paris")},
                      rules::ActionKind::deploy, utc("2026-01-09T15:30:00Z"));
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->mode, config::FreezeMode::defer);
    EXPECT_EQ(hit->end, utc("2026-01-09T22:59:00Z"));
    EXPECT_EQ(hit->description, "fri 16:00-23:59 Europe/Paris");
}

TEST(Freeze_Unit, FromIsInclusiveAndToIsExclusive) {
    const std::vector<config::FreezeWindow> ws{
        window({kFri}, hours(16), hours(18), "Europe/Paris")};
    EXPECT_FALSE(active_window(ws, rules::ActionKind::deploy, utc("2026-01-09T14:59:59Z")));
    EXPECT_TRUE(active_window(ws, rules::ActionKind::deploy, utc("2026-01-09T15:00:00Z")));
    EXPECT_TRUE(active_window(ws, rules::ActionKind::deploy, utc("2026-01-09T16:59:59Z")));
    EXPECT_FALSE(active_window(ws, rules::ActionKind::deploy, utc("2026-01-09T17:00:00Z")));
}

TEST(Freeze_Unit, IgnoresActionsTheWindowDoesNotList) {
    const std::vector<config::FreezeWindow> ws{window({}, hours(0), hours(24), "UTC")};
    EXPECT_TRUE(active_window(ws, rules::ActionKind::deploy, utc("2026-01-09T12:00:00Z")));
    EXPECT_FALSE(active_window(ws, rules::ActionKind::review_app, utc("2026-01-09T12:00:00Z")));
    EXPECT_FALSE(
        active_window(ws, rules::ActionKind::delete_review_app, utc("2026-01-09T12:00:00Z")));
}

TEST(Freeze_Unit, HoldsListedReviewApps) {
    auto w = window({}, hours(0), hours(24), "UTC");
    w.actions = {rules::ActionKind::review_app};
    EXPECT_TRUE(active_window({w}, rules::ActionKind::review_app, utc("2026-01-09T12:00:00Z")));
    EXPECT_FALSE(active_window({w}, rules::ActionKind::deploy, utc("2026-01-09T12:00:00Z")));
}

TEST(Freeze_Unit, UsesTheLocalWeekdayOfTheWindowZone) {
    // Friday 11:30 UTC is already Saturday 00:30 in Auckland (NZDT, UTC+13).
    const std::vector<config::FreezeWindow> ws{
        window({kSat}, hours(0), hours(1), "Pacific/Auckland")};
    const auto hit = active_window(ws, rules::ActionKind::deploy, utc("2026-01-09T11:30:00Z"));
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->end, utc("2026-01-09T12:00:00Z"));
    EXPECT_FALSE(active_window(ws, rules::ActionKind::deploy, utc("2026-01-10T11:30:00Z")));
}

TEST(Freeze_Unit, TwentyFourHundredEndsAtNextLocalMidnight) {
    const auto hit = active_window({window({kFri}, hours(22), hours(24), "Europe/Paris")},
                                   rules::ActionKind::deploy, utc("2026-01-09T22:10:00Z"));
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->end, utc("2026-01-09T23:00:00Z"));
    EXPECT_EQ(hit->description, "fri 22:00-24:00 Europe/Paris");
}

TEST(Freeze_Unit, SpringForwardDayEndsAtLocalFourInSummerTime) {
    // 2026-03-29 in Paris: 02:00 CET jumps to 03:00 CEST. 01:00-04:00 local is 00:00Z-02:00Z.
    const std::vector<config::FreezeWindow> ws{window({}, hours(1), hours(4), "Europe/Paris")};
    EXPECT_FALSE(active_window(ws, rules::ActionKind::deploy, utc("2026-03-28T23:59:00Z")));
    const auto hit = active_window(ws, rules::ActionKind::deploy, utc("2026-03-29T00:30:00Z"));
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->end, utc("2026-03-29T02:00:00Z"));
    // 03:30 CEST, after the jump, is still inside.
    const auto later = active_window(ws, rules::ActionKind::deploy, utc("2026-03-29T01:30:00Z"));
    ASSERT_TRUE(later.has_value());
    EXPECT_EQ(later->end, utc("2026-03-29T02:00:00Z"));
    EXPECT_FALSE(active_window(ws, rules::ActionKind::deploy, utc("2026-03-29T02:00:00Z")));
}

TEST(Freeze_Unit, FallBackDayEndsAtLocalFourInWinterTime) {
    // 2026-10-25 in Paris: 03:00 CEST falls back to 02:00 CET. 01:00-04:00 local is
    // 23:00Z (the day before) to 03:00Z: four real hours.
    const std::vector<config::FreezeWindow> ws{window({}, hours(1), hours(4), "Europe/Paris")};
    EXPECT_FALSE(active_window(ws, rules::ActionKind::deploy, utc("2026-10-24T22:59:00Z")));
    const auto hit = active_window(ws, rules::ActionKind::deploy, utc("2026-10-24T23:30:00Z"));
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->end, utc("2026-10-25T03:00:00Z"));
    EXPECT_FALSE(active_window(ws, rules::ActionKind::deploy, utc("2026-10-25T03:00:00Z")));
}

TEST(Freeze_Unit, EndInSkippedHourIsTheClockChange) {
    // 02:30 does not exist in Paris on 2026-03-29: the window ends when the clock jumps.
    const auto hit = active_window({window({}, hours(1), hours(2) + minutes(30), "Europe/Paris")},
                                   rules::ActionKind::deploy, utc("2026-03-29T00:30:00Z"));
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->end, utc("2026-03-29T01:00:00Z"));
}

TEST(Freeze_Unit, EndInRepeatedHourIsItsNextOccurrence) {
    // 02:30 happens twice in Paris on 2026-10-25: at 00:30Z (CEST) and 01:30Z (CET).
    const std::vector<config::FreezeWindow> ws{
        window({}, hours(1), hours(2) + minutes(30), "Europe/Paris")};
    const auto first = active_window(ws, rules::ActionKind::deploy, utc("2026-10-25T00:10:00Z"));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->end, utc("2026-10-25T00:30:00Z"));
    const auto second = active_window(ws, rules::ActionKind::deploy, utc("2026-10-25T01:10:00Z"));
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->end, utc("2026-10-25T01:30:00Z"));
}

TEST(Freeze_Unit, SkipWinsOverDefer) {
    const std::vector<config::FreezeWindow> ws{
        window({}, hours(0), hours(24), "UTC"),
        window({}, hours(10), hours(14), "UTC", config::FreezeMode::skip)};
    const auto hit = active_window(ws, rules::ActionKind::deploy, utc("2026-01-09T12:00:00Z"));
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->mode, config::FreezeMode::skip);
}

TEST(Freeze_Unit, LatestEndWinsAmongDeferWindows) {
    const std::vector<config::FreezeWindow> ws{window({}, hours(10), hours(13), "UTC"),
                                               window({}, hours(11), hours(15), "UTC")};
    const auto hit = active_window(ws, rules::ActionKind::deploy, utc("2026-01-09T12:00:00Z"));
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->end, utc("2026-01-09T15:00:00Z"));
}

TEST(Freeze_Unit, DescribesEveryDayAndSeveralDays) {
    EXPECT_EQ(describe(window({}, hours(1), hours(4), "UTC")), "every day 01:00-04:00 UTC");
    EXPECT_EQ(describe(window({1, 2}, minutes(0), hours(24), "UTC")), "mon,tue 00:00-24:00 UTC");
}

}  // namespace
}  // namespace linkpilot::jobs
