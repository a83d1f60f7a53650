#include "daemon/jobs/job_args.hpp"

#include <gtest/gtest.h>

namespace linkpilot::jobs {
namespace {

TEST(JobArgs_Unit, ReadsBranchAndPrNumber) {
    auto a = parse_args(R"({"branch": "main", "pr_number": 42, "other": true})");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->branch, "main");
    EXPECT_EQ(a->pr_number, 42U);
}

TEST(JobArgs_Unit, AcceptsPrNumberAsDigits) {
    auto a = parse_args(R"({"pr_number": "7"})");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->pr_number, 7U);
    EXPECT_FALSE(a->branch.has_value());
}

TEST(JobArgs_Unit, RejectsNonObjectsAndBadNumbers) {
    EXPECT_FALSE(parse_args("[]").has_value());
    EXPECT_FALSE(parse_args("{").has_value());
    EXPECT_FALSE(parse_args(R"({"pr_number": -1})").has_value());
    EXPECT_FALSE(parse_args(R"({"pr_number": "7a"})").has_value());
    EXPECT_FALSE(parse_args(R"({"branch": 3})").has_value());
}

TEST(JobArgs_Unit, MapsActionNames) {
    EXPECT_EQ(action_from_string("deploy"), rules::ActionKind::deploy);
    EXPECT_EQ(action_from_string("review_app"), rules::ActionKind::review_app);
    EXPECT_EQ(action_from_string("delete_review_app"), rules::ActionKind::delete_review_app);
    EXPECT_FALSE(action_from_string("restart").has_value());
}

}  // namespace
}  // namespace linkpilot::jobs
