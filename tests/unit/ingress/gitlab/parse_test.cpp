#include "daemon/ingress/gitlab/parse.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/support/fixtures.hpp"

namespace linkpilot::ingress::gitlab {
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

std::string mr_action(json::object payload) {
    auto e = parse("Merge Request Hook", payload);
    EXPECT_TRUE(e) << e.error();
    return e ? body_as<events::PullRequest>(*e).action : "";
}

TEST(Ingress_GitlabParse, PushMessageIsTheCommitAfterPointsAt) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("Push Hook", load(dir, "gitlab/push/push.json"));
    ASSERT_TRUE(e) << e.error();
    const auto& push = body_as<events::Push>(*e);
    EXPECT_EQ(push.message, "fixed readme\n");
    EXPECT_EQ(push.before, "95790bf891e76fee5e1747ab589903a6a1f80f22");
    EXPECT_EQ(push.changed_files,
              (std::vector<std::string>{"CHANGELOG", "app/controller/application.rb"}));
}

TEST(Ingress_GitlabParse, PushListingFewerCommitsThanTotalIsIncomplete) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    // push.json says total_commits_count 4 but lists 2 commits.
    auto e = parse("Push Hook", load(dir, "gitlab/push/push.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_FALSE(body_as<events::Push>(*e).files_complete);
}

TEST(Ingress_GitlabParse, PushListingEveryCommitIsComplete) {
    LINKPILOT_CORPUS_OR_SKIP(dir);
    auto e = parse("Push Hook", load(dir, "gitlab/push/branch-master.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_TRUE(body_as<events::Push>(*e).files_complete);
    EXPECT_EQ(body_as<events::Push>(*e).changed_files, std::vector<std::string>{"README.md"});
    EXPECT_EQ(body_as<events::Push>(*e).message, "added readme\n");
}

TEST(Ingress_GitlabParse, PushMessageFallsBackToLastCommit) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/push/push.json");
    payload["after"] = "1111111111111111111111111111111111111111";
    std::swap(payload["commits"].as_array()[0], payload["commits"].as_array()[1]);
    auto e = parse("Push Hook", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Push>(*e).message.rfind("Merge branch 'some-feature'", 0), 0U);
    // checkout_sha still wins for the event's sha.
    EXPECT_EQ(e->sha, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
}

TEST(Ingress_GitlabParse, BranchDeletionIsDeletedWithoutFiles) {
    LINKPILOT_CORPUS_OR_SKIP(dir);
    auto e = parse("Push Hook", load(dir, "gitlab/push/branch-deleted.json"));
    ASSERT_TRUE(e) << e.error();
    const auto& push = body_as<events::Push>(*e);
    EXPECT_EQ(push.action, "deleted");
    EXPECT_FALSE(push.files_complete);
    EXPECT_TRUE(push.changed_files.empty());
    EXPECT_EQ(push.message, "");
}

// Hand-built from tag-created.json: GitLab signals a deleted tag with an all-zero `after`.
TEST(Ingress_GitlabParse, TagPushWithZeroAfterIsDeleted) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/tag_push/tag-created.json");
    payload["before"] = payload["after"];
    payload["after"] = "0000000000000000000000000000000000000000";
    payload["checkout_sha"] = nullptr;
    payload["commits"] = json::array{};
    auto e = parse("Tag Push Hook", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Tag>(*e).action, "deleted");
    EXPECT_EQ(body_as<events::Tag>(*e).tag, "v1.0.0");
}

TEST(Ingress_GitlabParse, TagPushCarriesCommitMessage) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("Tag Push Hook", load(dir, "gitlab/tag_push/tag-created.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Tag>(*e).message.rfind("Merge branch 'some-feature'", 0), 0U);
}

TEST(Ingress_GitlabParse, MergeRequestUpdateAddingLabelIsLabeled) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/merge_request/update-labels.json");
    EXPECT_EQ(mr_action(payload), "labeled");
    auto e = parse("Merge Request Hook", payload);
    ASSERT_TRUE(e);
    EXPECT_EQ(body_as<events::PullRequest>(*e).labels,
              std::vector<std::string>{"good first issue"});
}

// Hand-built: update-labels.json with previous and current swapped.
TEST(Ingress_GitlabParse, MergeRequestUpdateRemovingLabelIsUnlabeled) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/merge_request/update-labels.json");
    json::object& labels = payload["changes"].as_object()["labels"].as_object();
    std::swap(labels["previous"], labels["current"]);
    EXPECT_EQ(mr_action(payload), "unlabeled");
}

// Hand-built: update-labels.json whose only change is the draft flag.
TEST(Ingress_GitlabParse, MergeRequestUpdateDraftFlipsAreNormalised) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/merge_request/update-labels.json");
    payload["changes"] =
        json::object{{"draft", json::object{{"previous", false}, {"current", true}}}};
    EXPECT_EQ(mr_action(payload), "converted_to_draft");
    payload["changes"] =
        json::object{{"draft", json::object{{"previous", true}, {"current", false}}}};
    EXPECT_EQ(mr_action(payload), "ready_for_review");
    payload["changes"] =
        json::object{{"work_in_progress", json::object{{"previous", true}, {"current", false}}}};
    EXPECT_EQ(mr_action(payload), "ready_for_review");
}

TEST(Ingress_GitlabParse, MergeRequestUpdateWithoutKnownChangeIsEdited) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/merge_request/update-labels.json");
    payload["changes"] = json::object{{"title", json::object{{"previous", "a"}, {"current", "b"}}}};
    EXPECT_EQ(mr_action(payload), "edited");
    payload.erase("changes");
    EXPECT_EQ(mr_action(payload), "edited");
}

