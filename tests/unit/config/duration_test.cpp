#include "config/duration.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace linkpilot::config {
namespace {

using namespace std::chrono_literals;

TEST(Config_Duration, ReadsEachUnit) {
    EXPECT_EQ(parse_duration("250ms"), 250ms);
    EXPECT_EQ(parse_duration("30s"), 30s);
    EXPECT_EQ(parse_duration("15m"), 15min);
    EXPECT_EQ(parse_duration("2h"), 2h);
    EXPECT_EQ(parse_duration("7d"), std::chrono::hours(7 * 24));
}

TEST(Config_Duration, AddsUpTermsInAnyOrder) {
    EXPECT_EQ(parse_duration("1h30m"), 90min);
    EXPECT_EQ(parse_duration("1d2h3m4s5ms"), std::chrono::hours(26) + 3min + 4s + 5ms);
    EXPECT_EQ(parse_duration("30m1h"), 90min);
    EXPECT_EQ(parse_duration("1s1s"), 2s);
}

TEST(Config_Duration, ZeroIsADurationTheCallerMayRefuse) {
    EXPECT_EQ(parse_duration("0s"), 0ms);
    EXPECT_EQ(parse_duration("0ms"), 0ms);
}

TEST(Config_Duration, RejectsWhatIsNotNumberThenUnit) {
    for (const char* bad : {"", "10", "s", "ms10", "-1s", "+1s", "1.5h", "1 h", " 1h", "1h ", "1H",
                            "1y", "1w", "1sec", "1min", "1h30", "1hh", "0x10s"}) {
        EXPECT_FALSE(parse_duration(bad).has_value()) << '"' << bad << '"';
    }
}

TEST(Config_Duration, RejectsATermOverTenYears) {
    EXPECT_EQ(parse_duration("3650d"), std::chrono::hours(3650 * 24));
    EXPECT_FALSE(parse_duration("3651d").has_value());
    EXPECT_FALSE(parse_duration("99999999999999999999s").has_value());  // beyond uint64
}

}  // namespace
}  // namespace linkpilot::config
