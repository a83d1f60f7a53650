#include "daemon/ingress/github/parse.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/support/fixtures.hpp"

namespace linkpilot::ingress::github {
namespace {

namespace json = boost::json;

json::object load(const std::filesystem::path& dir, const char* file) {
    json::value v = json::parse(testing::read_file(dir / file));
    return v.as_object();
}

json::object parse_text(std::string_view text) { return json::parse(text).as_object(); }

template <class T>
const T& body_as(const events::Event& e) {
    return std::get<T>(e.body);
}

TEST(Ingress_GithubParse, PushCollectsChangedFilesSortedAndUnique) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/push/branch-forced.json");
    auto e = parse("push", payload);
    ASSERT_TRUE(e) << e.error();
    const auto& push = body_as<events::Push>(*e);
    ASSERT_EQ(push.changed_files.size(), 17U);
    EXPECT_EQ(push.changed_files.front(), ".clippy.toml");
    EXPECT_EQ(push.changed_files.back(), "src/socket_opts.rs");
    EXPECT_TRUE(std::is_sorted(push.changed_files.begin(), push.changed_files.end()));
    EXPECT_TRUE(push.files_complete);
    EXPECT_EQ(push.before, "5ea737297f2e2e88f4cdf796e72cbcb12d40fd9c");
    EXPECT_EQ(push.message.rfind("feat: initial implementation", 0), 0U) << push.message;
}

TEST(Ingress_GithubParse, PushUnionsFilesAcrossCommitsWithoutDuplicates) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/push/branch-updated.json");
    // Hand-built: a second commit touching one file again and removing another.
    json::array& commits = payload["commits"].as_array();
    json::object extra = commits[0].as_object();
    extra["added"] = json::array{};
    extra["modified"] = json::array{"pipeline/shared/replace_secrets.go"};
    extra["removed"] = json::array{"OLD.md"};
    commits.push_back(extra);
    auto e = parse("push", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Push>(*e).changed_files,
              (std::vector<std::string>{"OLD.md", "pipeline/shared/replace_secrets.go",
                                        "pipeline/shared/replace_secrets_test.go"}));
    EXPECT_TRUE(body_as<events::Push>(*e).files_complete);
}

TEST(Ingress_GithubParse, PushOfTwentyCommitsMayBeTruncated) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/push/branch-updated.json");
    json::array& commits = payload["commits"].as_array();
    json::value one = commits[0];
    while (commits.size() < 19) {
        commits.push_back(one);
    }
    auto nineteen = parse("push", payload);
    ASSERT_TRUE(nineteen);
    EXPECT_TRUE(body_as<events::Push>(*nineteen).files_complete);
    commits.push_back(one);
    auto twenty = parse("push", payload);
    ASSERT_TRUE(twenty);
    EXPECT_FALSE(body_as<events::Push>(*twenty).files_complete);
}

TEST(Ingress_GithubParse, BranchDeletionHasNoFilesAndNoMessage) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/push/branch-deleted.json");
    auto e = parse("push", payload);
    ASSERT_TRUE(e) << e.error();
    const auto& push = body_as<events::Push>(*e);
    EXPECT_EQ(push.action, "deleted");
    EXPECT_TRUE(push.changed_files.empty());
    EXPECT_FALSE(push.files_complete);
    EXPECT_EQ(push.message, "");
    EXPECT_EQ(push.before, "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd");
}

TEST(Ingress_GithubParse, PushWithoutCommitsIsNotFilesComplete) {
    LINKPILOT_CORPUS_OR_SKIP(dir);
    auto payload = load(dir, "github/push/branch-created.json");
    auto e = parse("push", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_FALSE(body_as<events::Push>(*e).files_complete);
    EXPECT_EQ(body_as<events::Push>(*e).message, "Update .drone.yml");
}

TEST(Ingress_GithubParse, PushAuthorFallsBackToPusherName) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/push/branch-created.json");
    payload.erase("sender");
    auto e = parse("push", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(e->author, "Codertocat");
}

TEST(Ingress_GithubParse, TagPushCarriesHeadCommitMessage) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/push/tag-created.json");
    auto e = parse("push", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Tag>(*e).message, "Adding a .gitignore file");
}

