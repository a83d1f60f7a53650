// The SPEC section 2 example config (config/examples/linkpilot.yaml, checked below to be the
// SPEC's text) over the real forge payloads of ../shared/fixtures: every fixture of index.json
// goes through the real config loader, the real forge parser and the rules engine, and must
// yield exactly the rules and rendered actions of the tables below (issue 5, must-show 2).
//
// The fixtures come from public repositories (Codertocat/Hello-World, gitlabhq/gitlab-test,
// ...), none of which the example's `repos: ["acme/*", "!acme/legacy"]` allows. So there are
// two tables: the payloads as they are (every one is refused by the allowlist), and the same
// payloads with their repository renamed to `acme/shop` everywhere in the body (a variant
// built here from the original, as the fixtures' README asks; the file is never copied).
// A few more rows change one field more, to reach the rules no fixture reaches as it is.
//
// In this directory rather than tests/unit/rules because it needs the config library and the
// forge parsers, which unit_rules does not link.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/load.hpp"
#include "daemon/ingress/github/parse.hpp"
#include "daemon/ingress/gitlab/parse.hpp"
#include "rules/engine.hpp"
#include "rules/report.hpp"
#include "tests/support/fixtures.hpp"

namespace linkpilot {
namespace {

namespace json = boost::json;

config::Config spec_example() {
    // The example reads its secrets from the environment; these stand in for them.
    auto env = [](std::string_view name) -> std::optional<std::string> {
        return "test-" + std::string(name);
    };
    auto cfg = config::load_file(
        std::filesystem::path(LINKPILOT_SOURCE_DIR) / "config/examples/linkpilot.yaml", env);
    if (!cfg) {
        for (const auto& e : cfg.error()) {
            ADD_FAILURE() << e.to_string();
        }
        return {};
    }
    return std::move(*cfg);
}

Expected<events::Event, std::string> parse(const std::string& provider, const std::string& header,
                                           const json::value& payload) {
    return provider == "github" ? ingress::github::parse(header, payload.as_object())
                                : ingress::gitlab::parse(header, payload.as_object());
}

// What a row asserts: the rules that matched, in file order, and the actions as
// `rules::describe_action` prints them (what `linkpilot explain` shows).
struct Outcome {
    bool repo_allowed = true;
    std::vector<std::string> matched;
    std::vector<std::string> actions;
    std::string text;  // the whole explain text, for failure messages

    [[nodiscard]] std::string reason(const std::string& rule) const {
        auto pos = text.find("  " + rule + ": ");
        if (pos == std::string::npos) {
            return "(rule " + rule + " not listed)";
        }
        auto start = pos + rule.size() + 4;
        return text.substr(start, text.find('\n', start) - start);
    }
};

Outcome run(const config::Config& cfg, const std::string& provider, const std::string& header,
            const std::string& body) {
    Outcome out;
    auto payload = json::parse(body);
    auto event = parse(provider, header, payload);
    if (!event) {
        ADD_FAILURE() << "parser refused the payload: " << event.error();
        return out;
    }
    // Both modes: the ingress uses actions_only, explain uses reasons; they must agree.
    const auto full = rules::evaluate(cfg.rules, *event, &payload, rules::Detail::reasons);
    const auto fast = rules::evaluate(cfg.rules, *event, &payload, rules::Detail::actions_only);
    EXPECT_EQ(fast.actions, full.actions);
    out.repo_allowed = full.repo_allowed;
    for (const auto& v : full.verdicts) {
        if (v.matched) {
            out.matched.push_back(v.rule);
        }
    }
    for (const auto& a : full.actions) {
        out.actions.push_back(rules::describe_action(a));
    }
    out.text = rules::render_text(*event, full);
    return out;
}

// The payload with every occurrence of its repository's full name replaced by `acme/shop`
// (repository, head and base repositories, URLs alike, so a same-repository pull request stays
// one).
std::string renamed(const std::string& provider, const std::string& header,
                    const std::string& body) {
    auto event = parse(provider, header, json::parse(body));
    if (!event || event->repo.empty()) {
        return body;
    }
    std::string out = body;
    const std::string from = event->repo;
    const std::string to = "acme/shop";
    for (auto pos = out.find(from); pos != std::string::npos; pos = out.find(from, pos)) {
        out.replace(pos, from.size(), to);
        pos += to.size();
    }
    return out;
}

std::string with_fields(const std::string& body,
                        const std::vector<std::pair<std::string, json::value>>& fields) {
    auto doc = json::parse(body);
    for (const auto& [pointer, value] : fields) {
        doc.at_pointer(pointer) = value;
    }
    return json::serialize(doc);
}

const testing::FixtureEntry* entry(const std::vector<testing::FixtureEntry>& index,
                                   const std::string& file) {
    for (const auto& e : index) {
        if (e.file == file) {
            return &e;
        }
    }
    ADD_FAILURE() << file << " is not in index.json";
    return nullptr;
}

constexpr const char* kStaging = "staging-follows-main";
constexpr const char* kProd = "prod-after-ci";
constexpr const char* kPreview = "preview-labelled-prs";
constexpr const char* kDrop = "drop-preview-on-close";

// The example file is the SPEC's section 2 example, byte for byte from `version: 1` on.
TEST(Rules_Fixtures, ExampleConfigIsTheSpecExample) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    const auto spec_path = (dir / "..").lexically_normal() / "SPEC.md";
    if (!std::filesystem::exists(spec_path)) {
        GTEST_SKIP() << "SKIPPED: " << spec_path << " not found";
    }
    const std::string spec = testing::read_file(spec_path);
    // Section 2's block is the one that starts with `version: 1` (section 1 has a `links:` one).
    const auto start = spec.find("```yaml\nversion: 1\n");
    ASSERT_NE(start, std::string::npos);
    const auto body = start + 8;
    const std::string block = spec.substr(body, spec.find("```", body) - body);
    const std::string example = testing::read_file(std::filesystem::path(LINKPILOT_SOURCE_DIR) /
                                                   "config/examples/linkpilot.yaml");
    ASSERT_NE(example.find("version: 1"), std::string::npos);
    EXPECT_EQ(example.substr(example.find("version: 1")), block);
}

TEST(Rules_Fixtures, SpecExampleRefusesEveryFixtureRepositoryAsItIs) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    const auto cfg = spec_example();
    const auto index = testing::read_index(dir);
    ASSERT_GE(index.size(), 30U);
    for (const auto& e : index) {
        SCOPED_TRACE(e.file);
        auto out = run(cfg, e.provider, e.event_header, testing::read_file(e.path));
        EXPECT_FALSE(out.repo_allowed) << out.text;
        EXPECT_TRUE(out.matched.empty()) << out.text;
        EXPECT_TRUE(out.actions.empty()) << out.text;
        EXPECT_NE(out.text.find("is not allowed by repos: [\"acme/*\", \"!acme/legacy\"]"),
                  std::string::npos)
            << out.text;
    }
}

