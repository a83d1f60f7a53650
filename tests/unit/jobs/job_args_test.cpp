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

TEST(JobArgs_Unit, ADeployActionBecomesADeployJobOfItsBranch) {
    rules::Action a;
    a.kind = rules::ActionKind::deploy;
    a.rule = "staging";
    a.app = "shop-staging";
    a.branch = "main";
    const auto job = job_for(a);
    EXPECT_EQ(job.rule, "staging");
    EXPECT_EQ(job.action, "deploy");
    EXPECT_EQ(job.app, "shop-staging");
    EXPECT_EQ(job.args_json, R"({"branch":"main"})");
    EXPECT_FALSE(job.debounce_key.has_value());
    EXPECT_FALSE(job.debounce.has_value());
    const auto back = parse_args(job.args_json);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->branch, "main");
}

TEST(JobArgs_Unit, ADebouncedReviewAppActionCarriesItsKey) {
    rules::Action a;
    a.kind = rules::ActionKind::review_app;
    a.rule = "previews";
    a.app = "shop-staging";
    a.pr_number = 42;
    a.debounce = std::chrono::seconds(30);
    const auto job = job_for(a);
    EXPECT_EQ(job.action, "review_app");
    EXPECT_EQ(job.args_json, R"({"pr_number":42})");
    EXPECT_EQ(job.debounce_key, "review_app|shop-staging|pr42");
    EXPECT_EQ(job.debounce, std::chrono::milliseconds(30000));

    a.kind = rules::ActionKind::deploy;
    a.branch = "feature/x";
    EXPECT_EQ(job_for(a).debounce_key, "deploy|shop-staging|feature/x");
}

}  // namespace
}  // namespace linkpilot::jobs