TEST(Ingress_GithubParse, PushToOtherRefIsIgnored) {
    auto e = parse("push", parse_text(R"({"ref":"refs/notes/commits",
        "repository":{"full_name":"a/b"},"after":"abc"})"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(e->kind(), events::Kind::ignored);
    EXPECT_EQ(body_as<events::Ignored>(*e).reason, "push to refs/notes/commits is not handled");
}

TEST(Ingress_GithubParse, ReleasePublishedIsTagPublished) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("release", load(dir, "github/release/published.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Tag>(*e).tag, "0.0.1");
    EXPECT_EQ(body_as<events::Tag>(*e).action, "published");
}

TEST(Ingress_GithubParse, ReleaseCreatedIsIgnoredWithReason) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("release", load(dir, "github/release/created.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Ignored>(*e).reason, "release action created is not handled");
}

TEST(Ingress_GithubParse, PullRequestCarriesTitleLabelsAndBase) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("pull_request", load(dir, "github/pull_request/opened.json"));
    ASSERT_TRUE(e) << e.error();
    const auto& pr = body_as<events::PullRequest>(*e);
    EXPECT_EQ(pr.title, "Update the README with new information.");
    EXPECT_EQ(pr.labels, std::vector<std::string>{"bug"});
    EXPECT_EQ(pr.base, "master");
    EXPECT_FALSE(pr.fork);
}

TEST(Ingress_GithubParse, PullRequestLabelsKeepPayloadOrder) {
    LINKPILOT_CORPUS_OR_SKIP(dir);
    auto e = parse("pull_request", load(dir, "github/pull_request/labeled.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::PullRequest>(*e).labels,
              (std::vector<std::string>{"bug", "documentation"}));
}

TEST(Ingress_GithubParse, ClosedAndMergedIsMerged) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto merged = parse("pull_request", load(dir, "github/pull_request/closed-merged.json"));
    auto closed = parse("pull_request", load(dir, "github/pull_request/closed-not-merged.json"));
    ASSERT_TRUE(merged && closed);
    EXPECT_EQ(body_as<events::PullRequest>(*merged).action, "merged");
    EXPECT_EQ(body_as<events::PullRequest>(*closed).action, "closed");
}

// No verbatim public example of a pull request from a fork exists in the fixtures (see
// ../shared/fixtures/README.md, "Gaps"): this variant of opened.json is built here by pointing
// head.repo at another repository.
TEST(Ingress_GithubParse, PullRequestFromForkIsFork) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/pull_request/opened.json");
    json::object& head_repo =
        payload["pull_request"].as_object()["head"].as_object()["repo"].as_object();
    head_repo["full_name"] = "forker/Hello-World";
    head_repo["fork"] = true;
    auto e = parse("pull_request", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_TRUE(body_as<events::PullRequest>(*e).fork);
    EXPECT_EQ(e->repo, "Codertocat/Hello-World");
}

// Hand-built variant: GitHub sends head.repo null once the fork has been deleted.
TEST(Ingress_GithubParse, PullRequestWithNullHeadRepoIsFork) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/pull_request/opened.json");
    payload["pull_request"].as_object()["head"].as_object()["repo"] = nullptr;
    auto e = parse("pull_request", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_TRUE(body_as<events::PullRequest>(*e).fork);
}

TEST(Ingress_GithubParse, WorkflowRunWithEmptyNameUsesWorkflowName) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("workflow_run", load(dir, "github/workflow_run/completed.json"));
    ASSERT_TRUE(e) << e.error();
    const auto& ci = body_as<events::Ci>(*e);
    EXPECT_EQ(ci.workflow, "test");
    EXPECT_EQ(ci.status, "success");
    EXPECT_EQ(ci.pr_number, std::nullopt);
}

TEST(Ingress_GithubParse, WorkflowRunNameWinsWhenPresent) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/workflow_run/completed.json");
    payload["workflow_run"].as_object()["name"] = "CI";
    auto e = parse("workflow_run", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Ci>(*e).workflow, "CI");
}

TEST(Ingress_GithubParse, WorkflowRunRequestedReportsRunStatus) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("workflow_run", load(dir, "github/workflow_run/requested.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Ci>(*e).action, "requested");
    EXPECT_EQ(body_as<events::Ci>(*e).status, "queued");
}

TEST(Ingress_GithubParse, WorkflowRunFailureConclusionIsStatus) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/workflow_run/completed.json");
    payload["workflow_run"].as_object()["conclusion"] = "failure";
    auto e = parse("workflow_run", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Ci>(*e).status, "failure");
}