// Every fixture, renamed to acme/shop. `why` pins the reason of one rule that did not match:
// the first failing condition with the fixture's actual value.
struct Row {
    std::string file;
    std::vector<std::string> matched;
    std::vector<std::string> actions;
    std::map<std::string, std::string> why;
};

std::vector<Row> renamed_table() {
    return {
        {"github/ping/ping.json", {}, {}, {{kStaging, "the event is ping; no rule matches it"}}},
        {"github/push/branch-created.json",
         {},
         {},
         {{kStaging, R"(branch: "master" does not match "main")"}}},
        {"github/push/branch-updated.json",
         {},
         {},
         {{kStaging, R"(paths: no changed file ["pipeline/shared/replace_secrets.go", )"
                     R"("pipeline/shared/replace_secrets_test.go"] matches ["app/**", "Gemfile*", )"
                     R"("!docs/**"])"}}},
        {"github/push/branch-forced.json",
         {},
         {},
         {{kStaging,
           R"(paths: no changed file [".clippy.toml", ".gitignore", ".woodpecker/build.yml", )"
           R"(".woodpecker/lint.yml", "Cargo.lock", +12 more] matches ["app/**", "Gemfile*", )"
           R"("!docs/**"])"}}},
        {"github/push/branch-deleted.json",
         {},
         {},
         {{kStaging, R"(branch: "feature-branch" does not match "main")"}}},
        {"github/push/tag-created.json", {}, {}, {{kStaging, "on: push, but the event is tag"}}},
        {"github/push/tag-deleted.json", {}, {}, {{kStaging, "on: push, but the event is tag"}}},
        {"github/pull_request/opened.json",
         {},
         {},
         {{kPreview, R"(labels: ["bug"] lacks "preview")"},
          {kDrop, R"(action: "opened" does not match "closed")"}}},
        {"github/pull_request/synchronize.json",
         {},
         {},
         {{kPreview, R"(labels: ["bug"] lacks "preview")"}}},
        {"github/pull_request/labeled.json",
         {},
         {},
         {{kPreview, R"(labels: ["bug"] lacks "preview")"},
          {kProd, "on: ci, but the event is pull_request"}}},
        {"github/pull_request/unlabeled.json",
         {},
         {},
         {{kPreview, R"(action: "unlabeled" does not match ["opened", "reopened", "synchronize", )"
                     R"("labeled"])"}}},
        {"github/pull_request/edited.json",
         {},
         {},
         {{kPreview, R"(action: "edited" does not match ["opened", "reopened", "synchronize", )"
                     R"("labeled"])"}}},
        {"github/pull_request/closed-not-merged.json",
         {kDrop},
         {"delete_review_app shop-staging pr=2 (rule drop-preview-on-close)"},
         {{kPreview, R"(action: "closed" does not match ["opened", "reopened", "synchronize", )"
                     R"("labeled"])"}}},
        {"github/pull_request/closed-merged.json",
         {},
         {},
         {{kDrop, R"(action: "merged" does not match "closed")"}}},
        {"github/pull_request/reopened.json",
         {},
         {},
         {{kPreview, R"(labels: ["bug"] lacks "preview")"}}},
        {"github/pull_request/ready_for_review.json",
         {},
         {},
         {{kPreview, R"(action: "ready_for_review" does not match ["opened", "reopened", )"
                     R"("synchronize", "labeled"])"}}},
        {"github/pull_request/converted_to_draft.json",
         {},
         {},
         {{kPreview, R"(action: "converted_to_draft" does not match ["opened", "reopened", )"
                     R"("synchronize", "labeled"])"}}},
        {"github/pull_request/assigned.json",
         {},
         {},
         {{kPreview, R"(action: "assigned" does not match ["opened", "reopened", "synchronize", )"
                     R"("labeled"])"}}},
        {"github/workflow_run/completed.json",
         {},
         {},
         {{kProd, R"(branch: "master" does not match "main")"}}},
        {"github/workflow_run/requested.json",
         {},
         {},
         {{kProd, R"(branch: "master" does not match "main")"}}},
        {"github/check_suite/completed.json",
         {},
         {},
         {{kProd, R"(branch: "changes" does not match "main")"}}},
        {"github/check_suite/requested.json",
         {},
         {},
         {{kProd, R"(branch: "master" does not match "main")"}}},
        {"github/release/published.json", {}, {}, {{kStaging, "on: push, but the event is tag"}}},
        {"github/release/created.json", {}, {}, {}},
        {"gitlab/push/push.json",
         {},
         {},
         {{kStaging, R"(branch: "master" does not match "main")"}}},
        {"gitlab/tag_push/tag-created.json",
         {},
         {},
         {{kStaging, "on: push, but the event is tag"}}},
        {"gitlab/merge_request/open.json",
         {},
         {},
         {{kPreview, R"(labels: ["API"] lacks "preview")"}}},
        {"gitlab/merge_request/open-2.json",
         {},
         {},
         {{kPreview, R"(labels: ["documentation"] lacks "preview")"}}},
        {"gitlab/merge_request/update-new-commits.json",
         {},
         {},
         {{kPreview, R"(labels: [] lacks "preview")"}}},
        {"gitlab/merge_request/update-labels.json",
         {},
         {},
         {{kPreview, R"(labels: ["good first issue"] lacks "preview")"}}},
        {"gitlab/merge_request/close.json",
         {kDrop},
         {"delete_review_app shop-staging pr=4 (rule drop-preview-on-close)"},
         {}},
        {"gitlab/merge_request/merge.json",
         {},
         {},
         {{kDrop, R"(action: "merged" does not match "closed")"}}},
        {"gitlab/merge_request/reopen.json",
         {},
         {},
         {{kPreview, R"(labels: ["documentation"] lacks "preview")"}}},
        {"gitlab/pipeline/success.json",
         {},
         {},
         {{kProd, R"(branch: "master" does not match "main")"}}},
        {"gitlab/note/issue-comment.json", {}, {}, {}},
        {"gitlab/note/merge-request-comment.json", {}, {}, {}},
        {"gitlab/issue/open.json", {}, {}, {}},
    };
}

TEST(Rules_Fixtures, SpecExampleOnEveryFixtureRenamedToAnAllowedRepository) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    const auto cfg = spec_example();
    const auto index = testing::read_index(dir);
    std::set<std::string> covered;
    for (const auto& row : renamed_table()) {
        SCOPED_TRACE(row.file);
        covered.insert(row.file);
        const auto* e = entry(index, row.file);
        if (!e) {
            continue;
        }
        const std::string body = renamed(e->provider, e->event_header, testing::read_file(e->path));
        auto out = run(cfg, e->provider, e->event_header, body);
        EXPECT_TRUE(out.repo_allowed) << out.text;
        EXPECT_EQ(out.matched, row.matched) << out.text;
        EXPECT_EQ(out.actions, row.actions) << out.text;
        for (const auto& [rule, reason] : row.why) {
            EXPECT_EQ(out.reason(rule), "no: " + reason) << out.text;
        }
    }
    // The table covers the whole index: a fixture added later needs a row.
    for (const auto& e : index) {
        EXPECT_TRUE(covered.contains(e.file)) << e.file << " has no row in the table";
    }
}

// One field more than the rename, for the rules no fixture reaches as it is.
struct Variant {
    std::string name;
    std::string file;
    std::vector<std::pair<std::string, json::value>> fields;  // JSON pointer -> new value
    std::vector<std::string> matched;
    std::vector<std::string> actions;
    std::map<std::string, std::string> why;
    bool paths_fail_open = false;
};

std::vector<Variant> variants() {
    const json::value preview = {{"id", 1}, {"name", "preview"}, {"color", "ededed"}};
    const json::value bug_and_preview =
        json::array{json::parse(R"({"id": 208045946, "name": "bug"})"), preview};
    return {
        {"labelled PR gets a review app",
         "github/pull_request/labeled.json",
         {{"/pull_request/labels", bug_and_preview}},
         {kPreview},
         {"review_app shop-staging pr=2 (rule preview-labelled-prs)"},
         {}},
        {"labelled PR from a fork does not",
         "github/pull_request/labeled.json",
         {{"/pull_request/labels", bug_and_preview},
          {"/pull_request/head/repo/full_name", "someone/shop"}},
         {},
         {},
         {{kPreview, "fork: true, wanted false"}}},
        {"labelled draft PR does not",
         "github/pull_request/labeled.json",
         {{"/pull_request/labels", bug_and_preview}, {"/pull_request/draft", true}},
         {},
         {},
         {{kPreview, "draft: true, wanted false"}}},
        {"labelled PR by dependabot does not",
         "github/pull_request/labeled.json",
         {{"/pull_request/labels", bug_and_preview},
          {"/pull_request/user/login", "dependabot[bot]"}},
         {},
         {},
         {{kPreview, R"(author: "dependabot[bot]" does not match "!dependabot[bot]")"}}},
        {"CI passing on main deploys production",
         "github/workflow_run/completed.json",
         {{"/workflow_run/head_branch", "main"}, {"/workflow/name", "CI"}},
         {kProd},
         {"deploy shop-prod branch=main (rule prod-after-ci)"},
         {}},
        {"CI failing on main does not",
         "github/workflow_run/completed.json",
         {{"/workflow_run/head_branch", "main"},
          {"/workflow/name", "CI"},
          {"/workflow_run/conclusion", "failure"}},
         {},
         {},
         {{kProd, R"(status: "failure" does not match "success")"}}},
        {"push to main touching app/ deploys staging",
         "github/push/branch-updated.json",
         {{"/commits/0/modified", json::array{"app/models/user.rb"}}},
         {kStaging},
         {"deploy shop-staging branch=main (rule staging-follows-main, debounce 30s)"},
         {}},
        {"push to main with [skip deploy] does not",
         "github/push/branch-updated.json",
         {{"/commits/0/modified", json::array{"app/models/user.rb"}},
          {"/head_commit/message", "Fix the cart [skip deploy]"}},
         {},
         {},
         {{kStaging,
           R"(message: "Fix the cart [skip deploy]" does not match "!*[skip deploy]*")"}}},
        {"push to main touching only docs/ does not",
         "github/push/branch-updated.json",
         {{"/commits/0/modified", json::array{"docs/app/guide.md"}}},
         {},
         {},
         {{kStaging,
           R"(paths: no changed file ["docs/app/guide.md"] matches ["app/**", "Gemfile*", )"
           R"("!docs/**"])"}}},
        {"GitLab push to main with a truncated commit list fails open on paths",
         "gitlab/push/push.json",
         {{"/ref", "refs/heads/main"}},
         {kStaging},
         {"deploy shop-staging branch=main (rule staging-follows-main, debounce 30s)"},
         {},
         true},
        {"deleting main deploys nothing",
         "github/push/branch-deleted.json",
         {{"/ref", "refs/heads/main"}},
         {},
         {},
         {{kStaging, "paths: the branch was deleted, no file changed"}}},
    };
}

TEST(Rules_Fixtures, SpecExampleOnVariantsOfRenamedFixtures) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    const auto cfg = spec_example();
    const auto index = testing::read_index(dir);
    for (const auto& v : variants()) {
        SCOPED_TRACE(v.name);
        const auto* e = entry(index, v.file);
        if (!e) {
            continue;
        }
        const std::string body = with_fields(
            renamed(e->provider, e->event_header, testing::read_file(e->path)), v.fields);
        auto out = run(cfg, e->provider, e->event_header, body);
        EXPECT_TRUE(out.repo_allowed) << out.text;
        EXPECT_EQ(out.matched, v.matched) << out.text;
        EXPECT_EQ(out.actions, v.actions) << out.text;
        for (const auto& [rule, reason] : v.why) {
            EXPECT_EQ(out.reason(rule), "no: " + reason) << out.text;
        }
        EXPECT_EQ(out.text.find("note: the forge sent an incomplete list") != std::string::npos,
                  v.paths_fail_open)
            << out.text;
    }
}

}  // namespace
}  // namespace linkpilot
