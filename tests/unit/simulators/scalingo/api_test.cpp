#include "simulators/scalingo/api.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/support/fake_clock.hpp"

namespace linkpilot::simulator {
namespace {

namespace json = boost::json;

class SimulatorApi : public ::testing::Test {
  protected:
    Response call(const std::string& method, const std::string& target,
                  const std::string& body = {}, std::optional<std::string> auth = {}) {
        Request r{method, target, auth ? *auth : "Bearer " + bearer_, body};
        return handle(r, deps_);
    }
    static json::value parse(const Response& r) { return json::parse(r.body); }

    void SetUp() override {
        // ":api-token" in base64.
        auto r = call("POST", "/v1/tokens/exchange", "", "Basic OmFwaS10b2tlbg==");
        ASSERT_EQ(r.status, 200U) << r.body;
        bearer_ = std::string(parse(r).at("token").as_string());
    }
    void create_linked(const std::string& app) {
        ASSERT_EQ(call("POST", "/v1/apps", R"({"app":{"name":")" + app + R"("}})").status, 201U);
        ASSERT_EQ(call("POST", "/v1/apps/" + app + "/scm_repo_link",
                       R"({"scm_repo_link":{"source":"https://github.com/acme/shop"}})")
                      .status,
                  201U);
    }

    testing::FakeClock clock_;
    State state_;
    JwtSigner jwt_{"unit-key"};
    FaultQueue faults_;
    CallLog calls_;
    Deps deps_{state_, jwt_, faults_, calls_, clock_, std::nullopt};
    std::string bearer_;
};

TEST_F(SimulatorApi, UnauthenticatedCallIs401) {
    EXPECT_EQ(call("GET", "/v1/apps", "", "").status, 401U);
    EXPECT_EQ(call("GET", "/v1/apps", "", "Bearer nope").status, 401U);
}

TEST_F(SimulatorApi, ExpiredBearerIs401) {
    clock_.advance(std::chrono::hours{1});
    EXPECT_EQ(call("GET", "/v1/apps").status, 401U);
}

TEST_F(SimulatorApi, ExchangeWithConfiguredTokenRejectsOthers) {
    deps_.api_token = "right";
    EXPECT_EQ(call("POST", "/v1/tokens/exchange", "{}", "Basic OmFwaS10b2tlbg==").status, 401U);
    EXPECT_EQ(call("POST", "/v1/tokens/exchange", "{}", "Basic OnJpZ2h0").status, 200U);
}

TEST_F(SimulatorApi, UnknownAppIs404WithResource) {
    const auto r = call("GET", "/v1/apps/ghost/scm_repo_link");
    EXPECT_EQ(r.status, 404U);
    EXPECT_EQ(parse(r), json::parse(R"({"resource":"app","error":"not found"})"));
}

TEST_F(SimulatorApi, CreateAppValidatesName) {
    const auto r = call("POST", "/v1/apps", R"({"app":{}})");
    EXPECT_EQ(r.status, 422U);
    EXPECT_TRUE(parse(r).at("errors").at("name").is_array());
    EXPECT_EQ(call("POST", "/v1/apps", "not json").status, 400U);
}

TEST_F(SimulatorApi, ManualReviewAppAcceptsStringIdAndNamesChild) {
    create_linked("shop-staging");
    const auto r = call("POST", "/v1/apps/shop-staging/scm_repo_link/manual_review_app",
                        R"({"pull_request_id":"12"})");
    ASSERT_EQ(r.status, 200U) << r.body;
    const auto ra = parse(r).at("review_app");
    EXPECT_EQ(ra.at("app_name"), "shop-staging-pr12");
    EXPECT_EQ(ra.at("parent_app_name"), "shop-staging");
    EXPECT_EQ(ra.at("pull_request").at("number"), 12);
    EXPECT_TRUE(r.mutated);
}

TEST_F(SimulatorApi, ManualDeployNeedsBranch) {
    create_linked("shop-staging");
    EXPECT_EQ(call("POST", "/v1/apps/shop-staging/scm_repo_link/manual_deploy", "{}").status, 422U);
    const auto r =
        call("POST", "/v1/apps/shop-staging/scm_repo_link/manual_deploy", R"({"branch":"main"})");
    ASSERT_EQ(r.status, 200U);
    EXPECT_EQ(parse(r).at("deployment").at("git_ref"), "main");
}

TEST_F(SimulatorApi, DeleteNeedsMatchingCurrentName) {
    create_linked("shop-staging");
    EXPECT_EQ(call("DELETE", "/v1/apps/shop-staging?current_name=other").status, 422U);
    EXPECT_EQ(call("DELETE", "/v1/apps/shop-staging?current_name=shop-staging").status, 204U);
    EXPECT_EQ(call("GET", "/v1/apps/shop-staging").status, 404U);
}

TEST_F(SimulatorApi, ExpireTokensControlInvalidatesBearer) {
    EXPECT_EQ(call("GET", "/v1/apps").status, 200U);
    EXPECT_EQ(call("POST", "/_sim/expire-tokens", "", "").status, 204U);
    EXPECT_EQ(call("GET", "/v1/apps").status, 401U);
}

TEST_F(SimulatorApi, AppOfNamesTheAppInThePath) {
    EXPECT_EQ(app_of("/v1/apps/shop/scm_repo_link"), "shop");
    EXPECT_EQ(app_of("/v1/apps/shop"), "shop");
    EXPECT_EQ(app_of("/v1/scm_repo_links"), "");
}

}  // namespace
}  // namespace linkpilot::simulator