TEST(Ingress_GithubParse, CheckSuiteCompletedCarriesAppAndPullRequest) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("check_suite", load(dir, "github/check_suite/completed.json"));
    ASSERT_TRUE(e) << e.error();
    const auto& ci = body_as<events::Ci>(*e);
    EXPECT_EQ(ci.workflow, "octocoders-linter");
    EXPECT_EQ(ci.status, "success");
    EXPECT_EQ(ci.pr_number, 2);
}

// check_suite/completed.json with pull_requests emptied and head_branch null (hand-built: GitHub
// sends both for suites on commits no pull request points at).
TEST(Ingress_GithubParse, CheckSuiteWithEmptyPullRequestsHasNoPrNumber) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "github/check_suite/completed.json");
    json::object& suite = payload["check_suite"].as_object();
    suite["pull_requests"] = json::array{};
    suite["head_branch"] = nullptr;
    auto e = parse("check_suite", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Ci>(*e).pr_number, std::nullopt);
    EXPECT_EQ(body_as<events::Ci>(*e).branch, "");
    EXPECT_EQ(body_as<events::Ci>(*e).status, "success");
}

TEST(Ingress_GithubParse, CheckSuiteRequestedHasEmptyPullRequests) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("check_suite", load(dir, "github/check_suite/requested.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Ci>(*e).pr_number, std::nullopt);
    EXPECT_EQ(body_as<events::Ci>(*e).status, "queued");
}

TEST(Ingress_GithubParse, PingWithoutRepositoryIsStillPing) {
    auto e = parse("ping", parse_text(R"({"zen":"Keep it logically awesome.","hook_id":1})"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(e->kind(), events::Kind::ping);
    EXPECT_EQ(e->repo, "");
}

TEST(Ingress_GithubParse, UnknownEventIsIgnoredWithRepo) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("issues", load(dir, "github/pull_request/opened.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(e->kind(), events::Kind::ignored);
    EXPECT_EQ(body_as<events::Ignored>(*e).reason, "event issues is not handled");
    EXPECT_EQ(e->repo, "Codertocat/Hello-World");
    EXPECT_EQ(e->event_name, "issues");
}

TEST(Ingress_GithubParse, EmptyEventHeaderIsAnError) {
    auto e = parse("", parse_text("{}"));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "missing X-GitHub-Event header");
}

TEST(Ingress_GithubParse, PushWithoutRepositoryIsAnError) {
    auto e = parse("push", parse_text(R"({"ref":"refs/heads/main"})"));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "push: missing repository.full_name");
}

TEST(Ingress_GithubParse, PushWithWrongTypesIsAnErrorNotAThrow) {
    auto e = parse("push", parse_text(R"({"ref":[1],"repository":{"full_name":"a/b"}})"));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "push: missing ref");
    auto repo_number = parse("push", parse_text(R"({"ref":"refs/heads/x","repository":5})"));
    EXPECT_FALSE(repo_number);
}

TEST(Ingress_GithubParse, PushToleratesMalformedCommitList) {
    auto e = parse("push", parse_text(R"({"ref":"refs/heads/main","repository":{"full_name":"a/b"},
        "commits":[1,null,{"added":"x","modified":[2,"m.txt"]}],"head_commit":"oops"})"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Push>(*e).changed_files, std::vector<std::string>{"m.txt"});
    EXPECT_EQ(body_as<events::Push>(*e).message, "");
}

TEST(Ingress_GithubParse, PullRequestWithoutNumberIsAnError) {
    auto e = parse("pull_request", parse_text(R"({"action":"opened",
        "repository":{"full_name":"a/b"},"pull_request":{"number":"7"}})"));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "pull_request: missing number");
}

TEST(Ingress_GithubParse, PullRequestWithoutObjectIsAnError) {
    auto e = parse("pull_request",
                   parse_text(R"({"action":"opened","repository":{"full_name":"a/b"}})"));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "pull_request: missing pull_request object");
}

TEST(Ingress_GithubParse, HugeNumbersAreRejectedNotWrapped) {
    auto e = parse("pull_request", parse_text(R"({"action":"opened",
        "repository":{"full_name":"a/b"},"number":18446744073709551615,"pull_request":{}})"));
    ASSERT_FALSE(e);
}

}  // namespace
}  // namespace linkpilot::ingress::github
