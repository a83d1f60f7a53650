// Issue 7, must show 1: real GitHub and GitLab payloads (../shared/fixtures) through the real
// `linkpilot serve` to the real `simulate-scalingo`: the right Scalingo call, or none.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/support/e2e/harness.hpp"
#include "tests/support/fixtures.hpp"

namespace linkpilot {
namespace {

namespace json = boost::json;
using testing::Daemon;
using testing::Simulator;

// One rule per case, each deploying to its own app so a stray call shows up by name (Scalingo
// app names have at least 6 characters: a shorter one is refused before any call).
constexpr const char* kRules = R"(rules:
  - { name: gh-push-main, on: push, if: { provider: github, branch: main }, deploy: { app: gh-main } }
  - { name: gh-ci-app-green, on: ci, if: { provider: github, status: success }, deploy: { app: gh-ci-app } }
  - name: gh-preview
    on: pull_request
    if: { provider: github, action: labeled, labels: [bug] }
    review_app: { app: gh-review }
  - name: gh-drop-preview
    on: pull_request
    if: { provider: github, action: closed }
    delete_review_app: { app: gh-review }
  - { name: gl-push-master, on: push, if: { provider: gitlab, branch: master }, deploy: { app: gl-main } }
  - { name: gl-ci-app-green, on: ci, if: { provider: gitlab, status: success }, deploy: { app: gl-ci-app } }
  - name: gl-preview
    on: pull_request
    if: { provider: gitlab, action: opened, labels: [documentation] }
    review_app: { app: gl-review }
  - name: gl-drop-preview
    on: pull_request
    if: { provider: gitlab, action: closed }
    delete_review_app: { app: gl-review }
)";

json::value seed() {
    // Apps the rules target, each linked; the review apps the close events must delete (GitHub
    // fixture PR #2 on Codertocat/Hello-World, GitLab MR !4 on anbraten/woodpecker-test), plus
    // one for another PR that must survive.
    json::array apps;
    json::array links;
    for (const char* app :
         {"gh-main", "gh-ci-app", "gh-review", "gl-main", "gl-ci-app", "gl-review"}) {
        apps.emplace_back(app);
        const bool gitlab = std::string_view(app).starts_with("gl-");
        links.push_back(json::object{
            {"app", app},
            {"source", gitlab ? "https://gitlab.com/acme/shop" : "https://github.com/acme/shop"},
            {"branch", "main"}});
    }
    json::array review_apps{
        json::object{{"parent", "gh-review"}, {"number", 2}},
        json::object{{"parent", "gh-review"}, {"number", 7}},
        json::object{{"parent", "gl-review"}, {"number", 4}},
    };
    return json::object{{"apps", apps}, {"links", links}, {"review_apps", review_apps}};
}

class E2E_Forges : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::make_temp_dir("linkpilot-e2e");
        sim_ = std::make_unique<Simulator>(dir_ / "sim", seed());
        daemon_ =
            std::make_unique<Daemon>(dir_ / "daemon", *sim_, kRules, "  rate_limit: 1000/s\n");
    }
    void TearDown() override {
        daemon_.reset();
        sim_.reset();
        std::filesystem::remove_all(dir_);
    }

    // Sends one fixture (or a body derived from one); returns the jobs it queued.
    std::int64_t send(const std::string& provider, const std::string& event,
                      const std::string& body) {
        const auto id = "e2e-" + std::to_string(++sent_);
        auto r = provider == "github" ? daemon_->github(event, body, id)
                                      : daemon_->gitlab(event, body, id);
        EXPECT_EQ(r.status, 202) << r.body << r.error;
        if (r.status != 202) {
            return -1;
        }
        return json::parse(r.body).at("jobs").as_int64();
    }

    // The API calls once every job has settled, as "METHOD PATH".
    std::vector<std::string> settled_calls() {
        EXPECT_TRUE(daemon_->wait_settled()) << daemon_->process().stderr_text();
        std::vector<std::string> out;
        for (const auto& c : sim_->api_calls()) {
            out.push_back(std::string(c.at("method").as_string()) + " " +
                          std::string(c.at("path").as_string()) + " " +
                          std::to_string(c.at("status").as_int64()));
        }
        return out;
    }

    std::filesystem::path dir_;
    std::unique_ptr<Simulator> sim_;
    std::unique_ptr<Daemon> daemon_;
    int sent_ = 0;
};

using Calls = std::vector<std::string>;

TEST_F(E2E_Forges, GithubPushToMainDeploysTheBranchOnce) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    EXPECT_EQ(send("github", "push", testing::read_file(fx / "github/push/branch-updated.json")),
              1);
    EXPECT_EQ(settled_calls(), (Calls{"POST /v1/apps/gh-main/scm_repo_link/manual_deploy 200"}));
    const auto deployments = sim_->state().at("deployments").at("gh-main").as_array();
    ASSERT_EQ(deployments.size(), 1U);
    EXPECT_EQ(deployments[0].at("git_ref").as_string(), "main");
}

