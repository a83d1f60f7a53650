#include "rules/engine.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/unit/rules/builders.hpp"

namespace linkpilot::rules {
namespace {

using events::Kind;
using test::ci_event;
using test::pr_event;
using test::push_event;
using test::rule;
using test::tag_event;
using test::when;
using test::when_bool;
using test::when_labels;
using test::when_payload;

RuleSet one(Rule r) {
    RuleSet rs;
    rs.rules.push_back(std::move(r));
    return rs;
}

RuleVerdict verdict_of(Rule r, const events::Event& e,
                       const boost::json::value* payload = nullptr) {
    const RuleSet rs = one(std::move(r));
    auto ev = evaluate(rs, e, payload);
    EXPECT_EQ(ev.verdicts.size(), 1U);
    // The ingress's mode must reach the same decision without formatting any reason.
    auto fast = evaluate(rs, e, payload, Detail::actions_only);
    EXPECT_EQ(fast.actions, ev.actions)
        << "actions_only disagrees; reason: " << ev.verdicts.at(0).reason;
    return ev.verdicts.at(0);
}

// --- string conditions -------------------------------------------------------------------

TEST(Rules_Engine, MatchesWhenEveryConditionHolds) {
    auto ev = evaluate(
        one(rule("staging", Kind::push,
                 {when(ConditionKey::repo, {"acme/shop"}), when(ConditionKey::branch, {"main"})})),
        push_event(), nullptr);
    ASSERT_EQ(ev.verdicts.size(), 1U);
    EXPECT_TRUE(ev.verdicts[0].matched);
    EXPECT_EQ(ev.verdicts[0].reason, "");
    EXPECT_EQ(ev.verdicts[0].rule, "staging");
    ASSERT_EQ(ev.actions.size(), 1U);
    EXPECT_EQ(ev.actions[0].kind, ActionKind::deploy);
    EXPECT_EQ(ev.actions[0].app, "shop-staging");
    EXPECT_EQ(ev.actions[0].branch, "main");
    EXPECT_EQ(ev.actions[0].rule, "staging");
}

TEST(Rules_Engine, BranchMismatchNamesActualValue) {
    auto v = verdict_of(rule("r", Kind::push, {when(ConditionKey::branch, {"main"})}),
                        push_event("feature/x"));
    EXPECT_FALSE(v.matched);
    EXPECT_EQ(v.reason, R"(branch: "feature/x" does not match "main")");
}

TEST(Rules_Engine, FirstFailingConditionInFileOrderGivesTheReason) {
    auto v = verdict_of(
        rule("r", Kind::push,
             {when(ConditionKey::author, {"alice"}), when(ConditionKey::branch, {"release/*"})}),
        push_event("main"));
    EXPECT_EQ(v.reason, R"(author: "octocat" does not match "alice")");
}

TEST(Rules_Engine, NegatedPatternExcludes) {
    auto r = rule("r", Kind::pull_request, {when(ConditionKey::author, {"!dependabot[bot]"})},
                  ActionKind::review_app);
    auto e = pr_event();
    EXPECT_TRUE(verdict_of(r, e).matched);
    e.author = "dependabot[bot]";
    auto v = verdict_of(r, e);
    EXPECT_FALSE(v.matched);
    EXPECT_EQ(v.reason, R"(author: "dependabot[bot]" does not match "!dependabot[bot]")");
}

TEST(Rules_Engine, ListIsAnyOfIncludesAndNoneOfExcludes) {
    auto r =
        rule("r", Kind::push, {when(ConditionKey::branch, {"release/*", "main", "!release/old"})});
    EXPECT_TRUE(verdict_of(r, push_event("main")).matched);
    EXPECT_TRUE(verdict_of(r, push_event("release/2")).matched);
    EXPECT_FALSE(verdict_of(r, push_event("release/old")).matched);
    auto v = verdict_of(r, push_event("dev"));
    EXPECT_EQ(v.reason, R"(branch: "dev" does not match ["release/*", "main", "!release/old"])");
}

TEST(Rules_Engine, RegexConditionSearches) {
    auto r = rule("r", Kind::push, {when(ConditionKey::branch, {"re:^release/[0-9]+$"})});
    EXPECT_TRUE(verdict_of(r, push_event("release/12")).matched);
    EXPECT_FALSE(verdict_of(r, push_event("release/12b")).matched);
}

TEST(Rules_Engine, MessageSkipMarkerBlocksDeploy) {
    auto r = rule("r", Kind::push, {when(ConditionKey::message, {"!*[skip deploy]*"})});
    auto e = push_event();
    EXPECT_TRUE(verdict_of(r, e).matched);
    std::get<events::Push>(e.body).message = "Docs only\n\n[skip deploy]";
    auto v = verdict_of(r, e);
    EXPECT_FALSE(v.matched);
    // Newlines are escaped so the explain output stays one line per rule.
    EXPECT_EQ(v.reason,
              R"(message: "Docs only\n\n[skip deploy]" does not match "!*[skip deploy]*")");
}

TEST(Rules_Engine, ProviderComparesTheProviderName) {
    auto r = rule("r", Kind::ci, {when(ConditionKey::provider, {"github"})});
    auto v = verdict_of(r, ci_event());
    EXPECT_EQ(v.reason, R"(provider: "gitlab" does not match "github")");
}

TEST(Rules_Engine, BaseTestsThePullRequestTarget) {
    auto r =
        rule("r", Kind::pull_request, {when(ConditionKey::base, {"main"})}, ActionKind::review_app);
    EXPECT_TRUE(verdict_of(r, pr_event()).matched);
    auto e = pr_event();
    std::get<events::PullRequest>(e.body).base = "develop";
    EXPECT_EQ(verdict_of(r, e).reason, R"(base: "develop" does not match "main")");
}

TEST(Rules_Engine, ActionUsesTheNormalisedAction) {
    auto r = rule("r", Kind::pull_request, {when(ConditionKey::action, {"opened", "synchronize"})},
                  ActionKind::review_app);
    auto v = verdict_of(r, pr_event());
    EXPECT_EQ(v.reason, R"(action: "labeled" does not match ["opened", "synchronize"])");
    auto push = rule("p", Kind::push, {when(ConditionKey::action, {"deleted"})});
    EXPECT_EQ(verdict_of(push, push_event()).reason,
              R"(action: "pushed" does not match "deleted")");
}

TEST(Rules_Engine, WorkflowAndStatusComeFromCi) {
    auto r = rule("prod", Kind::ci,
                  {when(ConditionKey::workflow, {"CI"}), when(ConditionKey::status, {"success"})});
    EXPECT_TRUE(verdict_of(r, ci_event("success")).matched);
    EXPECT_EQ(verdict_of(r, ci_event("failure")).reason,
              R"(status: "failure" does not match "success")");
}

TEST(Rules_Engine, TagConditionMatchesTagName) {
    auto r = rule("r", Kind::tag, {when(ConditionKey::tag, {"v*"})}, ActionKind::deploy,
                  "shop-production");
    auto ev = evaluate(one(r), tag_event(), nullptr);
    ASSERT_TRUE(ev.verdicts[0].matched) << ev.verdicts[0].reason;
    ASSERT_EQ(ev.actions.size(), 1U);
    // Without a branch template a tag deploy ships the tag.
    EXPECT_EQ(ev.actions[0].branch, "v1.2.0");
}

TEST(Rules_Engine, ConditionNotAvailableForEventKindFailsWithReason) {
    // `check` rejects this config; at run time the engine still explains rather than crash.
    auto r = rule("r", Kind::tag, {when(ConditionKey::branch, {"main"})});
    EXPECT_EQ(verdict_of(r, tag_event()).reason, "branch: not available on tag events");
}

// --- labels --------------------------------------------------------------------------------

TEST(Rules_Engine, LabelsAllOfNeedsEveryLabel) {
    auto r =
        rule("r", Kind::pull_request, {when_labels({"preview", "ready"})}, ActionKind::review_app);
    EXPECT_TRUE(verdict_of(r, pr_event({"ready", "preview", "x"})).matched);
    EXPECT_EQ(verdict_of(r, pr_event({"preview"})).reason, R"(labels: ["preview"] lacks "ready")");
}

TEST(Rules_Engine, LabelsMissingOneReportsIt) {
    auto r = rule("r", Kind::pull_request, {when_labels({"preview"})}, ActionKind::review_app);
    EXPECT_EQ(verdict_of(r, pr_event({"bug"})).reason, R"(labels: ["bug"] lacks "preview")");
    EXPECT_EQ(verdict_of(r, pr_event({})).reason, R"(labels: [] lacks "preview")");
}

TEST(Rules_Engine, LabelsAllOfNegatedMeansAbsent) {
    auto r =
        rule("r", Kind::pull_request, {when_labels({"preview", "!wip"})}, ActionKind::review_app);
    EXPECT_TRUE(verdict_of(r, pr_event({"preview"})).matched);
    EXPECT_EQ(verdict_of(r, pr_event({"preview", "wip"})).reason,
              R"(labels: ["preview", "wip"] has a label excluded by "!wip")");
}

TEST(Rules_Engine, LabelsGlobMatchesAnyLabel) {
    auto r = rule("r", Kind::pull_request, {when_labels({"deploy:*"})}, ActionKind::review_app);
    EXPECT_TRUE(verdict_of(r, pr_event({"bug", "deploy:staging"})).matched);
}

TEST(Rules_Engine, LabelsAnyOfNeedsOne) {
    auto r = rule("r", Kind::pull_request, {when_labels({}, {"preview", "review"})},
                  ActionKind::review_app);
    EXPECT_TRUE(verdict_of(r, pr_event({"review"})).matched);
    EXPECT_EQ(verdict_of(r, pr_event({"bug"})).reason,
              R"(labels: ["bug"] has none of any: ["preview", "review"])");
}

TEST(Rules_Engine, LabelsNoneOfRejectsAny) {
    auto r = rule("r", Kind::pull_request, {when_labels({}, {}, {"wip", "do-not-*"})},
                  ActionKind::review_app);
    EXPECT_TRUE(verdict_of(r, pr_event({"preview"})).matched);
    EXPECT_EQ(
        verdict_of(r, pr_event({"preview", "do-not-merge"})).reason,
        R"(labels: ["preview", "do-not-merge"] has "do-not-*", excluded by none: ["wip", "do-not-*"])");
}

// --- booleans -------------------------------------------------------------------------------

TEST(Rules_Engine, DraftMustEqual) {
    auto r = rule("r", Kind::pull_request, {when_bool(ConditionKey::draft, false)},
                  ActionKind::review_app);
    auto e = pr_event();
    EXPECT_TRUE(verdict_of(r, e).matched);
    std::get<events::PullRequest>(e.body).draft = true;
    EXPECT_EQ(verdict_of(r, e).reason, "draft: true, wanted false");
}

TEST(Rules_Engine, ForkMustEqual) {
    auto r = rule("r", Kind::pull_request, {when_bool(ConditionKey::fork, false)},
                  ActionKind::review_app);
    auto e = pr_event();
    std::get<events::PullRequest>(e.body).fork = true;
    EXPECT_EQ(verdict_of(r, e).reason, "fork: true, wanted false");
    auto wants_fork = rule("r", Kind::pull_request, {when_bool(ConditionKey::fork, true)},
                           ActionKind::review_app);
    EXPECT_EQ(verdict_of(wants_fork, pr_event()).reason, "fork: false, wanted true");
}

// --- paths ---------------------------------------------------------------------------------

TEST(Rules_Engine, PathsMatchWhenOneFileMatchesAnInclude) {
    auto r = rule("r", Kind::push, {when(ConditionKey::paths, {"app/**", "Gemfile*"})});
    EXPECT_TRUE(verdict_of(r, push_event("main", {"README.md", "Gemfile.lock"})).matched);
    EXPECT_TRUE(verdict_of(r, push_event("main", {"app/a/b/c.rb"})).matched);
}

TEST(Rules_Engine, PathsFailWhenNoFileMatches) {
    auto r = rule("r", Kind::push, {when(ConditionKey::paths, {"app/**", "!docs/**"})});
    auto v = verdict_of(r, push_event("main", {"README.md", "docs/x.md"}));
    EXPECT_FALSE(v.matched);
    EXPECT_EQ(
        v.reason,
        R"(paths: no changed file ["README.md", "docs/x.md"] matches ["app/**", "!docs/**"])");
}

TEST(Rules_Engine, PathsExcludeOnlyListNeedsAFileOutsideTheExcludes) {
    auto r = rule("r", Kind::push, {when(ConditionKey::paths, {"!docs/**", "!*.md"})});
    EXPECT_FALSE(verdict_of(r, push_event("main", {"docs/a.md", "README.md"})).matched);
    EXPECT_TRUE(verdict_of(r, push_event("main", {"docs/a.md", "app/x.rb"})).matched);
}

TEST(Rules_Engine, PathsExcludedFileDoesNotCountEvenIfIncluded) {
    auto r = rule("r", Kind::push, {when(ConditionKey::paths, {"app/**", "!app/docs/**"})});
    EXPECT_FALSE(verdict_of(r, push_event("main", {"app/docs/readme.md"})).matched);
    EXPECT_TRUE(verdict_of(r, push_event("main", {"app/docs/readme.md", "app/x.rb"})).matched);
}

TEST(Rules_Engine, PathsWithNoChangedFilesFail) {
    auto r = rule("r", Kind::push, {when(ConditionKey::paths, {"app/**"})});
    EXPECT_EQ(verdict_of(r, push_event("main", {})).reason, R"(paths: no changed files "app/**")");
}

TEST(Rules_Engine, PathsFailOpenOnIncompleteFileList) {
    auto r = rule("r", Kind::push, {when(ConditionKey::paths, {"app/**"})});
    auto e = push_event("main", {"README.md"});
    std::get<events::Push>(e.body).files_complete = false;
    auto v = verdict_of(r, e);
    EXPECT_TRUE(v.matched) << v.reason;
    std::get<events::Push>(e.body).changed_files.clear();
    EXPECT_TRUE(verdict_of(r, e).matched);
}

TEST(Rules_Engine, PathsNeverHoldOnBranchDeletion) {
    // A deletion push has no commits (so no complete file list) but changed no file either:
    // it must not fail open into a deploy of a branch that no longer exists.
    auto r = rule("r", Kind::push, {when(ConditionKey::paths, {"app/**"})});
    auto e = push_event("main", {});
    auto& push = std::get<events::Push>(e.body);
    push.action = "deleted";
    push.files_complete = false;
    auto v = verdict_of(r, e);
    EXPECT_FALSE(v.matched);
    EXPECT_EQ(v.reason, "paths: the branch was deleted, no file changed");
}

TEST(Rules_Engine, ManyChangedFilesAreCutInTheReason) {
    auto r = rule("r", Kind::push, {when(ConditionKey::paths, {"app/**"})});
    auto v = verdict_of(r, push_event("main", {"a", "b", "c", "d", "e", "f", "g"}));
    EXPECT_NE(v.reason.find(R"("e", +2 more])"), std::string::npos) << v.reason;
}

// --- payload -------------------------------------------------------------------------------

TEST(Rules_Engine, PayloadStringPointerMatches) {
    auto payload = boost::json::parse(R"({"pull_request":{"user":{"type":"User"}}})");
    auto r = rule("r", Kind::pull_request, {when_payload({{"/pull_request/user/type", {"User"}}})},
                  ActionKind::review_app);
    EXPECT_TRUE(verdict_of(r, pr_event(), &payload).matched);
    auto bot = boost::json::parse(R"({"pull_request":{"user":{"type":"Bot"}}})");
    EXPECT_EQ(verdict_of(r, pr_event(), &bot).reason,
              R"(payload /pull_request/user/type: "Bot" does not match "User")");
}

TEST(Rules_Engine, PayloadMissingKeyFails) {
    auto payload = boost::json::parse(R"({"pull_request":{}})");
    auto r = rule("r", Kind::pull_request, {when_payload({{"/pull_request/user/type", {"User"}}})},
                  ActionKind::review_app);
    EXPECT_EQ(verdict_of(r, pr_event(), &payload).reason,
              "payload /pull_request/user/type: missing");
}

TEST(Rules_Engine, PayloadWithoutRawPayloadFails) {
    auto r = rule("r", Kind::pull_request, {when_payload({{"/x", {"*"}}})}, ActionKind::review_app);
    EXPECT_EQ(verdict_of(r, pr_event(), nullptr).reason, "payload /x: missing (no raw payload)");
}

TEST(Rules_Engine, PayloadScalarsCompareInJsonText) {
    auto payload = boost::json::parse(
        R"({"a":true,"n":42,"neg":-3,"f":1.5,"z":null,"arr":[1],"obj":{"k":1},"list":["x","y"]})");
    auto check = [&](const char* ptr, const char* pattern) {
        auto r = rule("r", Kind::pull_request, {when_payload({{ptr, {pattern}}})},
                      ActionKind::review_app);
        return verdict_of(r, pr_event(), &payload);
    };
    EXPECT_TRUE(check("/a", "true").matched);
    EXPECT_TRUE(check("/n", "42").matched);
    EXPECT_TRUE(check("/neg", "-3").matched);
    EXPECT_TRUE(check("/f", "1.5").matched);
    EXPECT_TRUE(check("/z", "null").matched);
    EXPECT_TRUE(check("/list/1", "y").matched);
    EXPECT_EQ(check("/n", "43").reason, R"(payload /n: 42 does not match "43")");
    EXPECT_EQ(check("/arr", "*").reason,
              "payload /arr: is an array, only strings, numbers, booleans and null can match");
    EXPECT_EQ(check("/obj", "*").reason,
              "payload /obj: is an object, only strings, numbers, booleans and null can match");
}

TEST(Rules_Engine, PayloadEveryPointerMustHold) {
    auto payload = boost::json::parse(R"({"a":"x","b":"y"})");
    auto r = rule("r", Kind::pull_request, {when_payload({{"/a", {"x"}}, {"/b", {"!y"}}})},
                  ActionKind::review_app);
    EXPECT_EQ(verdict_of(r, pr_event(), &payload).reason, R"(payload /b: "y" does not match "!y")");
}

// --- on:, allowlist, ignored kinds --------------------------------------------------------

TEST(Rules_Engine, OnMismatchSaysBoth) {
    auto v = verdict_of(rule("r", Kind::pull_request, {}, ActionKind::review_app), push_event());
    EXPECT_FALSE(v.matched);
    EXPECT_EQ(v.reason, "on: pull_request, but the event is push");
}

TEST(Rules_Engine, RepoAllowlistRejectsBeforeRules) {
    RuleSet rs = one(rule("r", Kind::push, {}));
    rs.repos = test::plist({"acme/*", "!acme/legacy"});
    auto e = push_event();
    e.repo = "acme/legacy";
    auto ev = evaluate(rs, e, nullptr);
    EXPECT_FALSE(ev.repo_allowed);
    EXPECT_EQ(ev.repo_reason,
              R"(repo "acme/legacy" is not allowed by repos: ["acme/*", "!acme/legacy"])");
    ASSERT_EQ(ev.verdicts.size(), 1U);
    EXPECT_FALSE(ev.verdicts[0].matched);
    EXPECT_EQ(ev.verdicts[0].reason, ev.repo_reason);
    EXPECT_TRUE(ev.actions.empty());
}

TEST(Rules_Engine, RepoAllowlistSinglePatternIsShownAsList) {
    RuleSet rs = one(rule("r", Kind::push, {}));
    rs.repos = test::plist({"acme/*"});
    auto e = push_event();
    e.repo = "other/x";
    EXPECT_EQ(evaluate(rs, e, nullptr).repo_reason,
              R"(repo "other/x" is not allowed by repos: ["acme/*"])");
}

TEST(Rules_Engine, RepoAllowlistAllowsMatchingRepo) {
    RuleSet rs = one(rule("r", Kind::push, {}));
    rs.repos = test::plist({"acme/*", "!acme/legacy"});
    auto ev = evaluate(rs, push_event(), nullptr);
    EXPECT_TRUE(ev.repo_allowed);
    EXPECT_TRUE(ev.verdicts[0].matched);
}

TEST(Rules_Engine, PingNeverMatches) {
    events::Event e;
    e.event_name = "ping";
    e.body = events::Ping{};
    auto v = verdict_of(rule("r", Kind::push, {}), e);
    EXPECT_FALSE(v.matched);
    EXPECT_EQ(v.reason, "the event is ping; no rule matches it");
}

TEST(Rules_Engine, IgnoredEventNeverMatchesAndSaysWhy) {
    events::Event e;
    e.event_name = "issues";
    e.body = events::Ignored{"unsupported event \"issues\""};
    auto v = verdict_of(rule("r", Kind::push, {}), e);
    EXPECT_EQ(v.reason, R"(the event is ignored (unsupported event "issues"); no rule matches it)");
}

TEST(Rules_Engine, DeletedTagIsNeverMatched) {
    auto v = verdict_of(rule("r", Kind::tag, {}), tag_event("deleted"));
    EXPECT_FALSE(v.matched);
    EXPECT_EQ(v.reason, "tag deletions are recorded, never matched");
}

// --- actions --------------------------------------------------------------------------------

TEST(Rules_Engine, StopTrueSkipsLaterRules) {
    RuleSet rs;
    rs.rules.push_back(rule("first", Kind::push, {}, ActionKind::deploy, "shop-one"));
    rs.rules.back().stop = true;
    rs.rules.push_back(rule("second", Kind::push, {}, ActionKind::deploy, "shop-two"));
    rs.rules.push_back(rule("third", Kind::pull_request, {}, ActionKind::review_app));
    auto ev = evaluate(rs, push_event(), nullptr);
    ASSERT_EQ(ev.verdicts.size(), 3U);
    EXPECT_TRUE(ev.verdicts[0].matched);
    EXPECT_FALSE(ev.verdicts[1].matched);
    EXPECT_EQ(ev.verdicts[1].reason, R"(not evaluated: rule "first" matched with stop: true)");
    EXPECT_EQ(ev.verdicts[2].reason, R"(not evaluated: rule "first" matched with stop: true)");
    ASSERT_EQ(ev.actions.size(), 1U);
    EXPECT_EQ(ev.actions[0].app, "shop-one");
}

TEST(Rules_Engine, StopOnUnmatchedRuleDoesNothing) {
    RuleSet rs;
    rs.rules.push_back(rule("first", Kind::push, {when(ConditionKey::branch, {"x"})}));
    rs.rules.back().stop = true;
    rs.rules.push_back(rule("second", Kind::push, {}, ActionKind::deploy, "shop-two"));
    auto ev = evaluate(rs, push_event(), nullptr);
    EXPECT_TRUE(ev.verdicts[1].matched);
}

TEST(Rules_Engine, EveryMatchingRuleFiresInFileOrder) {
    RuleSet rs;
    rs.rules.push_back(rule("b", Kind::push, {}, ActionKind::deploy, "shop-bbbb"));
    rs.rules.push_back(rule("a", Kind::push, {}, ActionKind::deploy, "shop-aaaa"));
    auto ev = evaluate(rs, push_event(), nullptr);
    ASSERT_EQ(ev.actions.size(), 2U);
    EXPECT_EQ(ev.actions[0].app, "shop-bbbb");
    EXPECT_EQ(ev.actions[1].app, "shop-aaaa");
}

TEST(Rules_Engine, IdenticalActionsCollapseToTheFirst) {
    RuleSet rs;
    rs.rules.push_back(rule("one", Kind::push, {}, ActionKind::deploy, "shop-staging"));
    rs.rules.back().debounce = std::chrono::seconds(30);
    // Rendered to the same app from a different template: still the same job.
    rs.rules.push_back(rule("two", Kind::push, {}, ActionKind::deploy, "shop-{{ repo.name }}ging"));
    rs.rules.back().action.app = test::tpl("{{ repo.name }}-staging");
    rs.rules.push_back(rule("three", Kind::push, {}, ActionKind::deploy, "shop-staging"));
    rs.rules.back().action.branch = test::tpl("other");
    auto ev = evaluate(rs, push_event(), nullptr);
    EXPECT_TRUE(ev.verdicts[0].matched);
    EXPECT_TRUE(ev.verdicts[1].matched);
    EXPECT_TRUE(ev.verdicts[2].matched);
    ASSERT_EQ(ev.actions.size(), 2U);
    EXPECT_EQ(ev.actions[0].rule, "one");
    EXPECT_EQ(ev.actions[0].debounce, std::chrono::milliseconds(30000));
    EXPECT_EQ(ev.actions[1].rule, "three");
    EXPECT_EQ(ev.actions[1].branch, "other");
}

TEST(Rules_Engine, ReviewAppAndDeleteAreDistinctActions) {
    RuleSet rs;
    rs.rules.push_back(
        rule("open", Kind::pull_request, {}, ActionKind::review_app, "{{ repo.name }}-staging"));
    rs.rules.push_back(rule("drop", Kind::pull_request, {}, ActionKind::delete_review_app,
                            "{{ repo.name }}-staging"));
    auto ev = evaluate(rs, pr_event(), nullptr);
    ASSERT_EQ(ev.actions.size(), 2U);
    EXPECT_EQ(ev.actions[0].kind, ActionKind::review_app);
    EXPECT_EQ(ev.actions[0].app, "shop-staging");
    EXPECT_EQ(ev.actions[0].pr_number, 42);
    EXPECT_EQ(ev.actions[0].branch, "");
    EXPECT_EQ(ev.actions[1].kind, ActionKind::delete_review_app);
    EXPECT_EQ(ev.actions[1].pr_number, 42);
}

TEST(Rules_Engine, DeployBranchTemplateOverridesEventBranch) {
    auto r = rule("r", Kind::pull_request, {}, ActionKind::deploy, "shop-review");
    r.action.branch = test::tpl("{{ branch }}");
    auto ev = evaluate(one(r), pr_event(), nullptr);
    ASSERT_EQ(ev.actions.size(), 1U);
    EXPECT_EQ(ev.actions[0].branch, "feature/cart");
    r.action.branch = test::tpl("deploy/{{ sha }}");
    ev = evaluate(one(r), pr_event(), nullptr);
    EXPECT_EQ(ev.actions[0].branch, "deploy/89abcdef0123456789abcdef0123456789abcdef");
}

TEST(Rules_Engine, CiDeployUsesCiBranch) {
    auto ev = evaluate(one(rule("prod", Kind::ci, {}, ActionKind::deploy, "shop-prod")), ci_event(),
                       nullptr);
    ASSERT_EQ(ev.actions.size(), 1U);
    EXPECT_EQ(ev.actions[0].branch, "main");
}

TEST(Rules_Engine, ReviewAppOnPushHasNoPrNumber) {
    auto v = verdict_of(rule("r", Kind::push, {}, ActionKind::review_app), push_event());
    EXPECT_FALSE(v.matched);
    EXPECT_EQ(v.reason, "review_app: the push event has no pull request number");
}

TEST(Rules_Engine, InvalidRenderedAppNameUnmatchesTheRule) {
    auto r = rule("r", Kind::pull_request, {}, ActionKind::review_app, "{{ branch }}-app");
    auto ev = evaluate(one(r), pr_event(), nullptr);
    EXPECT_FALSE(ev.verdicts[0].matched);
    EXPECT_EQ(
        ev.verdicts[0].reason,
        R"(app "feature/cart-app" (from "{{ branch }}-app") is not a valid Scalingo app name: )"
        R"(invalid character '/'; only lowercase letters, digits and hyphens are allowed)");
    EXPECT_TRUE(ev.actions.empty());
}

TEST(Rules_Engine, InvalidAppNameDoesNotTriggerStop) {
    RuleSet rs;
    rs.rules.push_back(rule("bad", Kind::push, {}, ActionKind::deploy, "Shop"));
    rs.rules.back().stop = true;
    rs.rules.push_back(rule("good", Kind::push, {}, ActionKind::deploy, "shop-staging"));
    auto ev = evaluate(rs, push_event(), nullptr);
    EXPECT_FALSE(ev.verdicts[0].matched);
    EXPECT_TRUE(ev.verdicts[1].matched);
}

TEST(Rules_Engine, EmptyRuleSetGivesNothing) {
    auto ev = evaluate(RuleSet{}, push_event(), nullptr);
    EXPECT_TRUE(ev.repo_allowed);
    EXPECT_TRUE(ev.verdicts.empty());
    EXPECT_TRUE(ev.actions.empty());
}

// --- check_app_name -------------------------------------------------------------------------

TEST(Rules_AppName, AcceptsScalingoNames) {
    EXPECT_EQ(check_app_name("shop-staging"), std::nullopt);
    EXPECT_EQ(check_app_name("abcdef"), std::nullopt);
    EXPECT_EQ(check_app_name("1shop-2"), std::nullopt);
    EXPECT_EQ(check_app_name(std::string(48, 'a')), std::nullopt);
}

TEST(Rules_AppName, RejectsBadCharacters) {
    EXPECT_NE(check_app_name("Shop-staging"), std::nullopt);
    EXPECT_NE(check_app_name("shop_staging"), std::nullopt);
    EXPECT_NE(check_app_name("shop.staging"), std::nullopt);
    EXPECT_NE(check_app_name("shop staging"), std::nullopt);
    EXPECT_EQ(
        *check_app_name("shop\nstaging"),
        "invalid character (byte 10); only lowercase letters, digits and hyphens are allowed");
}

TEST(Rules_AppName, RejectsBadLength) {
    EXPECT_EQ(*check_app_name(""), "empty name");
    EXPECT_EQ(*check_app_name("shop"), "length 4, must be between 6 and 48 characters");
    EXPECT_EQ(*check_app_name(std::string(49, 'a')),
              "length 49, must be between 6 and 48 characters");
}

TEST(Rules_AppName, RejectsHyphenPlacement) {
    EXPECT_EQ(*check_app_name("-shopstaging"), "must not start or end with a hyphen");
    EXPECT_EQ(*check_app_name("shopstaging-"), "must not start or end with a hyphen");
    EXPECT_EQ(*check_app_name("shop--staging"), "must not contain two hyphens in a row");
}

}  // namespace
}  // namespace linkpilot::rules

namespace linkpilot::rules {
namespace {

TEST(Rules_Engine, ActionsOnlyGivesSameActionsWithoutVerdicts) {
    RuleSet rs;
    rs.rules.push_back(test::rule("other-branch", Kind::push,
                                  {test::when(ConditionKey::branch, {"dev"})}, ActionKind::deploy,
                                  "shop-dev-app"));
    rs.rules.push_back(test::rule("main", Kind::push, {}, ActionKind::deploy, "shop-staging"));
    rs.rules.back().stop = true;
    rs.rules.push_back(test::rule("after-stop", Kind::push, {}, ActionKind::deploy, "shop-later"));
    auto full = evaluate(rs, test::push_event(), nullptr, Detail::reasons);
    auto fast = evaluate(rs, test::push_event(), nullptr, Detail::actions_only);
    EXPECT_TRUE(fast.verdicts.empty());
    EXPECT_EQ(full.verdicts.size(), 3U);
    EXPECT_EQ(fast.actions, full.actions);
    ASSERT_EQ(fast.actions.size(), 1U);
    EXPECT_EQ(fast.actions[0].app, "shop-staging");
}

TEST(Rules_Engine, ActionsOnlyStillReportsRepoRejection) {
    RuleSet rs = one(test::rule("r", Kind::push, {}));
    rs.repos = test::plist({"other/*"});
    auto fast = evaluate(rs, test::push_event(), nullptr, Detail::actions_only);
    EXPECT_FALSE(fast.repo_allowed);
    EXPECT_EQ(fast.repo_reason, R"(repo "acme/shop" is not allowed by repos: ["other/*"])");
    EXPECT_TRUE(fast.actions.empty());
}

}  // namespace
}  // namespace linkpilot::rules

namespace linkpilot::rules {
namespace {

TEST(Rules_Engine, CiReviewAppUsesTheAttachedPullRequestNumber) {
    auto e = test::ci_event();
    std::get<events::Ci>(e.body).pr_number = 7;
    auto ev = evaluate(one(test::rule("r", Kind::ci, {}, ActionKind::review_app)), e, nullptr);
    ASSERT_EQ(ev.actions.size(), 1U);
    EXPECT_EQ(ev.actions[0].pr_number, 7);
    std::get<events::Ci>(e.body).pr_number.reset();
    EXPECT_EQ(evaluate(one(test::rule("r", Kind::ci, {}, ActionKind::review_app)), e, nullptr)
                  .verdicts[0]
                  .reason,
              "review_app: the ci event has no pull request number");
}

TEST(Rules_Engine, PublishedTagMatches) {
    auto ev = evaluate(one(test::rule("r", Kind::tag, {})), test::tag_event("published"), nullptr);
    EXPECT_TRUE(ev.verdicts[0].matched) << ev.verdicts[0].reason;
}

}  // namespace
}  // namespace linkpilot::rules
