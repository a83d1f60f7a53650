// Issue 22, point 1: webhook endpoints fail closed. The real `linkpilot serve` and
// `simulate-scalingo`, real GitLab and GitHub payloads (../shared/fixtures).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "daemon/store/sqlite_store.hpp"
#include "tests/support/e2e/harness.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot {
namespace {

namespace json = boost::json;
using testing::Daemon;
using testing::Simulator;

// No provider condition: whichever forge can deliver, its push deploys `main` of gl-main.
constexpr const char* kRules = R"(rules:
  - { name: any-push, on: push, deploy: { app: gl-main, branch: main } }
)";

class E2E_FailClosed : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::make_temp_dir("linkpilot-e2e-closed");
        sim_ = std::make_unique<Simulator>(dir_ / "sim", testing::seed_linked({"gl-main"}));
    }
    void TearDown() override {
        daemon_.reset();
        sim_.reset();
        std::filesystem::remove_all(dir_);
    }
    void start(const std::string& providers) {
        daemon_ = std::make_unique<Daemon>(dir_ / "daemon", *sim_, kRules, "  rate_limit: 1000/s\n",
                                           "", providers);
    }
    // POST /webhooks/gitlab with the fixture push and, when given, a token.
    testing::HttpResult gitlab_push(const std::filesystem::path& fx, const std::string& delivery,
                                    const std::string& token = {}) {
        std::map<std::string, std::string> headers{{"Content-Type", "application/json"},
                                                   {"X-Gitlab-Event", "Push Hook"},
                                                   {"X-Gitlab-Event-UUID", delivery}};
        if (!token.empty()) {
            headers["X-Gitlab-Token"] = token;
        }
        return testing::http_request("127.0.0.1", daemon_->port(), "POST", "/webhooks/gitlab",
                                     testing::read_file(fx / "gitlab/push/push.json"), headers);
    }
    std::string metrics() {
        return testing::http_request("127.0.0.1", daemon_->port(), "GET", "/metrics").body;
    }

    std::filesystem::path dir_;
    std::unique_ptr<Simulator> sim_;
    std::unique_ptr<Daemon> daemon_;
};

TEST_F(E2E_FailClosed, UnconfiguredGitlabAnswers404StoresNothingAndCallsNothing) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    start(std::string("providers:\n  github: { secrets: [\"") +
          std::string(testing::kGithubSecret) + "\"] }\n");
    for (const std::string token : {"", "any-token-at-all"}) {
        auto r = gitlab_push(fx, "gl-unsigned-" + std::to_string(token.size()), token);
        EXPECT_EQ(r.status, 404) << r.body << r.error;
        EXPECT_EQ(r.body, R"({"error":"gitlab webhooks are not configured"})");
    }
    // The same daemon deploys for GitHub, so the silence above is not a dead daemon.
    auto gh =
        daemon_->github("push", testing::read_file(fx / "github/push/branch-updated.json"), "gh-1");
    EXPECT_EQ(gh.status, 202) << gh.body;
    ASSERT_TRUE(daemon_->wait_settled());
    const auto jobs = daemon_->jobs();
    ASSERT_EQ(jobs.size(), 1U);
    EXPECT_EQ(jobs[0].delivery_id, "gh-1");
    auto calls = sim_->api_calls();
    ASSERT_EQ(calls.size(), 1U);
    EXPECT_EQ(calls[0].at("path").as_string(), "/v1/apps/gl-main/scm_repo_link/manual_deploy");
    // Nothing of the refused deliveries was stored.
    auto st = store::open_sqlite({.path = daemon_->state()});
    ASSERT_TRUE(st.has_value());
    auto d = (*st)->get_delivery("gl-unsigned-0");
    ASSERT_TRUE(d.has_value());
    EXPECT_FALSE(d->has_value());
    // serve said at start which endpoint is off.
    EXPECT_NE(daemon_->process().stderr_text().find(
                  "/webhooks/gitlab is off (no providers.gitlab secret): it answers 404"),
              std::string::npos)
        << daemon_->process().stderr_text();
}

TEST_F(E2E_FailClosed, AllowUnsignedDeploysWarnsAtStartAndCountsUnverified) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    start("providers:\n  gitlab: { allow_unsigned: true }\n");
    auto r = gitlab_push(fx, "gl-proxied-1");
    EXPECT_EQ(r.status, 202) << r.body << r.error;
    EXPECT_EQ(json::parse(r.body).at("status").as_string(), "queued");
    ASSERT_TRUE(daemon_->wait_settled());
    auto calls = sim_->api_calls();
    ASSERT_EQ(calls.size(), 1U);
    EXPECT_EQ(calls[0].at("path").as_string(), "/v1/apps/gl-main/scm_repo_link/manual_deploy");
    EXPECT_NE(metrics().find(R"(linkpilot_deliveries_total{provider="gitlab",event="Push Hook",)"
                             R"(status="queued",verified="false"} 1)"),
              std::string::npos)
        << metrics();
    const auto err = daemon_->process().stderr_text();
    EXPECT_NE(err.find("warning: providers.gitlab.allow_unsigned is true"), std::string::npos)
        << err;
    EXPECT_NE(err.find("/webhooks/github is off"), std::string::npos) << err;
    // `check` on the same file: ok, with the same warning.
    testing::Process check(LINKPILOT_BINARY, {"check", "-c", daemon_->config().string()});
    EXPECT_EQ(check.wait(std::chrono::seconds(20)), 0) << check.stderr_text();
    EXPECT_NE(check.stderr_text().find("warning: providers.gitlab.allow_unsigned is true: gitlab "
                                       "deliveries without a token are accepted unverified"),
              std::string::npos)
        << check.stderr_text();
    EXPECT_NE(check.stdout_text().find("GitLab unsigned (allow_unsigned)"), std::string::npos)
        << check.stdout_text();
}

}  // namespace
}  // namespace linkpilot
