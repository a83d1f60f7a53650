#include "simulators/scalingo/faults.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace linkpilot::simulator {
namespace {

Fault fault(std::string path, unsigned status, unsigned times = 1, std::string method = {}) {
    Fault f;
    f.path = std::move(path);
    f.status = status;
    f.times = times;
    f.method = std::move(method);
    return f;
}

TEST(Simulator_Glob, StarSpansSlashes) {
    EXPECT_TRUE(glob_match("/v1/apps/*/scm_repo_link/*", "/v1/apps/shop/scm_repo_link/pulls"));
    EXPECT_TRUE(glob_match("*manual_deploy", "/v1/apps/a/scm_repo_link/manual_deploy"));
    EXPECT_FALSE(glob_match("/v1/apps/*/pulls", "/v1/apps/a/scm_repo_link/review_apps"));
    EXPECT_TRUE(glob_match("*", ""));
    EXPECT_FALSE(glob_match("/v1", "/v1/apps"));
}

TEST(Simulator_Faults, PatternWithoutStarIsAPrefix) {
    EXPECT_TRUE(fault_matches(fault("/v1/apps/shop", 500), "POST", "/v1/apps/shop/scm_repo_link"));
    EXPECT_FALSE(fault_matches(fault("/v1/apps/shop", 500), "POST", "/v1/scm_repo_links"));
}

TEST(Simulator_Faults, MethodMustMatchWhenGiven) {
    EXPECT_FALSE(fault_matches(fault("/v1", 500, 1, "GET"), "POST", "/v1/apps"));
    EXPECT_TRUE(fault_matches(fault("/v1", 500, 1, "POST"), "POST", "/v1/apps"));
}

TEST(Simulator_Faults, ConsumesTimesThenStops) {
    FaultQueue q;
    q.add(fault("/v1/apps", 500, 2));
    EXPECT_EQ(q.take("GET", "/v1/apps/x")->status, 500U);
    EXPECT_EQ(q.take("GET", "/v1/apps/x")->status, 500U);
    EXPECT_FALSE(q.take("GET", "/v1/apps/x").has_value());
    EXPECT_EQ(q.size(), 0U);
}

TEST(Simulator_Faults, AppliesInQueueOrder) {
    FaultQueue q;
    q.add(fault("/v1/apps", 503));
    q.add(fault("/v1/apps", 429));
    EXPECT_EQ(q.take("GET", "/v1/apps/x")->status, 503U);
    EXPECT_EQ(q.take("GET", "/v1/apps/x")->status, 429U);
}

TEST(Simulator_Faults, NonMatchingCallLeavesQueueAlone) {
    FaultQueue q;
    q.add(fault("/v1/apps/a/", 500));
    EXPECT_FALSE(q.take("GET", "/v1/apps/b/scm_repo_link").has_value());
    EXPECT_EQ(q.size(), 1U);
}

TEST(Simulator_Faults, ParsesAllFields) {
    auto f = parse_fault(boost::json::parse(
        R"({"path":"/v1/*","method":"POST","status":429,"retry_after":3,"delay_ms":50,"times":4,"body":"slow down"})"));
    ASSERT_TRUE(f.has_value()) << f.error();
    EXPECT_EQ(f->path, "/v1/*");
    EXPECT_EQ(f->method, "POST");
    EXPECT_EQ(f->status, 429U);
    EXPECT_EQ(f->retry_after, 3U);
    EXPECT_EQ(f->delay, std::chrono::milliseconds{50});
    EXPECT_EQ(f->times, 4U);
    EXPECT_EQ(f->body, "slow down");
}

TEST(Simulator_Faults, DefaultsToOnceWithoutRetryAfter) {
    auto f = parse_fault(boost::json::parse(R"({"path":"/v1","status":500})"));
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->times, 1U);
    EXPECT_FALSE(f->retry_after.has_value());
}

TEST(Simulator_Faults, RejectsBadDefinitions) {
    for (const char* bad :
         {R"([])", R"({})", R"({"path":"/v1"})", R"({"path":"/v1","status":"x"})",
          R"({"path":"/v1","status":42})", R"({"path":"/v1","status":500,"times":0})",
          R"({"path":"","status":500})"}) {
        EXPECT_FALSE(parse_fault(boost::json::parse(bad)).has_value()) << bad;
    }
}

}  // namespace
}  // namespace linkpilot::simulator