TEST(Ingress_GitlabParse, MergeRequestUpdateWithOldrevIsSynchronize) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/merge_request/update-new-commits.json");
    EXPECT_EQ(mr_action(payload), "synchronize");
}

TEST(Ingress_GitlabParse, MergeRequestUnknownActionIsKeptVerbatim) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/merge_request/open-2.json");
    payload["object_attributes"].as_object()["action"] = "approved";
    EXPECT_EQ(mr_action(payload), "approved");
}

TEST(Ingress_GitlabParse, MergeRequestLabelsFallBackToObjectAttributes) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/merge_request/open-2.json");
    payload.erase("labels");
    payload["object_attributes"].as_object()["labels"] =
        json::array{json::object{{"title", "preview"}}};
    auto e = parse("Merge Request Hook", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::PullRequest>(*e).labels, std::vector<std::string>{"preview"});
}

TEST(Ingress_GitlabParse, MergeRequestCarriesTitleAndBase) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("Merge Request Hook", load(dir, "gitlab/merge_request/open.json"));
    ASSERT_TRUE(e) << e.error();
    const auto& pr = body_as<events::PullRequest>(*e);
    EXPECT_EQ(pr.title, "MS-Viewport");
    EXPECT_EQ(pr.base, "master");
    EXPECT_EQ(pr.labels, std::vector<std::string>{"API"});
}

// Hand-built: the pre-14.0 `work_in_progress` flag alone marks a draft.
TEST(Ingress_GitlabParse, MergeRequestWorkInProgressIsDraft) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/merge_request/open.json");
    payload["object_attributes"].as_object()["work_in_progress"] = true;
    auto e = parse("Merge Request Hook", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_TRUE(body_as<events::PullRequest>(*e).draft);
}

// Hand-built: no example MR from a fork exists; a differing source project makes one.
TEST(Ingress_GitlabParse, MergeRequestFromOtherProjectIsFork) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/merge_request/open-2.json");
    payload["object_attributes"].as_object()["source_project_id"] = 1;
    auto e = parse("Merge Request Hook", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_TRUE(body_as<events::PullRequest>(*e).fork);
}

TEST(Ingress_GitlabParse, PipelineWithoutNameHasEmptyWorkflow) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("Pipeline Hook", load(dir, "gitlab/pipeline/success.json"));
    ASSERT_TRUE(e) << e.error();
    const auto& ci = body_as<events::Ci>(*e);
    EXPECT_EQ(ci.workflow, "");
    EXPECT_EQ(ci.status, "success");
    EXPECT_EQ(ci.action, "completed");
    EXPECT_EQ(ci.pr_number, 1);
}

TEST(Ingress_GitlabParse, PipelineNameIsWorkflow) {
    LINKPILOT_CORPUS_OR_SKIP(dir);
    auto e = parse("Pipeline Hook", load(dir, "gitlab/pipeline/success.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Ci>(*e).workflow, "Pipeline for branch: master");
}

// Hand-built: branch pipelines have `merge_request: null`.
TEST(Ingress_GitlabParse, PipelineWithNullMergeRequestHasNoPrNumber) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/pipeline/success.json");
    payload["merge_request"] = nullptr;
    payload["object_attributes"].as_object()["name"] = nullptr;
    auto e = parse("Pipeline Hook", payload);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Ci>(*e).pr_number, std::nullopt);
    EXPECT_EQ(body_as<events::Ci>(*e).workflow, "");
}

TEST(Ingress_GitlabParse, PipelineStatusesAreNormalised) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto payload = load(dir, "gitlab/pipeline/success.json");
    auto run = [&](const char* status) {
        payload["object_attributes"].as_object()["status"] = status;
        auto e = parse("Pipeline Hook", payload);
        EXPECT_TRUE(e);
        const auto& ci = body_as<events::Ci>(*e);
        return ci.action + "/" + ci.status;
    };
    EXPECT_EQ(run("failed"), "completed/failure");
    EXPECT_EQ(run("canceled"), "completed/cancelled");
    EXPECT_EQ(run("skipped"), "completed/skipped");
    EXPECT_EQ(run("running"), "running/running");
    EXPECT_EQ(run("pending"), "pending/pending");
}

TEST(Ingress_GitlabParse, NoteHookIsIgnoredWithRepo) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    auto e = parse("Note Hook", load(dir, "gitlab/note/merge-request-comment.json"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(body_as<events::Ignored>(*e).reason, "event Note Hook is not handled");
    EXPECT_EQ(e->repo, "gitlab-org/gitlab-test");
}

TEST(Ingress_GitlabParse, EmptyEventHeaderIsAnError) {
    auto e = parse("", parse_text("{}"));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "missing X-Gitlab-Event header");
}

TEST(Ingress_GitlabParse, MissingProjectIsAnError) {
    auto e = parse("Push Hook", parse_text(R"({"ref":"refs/heads/main","project":"x"})"));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "push: missing project.path_with_namespace");
}

TEST(Ingress_GitlabParse, MergeRequestWithoutIidIsAnError) {
    auto e = parse("Merge Request Hook", parse_text(R"({"project":{"path_with_namespace":"g/p"},
                                  "object_attributes":{"iid":1.5}})"));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "merge request: missing object_attributes.iid");
}

TEST(Ingress_GitlabParse, WrongTypesEverywhereDoNotThrow) {
    auto e = parse("Push Hook", parse_text(R"({"project":{"path_with_namespace":"g/p"},
        "ref":"refs/heads/main","after":7,"commits":{"a":1},"total_commits_count":"2",
        "user_username":[]})"));
    ASSERT_TRUE(e) << e.error();
    EXPECT_FALSE(body_as<events::Push>(*e).files_complete);
    EXPECT_EQ(e->author, "");
}

}  // namespace
}  // namespace linkpilot::ingress::gitlab
