#include "rules/report.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "tests/unit/rules/builders.hpp"

namespace linkpilot::rules {
namespace {

using events::Kind;

RuleSet staging_and_preview() {
    RuleSet rs;
    rs.rules.push_back(test::rule(
        "staging-follows-main", Kind::push,
        {test::when(ConditionKey::branch, {"main"}), test::when(ConditionKey::paths, {"app/**"})},
        ActionKind::deploy, "shop-staging"));
    rs.rules.back().debounce = std::chrono::seconds(30);
    rs.rules.push_back(test::rule("preview", Kind::pull_request, {}, ActionKind::review_app));
    return rs;
}

TEST(Rules_Report, TextListsVerdictsAndActions) {
    auto e = test::push_event();
    auto ev = evaluate(staging_and_preview(), e, nullptr);
    auto text = render_text(e, ev);
    EXPECT_EQ(text,
              "event: github push (pushed) branch=main repo=acme/shop by octocat at 0123456\n"
              "repo: allowed\n"
              "rules:\n"
              "  staging-follows-main: match\n"
              "  preview: no: on: pull_request, but the event is push\n"
              "actions:\n"
              "  deploy shop-staging branch=main (rule staging-follows-main, debounce 30s)\n");
}

TEST(Rules_Report, TextSaysNoneWithoutActions) {
    auto e = test::push_event("dev");
    auto ev = evaluate(staging_and_preview(), e, nullptr);
    auto text = render_text(e, ev);
    EXPECT_NE(text.find("  staging-follows-main: no: branch: \"dev\" does not match \"main\"\n"),
              std::string::npos)
        << text;
    EXPECT_TRUE(text.ends_with("actions: none\n")) << text;
}

TEST(Rules_Report, TextShowsRepoRejection) {
    auto rs = staging_and_preview();
    rs.repos = test::plist({"acme/*", "!acme/shop"});
    auto e = test::push_event();
    auto text = render_text(e, evaluate(rs, e, nullptr));
    EXPECT_NE(text.find("repo: not allowed: repo \"acme/shop\" is not allowed by repos: "
                        "[\"acme/*\", \"!acme/shop\"]\n"),
              std::string::npos)
        << text;
}

TEST(Rules_Report, TextNotesIncompleteFileList) {
    auto e = test::push_event("main", {});
    std::get<events::Push>(e.body).files_complete = false;
    auto ev = evaluate(staging_and_preview(), e, nullptr);
    auto text = render_text(e, ev);
    EXPECT_NE(text.find("note: the forge sent an incomplete list of changed files"),
              std::string::npos)
        << text;
    EXPECT_TRUE(ev.verdicts[0].matched);
    EXPECT_TRUE(render_json(e, ev).as_object().at("paths_fail_open").as_bool());
}

TEST(Rules_Report, NoFailOpenNoteOnBranchDeletion) {
    auto e = test::push_event("main", {});
    auto& push = std::get<events::Push>(e.body);
    push.action = "deleted";
    push.files_complete = false;
    auto ev = evaluate(staging_and_preview(), e, nullptr);
    EXPECT_EQ(render_text(e, ev).find("note:"), std::string::npos);
    EXPECT_FALSE(render_json(e, ev).as_object().at("paths_fail_open").as_bool());
}

TEST(Rules_Report, TextShowsReviewAppPrNumber) {
    auto e = test::pr_event();
    auto text = render_text(e, evaluate(staging_and_preview(), e, nullptr));
    EXPECT_NE(text.find("event: github pull_request (labeled) #42 head=feature/cart base=main"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("  review_app shop-staging pr=42 (rule preview)\n"), std::string::npos)
        << text;
}

TEST(Rules_Report, JsonCarriesVerdictsAndActions) {
    auto e = test::push_event();
    auto ev = evaluate(staging_and_preview(), e, nullptr);
    auto j = render_json(e, ev).as_object();
    EXPECT_TRUE(j.at("repo_allowed").as_bool());
    EXPECT_FALSE(j.at("paths_fail_open").as_bool());
    const auto& rules = j.at("rules").as_array();
    ASSERT_EQ(rules.size(), 2U);
    EXPECT_EQ(rules[0].at("name").as_string(), "staging-follows-main");
    EXPECT_TRUE(rules[0].at("matched").as_bool());
    EXPECT_EQ(rules[0].at("reason").as_string(), "");
    EXPECT_FALSE(rules[1].at("matched").as_bool());
    EXPECT_EQ(rules[1].at("reason").as_string(), "on: pull_request, but the event is push");
    const auto& actions = j.at("actions").as_array();
    ASSERT_EQ(actions.size(), 1U);
    EXPECT_EQ(boost::json::serialize(actions[0]),
              R"({"action":"deploy","app":"shop-staging","branch":"main","pr_number":null,)"
              R"("rule":"staging-follows-main","debounce_ms":30000})");
    EXPECT_EQ(j.at("event").at("kind").as_string(), "push");
}

TEST(Rules_Report, JsonReviewAppHasPrNumberAndNullBranch) {
    auto e = test::pr_event();
    auto j = render_json(e, evaluate(staging_and_preview(), e, nullptr)).as_object();
    const auto& a = j.at("actions").as_array().at(0);
    EXPECT_TRUE(a.at("branch").is_null());
    EXPECT_EQ(a.at("pr_number").as_int64(), 42);
    EXPECT_TRUE(a.at("debounce_ms").is_null());
}

TEST(Rules_Report, EventJsonForPush) {
    auto e = test::push_event("main", {"a.rb", "b.rb"});
    EXPECT_EQ(
        boost::json::serialize(event_to_json(e)),
        R"({"provider":"github","kind":"push","event":"push","repo":"acme/shop",)"
        R"("author":"octocat","sha":"0123456789abcdef0123456789abcdef01234567",)"
        R"("branch":"main","action":"pushed","before":"fedcba9876543210fedcba9876543210fedcba98",)"
        R"("message":"Fix checkout\n\nCloses #12","changed_files":["a.rb","b.rb"],)"
        R"("files_complete":true})");
}

TEST(Rules_Report, EventJsonForPullRequest) {
    auto j = event_to_json(test::pr_event({"preview", "bug"}));
    EXPECT_EQ(j.at("number").as_int64(), 42);
    EXPECT_EQ(j.at("base").as_string(), "main");
    EXPECT_EQ(j.at("title").as_string(), "Add a cart");
    EXPECT_EQ(j.at("labels").as_array().size(), 2U);
    EXPECT_FALSE(j.at("draft").as_bool());
    EXPECT_FALSE(j.at("fork").as_bool());
}

TEST(Rules_Report, EventJsonForCiTagAndIgnored) {
    auto ci = event_to_json(test::ci_event());
    EXPECT_EQ(ci.at("provider").as_string(), "gitlab");
    EXPECT_EQ(ci.at("event").as_string(), "Pipeline Hook");
    EXPECT_EQ(ci.at("workflow").as_string(), "CI");
    EXPECT_TRUE(ci.at("pr_number").is_null());
    auto tag = event_to_json(test::tag_event());
    EXPECT_EQ(tag.at("tag").as_string(), "v1.2.0");
    events::Event ignored;
    ignored.body = events::Ignored{"issues"};
    auto ig = event_to_json(ignored);
    EXPECT_EQ(ig.at("kind").as_string(), "ignored");
    EXPECT_EQ(ig.at("reason").as_string(), "issues");
}

TEST(Rules_Report, FormatsDurations) {
    using std::chrono::milliseconds;
    EXPECT_EQ(format_duration(milliseconds(30000)), "30s");
    EXPECT_EQ(format_duration(milliseconds(90000)), "1m30s");
    EXPECT_EQ(format_duration(milliseconds(7200000)), "2h");
    EXPECT_EQ(format_duration(milliseconds(3661000)), "1h1m1s");
    EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
    EXPECT_EQ(format_duration(milliseconds(0)), "0s");
}

}  // namespace
}  // namespace linkpilot::rules