TEST_F(E2E_Forges, GithubPushElsewhereCallsNothing) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    // branch-created.json pushes `master`; the rule wants `main`.
    EXPECT_EQ(send("github", "push", testing::read_file(fx / "github/push/branch-created.json")),
              0);
    EXPECT_EQ(settled_calls(), Calls{});
}

TEST_F(E2E_Forges, GithubCiSuccessDeploysAndFailureDoesNot) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    const auto green = testing::read_file(fx / "github/check_suite/completed.json");
    // The fixture set has no failed check suite: the same real payload, conclusion changed.
    const auto red = testing::with_field(green, "/check_suite/conclusion", "failure");
    EXPECT_EQ(send("github", "check_suite", red), 0);
    EXPECT_EQ(send("github", "check_suite", green), 1);
    EXPECT_EQ(settled_calls(), (Calls{"POST /v1/apps/gh-ci-app/scm_repo_link/manual_deploy 200"}));
    const auto deployments = sim_->state().at("deployments").at("gh-ci-app").as_array();
    ASSERT_EQ(deployments.size(), 1U);
    EXPECT_EQ(deployments[0].at("git_ref").as_string(), "changes");  // check_suite.head_branch
}

TEST_F(E2E_Forges, GithubLabelledPrCreatesItsReviewApp) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    EXPECT_EQ(
        send("github", "pull_request", testing::read_file(fx / "github/pull_request/labeled.json")),
        1);
    EXPECT_EQ(settled_calls(),
              (Calls{"POST /v1/apps/gh-review/scm_repo_link/manual_review_app 200"}));
    // The fixture's PR is #2: the simulator names the review app like Scalingo, PARENT-prN.
    EXPECT_TRUE(sim_->state().at("review_apps").as_object().contains("gh-review-pr2"));
}

TEST_F(E2E_Forges, GithubClosedPrDeletesThatReviewAppOnly) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    EXPECT_EQ(send("github", "pull_request",
                   testing::read_file(fx / "github/pull_request/closed-not-merged.json")),
              1);
    EXPECT_EQ(settled_calls(), (Calls{"GET /v1/apps/gh-review/scm_repo_link/review_apps 200",
                                      "DELETE /v1/apps/gh-review-pr2 204"}));
    const auto review_apps = sim_->state().at("review_apps").as_object();
    EXPECT_FALSE(review_apps.contains("gh-review-pr2"));
    EXPECT_TRUE(review_apps.contains("gh-review-pr7"));
}

TEST_F(E2E_Forges, GitlabPushToMasterDeploysAndElsewhereDoesNot) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    const auto push = testing::read_file(fx / "gitlab/push/push.json");
    // GitLab's fixture set has one push: the same payload on another branch.
    EXPECT_EQ(send("gitlab", "Push Hook", testing::with_field(push, "/ref", "refs/heads/feature")),
              0);
    EXPECT_EQ(send("gitlab", "Push Hook", push), 1);
    EXPECT_EQ(settled_calls(), (Calls{"POST /v1/apps/gl-main/scm_repo_link/manual_deploy 200"}));
    EXPECT_EQ(sim_->state().at("deployments").at("gl-main").at(0).at("git_ref").as_string(),
              "master");
}

TEST_F(E2E_Forges, GitlabPipelineSuccessDeploysAndFailureDoesNot) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    const auto green = testing::read_file(fx / "gitlab/pipeline/success.json");
    const auto red = testing::with_field(green, "/object_attributes/status", "failed");
    EXPECT_EQ(send("gitlab", "Pipeline Hook", red), 0);
    EXPECT_EQ(send("gitlab", "Pipeline Hook", green), 1);
    EXPECT_EQ(settled_calls(), (Calls{"POST /v1/apps/gl-ci-app/scm_repo_link/manual_deploy 200"}));
    EXPECT_EQ(sim_->state().at("deployments").at("gl-ci-app").at(0).at("git_ref").as_string(),
              "master");
}

TEST_F(E2E_Forges, GitlabLabelledMergeRequestCreatesItsReviewApp) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    EXPECT_EQ(send("gitlab", "Merge Request Hook",
                   testing::read_file(fx / "gitlab/merge_request/open-2.json")),
              1);
    EXPECT_EQ(settled_calls(),
              (Calls{"POST /v1/apps/gl-review/scm_repo_link/manual_review_app 200"}));
    EXPECT_TRUE(sim_->state().at("review_apps").as_object().contains("gl-review-pr3"));
}

TEST_F(E2E_Forges, GitlabClosedMergeRequestDeletesItsReviewApp) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    EXPECT_EQ(send("gitlab", "Merge Request Hook",
                   testing::read_file(fx / "gitlab/merge_request/close.json")),
              1);
    EXPECT_EQ(settled_calls(), (Calls{"GET /v1/apps/gl-review/scm_repo_link/review_apps 200",
                                      "DELETE /v1/apps/gl-review-pr4 204"}));
    EXPECT_FALSE(sim_->state().at("review_apps").as_object().contains("gl-review-pr4"));
}

}  // namespace
}  // namespace linkpilot
