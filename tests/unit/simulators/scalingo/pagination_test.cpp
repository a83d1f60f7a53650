#include "simulators/scalingo/pagination.hpp"

#include <gtest/gtest.h>

namespace linkpilot::simulator {
namespace {

TEST(Simulator_Pagination, FirstOfSeveralPages) {
    const auto p = paginate(45, 1, 20);
    EXPECT_EQ(p.current_page, 1U);
    EXPECT_FALSE(p.prev_page.has_value());
    EXPECT_EQ(p.next_page, 2U);
    EXPECT_EQ(p.total_pages, 3U);
    EXPECT_EQ(p.total_count, 45U);
    EXPECT_EQ(p.begin, 0U);
    EXPECT_EQ(p.end, 20U);
}

TEST(Simulator_Pagination, LastPageIsPartial) {
    const auto p = paginate(45, 3, 20);
    EXPECT_EQ(p.prev_page, 2U);
    EXPECT_FALSE(p.next_page.has_value());
    EXPECT_EQ(p.begin, 40U);
    EXPECT_EQ(p.end, 45U);
}

TEST(Simulator_Pagination, EmptyListHasOneEmptyPage) {
    const auto p = paginate(0, 1, 20);
    EXPECT_EQ(p.total_pages, 1U);
    EXPECT_EQ(p.begin, p.end);
    EXPECT_FALSE(p.next_page.has_value());
}

TEST(Simulator_Pagination, PagePastTheEndIsEmpty) {
    const auto p = paginate(5, 9, 2);
    EXPECT_EQ(p.begin, 5U);
    EXPECT_EQ(p.end, 5U);
    EXPECT_EQ(p.prev_page, 3U);
    EXPECT_FALSE(p.next_page.has_value());
}

TEST(Simulator_Pagination, ClampsPageAndPerPage) {
    const auto p = paginate(500, 0, 0);
    EXPECT_EQ(p.current_page, 1U);
    EXPECT_EQ(p.end - p.begin, 1U);
    EXPECT_EQ(paginate(500, 1, 10'000).end, kMaxPerPage);
}

TEST(Simulator_Pagination, ExactMultipleHasNoExtraPage) {
    EXPECT_EQ(paginate(40, 1, 20).total_pages, 2U);
}

}  // namespace
}  // namespace linkpilot::simulator
