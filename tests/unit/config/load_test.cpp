#include "config/load.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/unit/config/fake_env.hpp"

namespace linkpilot::config {
namespace {

using linkpilot::testing::fake_env;

// The smallest valid config: every test adds the lines under test after it.
constexpr std::string_view kHead = "version: 1\nscalingo: { dry_run: true }\n";

std::vector<Error> errors_of(std::string_view yaml, const EnvLookup& env = fake_env()) {
    auto r = load_string(yaml, "test.yaml", env);
    if (r) {
        return {};
    }
    return r.error();
}

// Exactly one problem, at LINE:COL, whose message contains `needle`.
void expect_one(std::string_view yaml, int line, int col, std::string_view needle) {
    auto errors = errors_of(yaml);
    ASSERT_EQ(errors.size(), 1u) << [&] {
        std::ostringstream ss;
        for (const auto& e : errors) {
            ss << e.to_string() << "\n";
        }
        return ss.str();
    }();
    EXPECT_EQ(errors[0].file, "test.yaml");
    EXPECT_EQ(errors[0].line, line) << errors[0].to_string();
    EXPECT_EQ(errors[0].col, col) << errors[0].to_string();
    EXPECT_NE(errors[0].message.find(needle), std::string::npos) << errors[0].to_string();
}

// A GitHub secret follows the lines under test (at the end, so their line numbers hold): rules
// need a provider that can deliver to them (issue 22).
std::string with_head(std::string_view rest) {
    std::string out = std::string(kHead) + std::string(rest);
    if (rest.find("providers:") == std::string_view::npos) {
        out += "providers: { github: { secrets: [s3cret] } }\n";
    }
    return out;
}

TEST(Config_Load, AcceptsTheSpecExample) {
    auto r = load_file(std::string(LINKPILOT_SOURCE_DIR) + "/config/examples/linkpilot.yaml",
                       fake_env({{"SCALINGO_API_TOKEN", "tk"},
                                 {"GITHUB_WEBHOOK_SECRET", "gh"},
                                 {"GITLAB_WEBHOOK_TOKEN", "gl"}}));
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    const Config& c = *r;
    EXPECT_EQ(c.server.listen.to_string(), "127.0.0.1:8787");
    EXPECT_EQ(c.server.max_body_bytes, 26214400u);
    EXPECT_EQ(c.server.request_timeout, std::chrono::seconds(10));
    EXPECT_EQ(c.state.keep_payloads, std::chrono::hours(24 * 7));
    EXPECT_EQ(c.scalingo.token.reveal(), "tk");
    EXPECT_EQ(c.scalingo.rate_limit.requests, 60u);
    EXPECT_EQ(c.scalingo.retry.max_attempts, 8u);
    EXPECT_EQ(c.scalingo.retry.max_backoff, std::chrono::minutes(5));
    ASSERT_EQ(c.providers.github.secrets.size(), 1u);
    EXPECT_EQ(c.providers.github.secrets[0].reveal(), "gh");
    ASSERT_TRUE(c.rules.repos.has_value());
    EXPECT_TRUE(c.rules.repos->matches("acme/shop"));
    EXPECT_FALSE(c.rules.repos->matches("acme/legacy"));
    ASSERT_EQ(c.freeze.size(), 1u);
    EXPECT_EQ(c.freeze[0].days, std::vector<int>{5});
    EXPECT_EQ(c.freeze[0].from, std::chrono::minutes(16 * 60));
    EXPECT_EQ(c.freeze[0].tz, "Europe/Paris");
    ASSERT_EQ(c.rules.rules.size(), 4u);
    const auto& first = c.rules.rules[0];
    EXPECT_EQ(first.name, "staging-follows-main");
    EXPECT_EQ(first.on, events::Kind::push);
    EXPECT_EQ(first.conditions.size(), 4u);
    EXPECT_EQ(first.debounce, std::chrono::seconds(30));
    EXPECT_EQ(c.rules.rules[2].action.kind, rules::ActionKind::review_app);
    ASSERT_TRUE(c.prune.has_value());
    EXPECT_EQ(c.prune->keep_at_most, 10u);
    EXPECT_TRUE(c.prune->protect.matches("shop-staging-pr1"));
}

TEST(Config_Load, ReportsYamlSyntaxErrorWithItsPosition) {
    expect_one("version: 1\nrules:\n  - name: x\n    on: push\n     deploy: {app: app-aa}\n", 5, 12,
               "YAML syntax error");
}

TEST(Config_Load, ReportsUnknownKeyWithSuggestion) {
    expect_one(with_head("servr:\n  listen: 127.0.0.1:1\n"), 3, 1,
               "unknown key \"servr\" (did you mean \"server\"?)");
}

TEST(Config_Load, ReportsUnknownKeyWithoutSuggestionWhenFarOff) {
    auto errors = errors_of(with_head("zzzzzzzz: 1\n"));
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].message.find("did you mean"), std::string::npos);
}

TEST(Config_Load, ReportsWrongType) {
    expect_one(with_head("server:\n  max_body_bytes: [1, 2]\n"), 4, 19, "expected a whole number");
}

TEST(Config_Load, ReportsBadDuration) {
    expect_one(with_head("server:\n  request_timeout: 10 minutes\n"), 4, 20, "bad duration");
}

TEST(Config_Load, ReportsBadListenAddress) {
    expect_one(with_head("server:\n  listen: \"::1:80\"\n"), 4, 11, "bad listen address");
}

TEST(Config_Load, AcceptsBracketedIpv6Listen) {
    auto r = load_string(with_head("server:\n  listen: \"[::]:8787\"\n"), "t.yaml", fake_env());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->server.listen.host, "::");
    EXPECT_EQ(r->server.listen.to_string(), "[::]:8787");
}

TEST(Config_Load, ReadsPostgresStateWithItsLease) {
    auto r =
        load_string(with_head("state:\n  url: postgresql://lp:pw@db/linkpilot\n  lease: 45s\n"),
                    "t.yaml", fake_env());
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->state.url.has_value());
    EXPECT_EQ(r->state.url->reveal(), "postgresql://lp:pw@db/linkpilot");
    EXPECT_FALSE(r->state.path.has_value());
    EXPECT_EQ(r->state.lease, std::chrono::seconds(45));
}

TEST(Config_Load, ReportsLeaseWithoutPostgresOrTooShort) {
    expect_one(with_head("state:\n  path: /tmp/s.db\n  lease: 30s\n"), 5, 10,
               "only used with state.url");
    expect_one(with_head("state:\n  url: postgresql://db/lp\n  lease: 2s\n"), 5, 10, "at least 3s");
}

TEST(Config_Load, ReadsScalingoCallTimeoutsWithDefaults) {
    auto r = load_string(
        "version: 1\nscalingo:\n  dry_run: true\n  timeout: { connect: 2s, read: 500ms }\n",
        "t.yaml", fake_env());
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    EXPECT_EQ(r->scalingo.timeout.connect, std::chrono::seconds(2));
    EXPECT_EQ(r->scalingo.timeout.read, std::chrono::milliseconds(500));
    EXPECT_EQ(r->scalingo.timeout.total, std::chrono::seconds(60));
    auto d = load_string(std::string(kHead), "t.yaml", fake_env());
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->scalingo.timeout.read, std::chrono::seconds(30));
}

TEST(Config_Load, ReportsACallDeadlineShorterThanOneRead) {
    expect_one("version: 1\nscalingo:\n  dry_run: true\n  timeout: { read: 90s }\n", 4, 12,
               "scalingo.timeout.total: must not be below read");
    expect_one("version: 1\nscalingo:\n  dry_run: true\n  timeout: { read: 0s }\n", 4, 20,
               "scalingo.timeout.read: must be more than zero");
}

TEST(Config_Load, ReportsInvalidRegexPattern) {
    expect_one(with_head("rules:\n  - name: r\n    on: push\n    if: { branch: \"re:[a-\" }\n"
                         "    deploy: { app: webshop }\n"),
               6, 19, "invalid regex");
}

TEST(Config_Load, ReportsInvalidGlobPattern) {
    expect_one(with_head("repos: [\"acme/*\", \"!\"]\n"), 3, 19, "empty pattern");
}

TEST(Config_Load, ReportsUnknownOnEvent) {
    expect_one(with_head("rules:\n  - name: r\n    on: pushh\n    deploy: { app: webshop }\n"), 5,
               9, "unknown event \"pushh\"");
}

// `pr` is as close to `ci` as to anything by edit distance; the forges' own words win.
TEST(Config_Load, SuggestsTheEventAForgeWordMeans) {
    for (auto [given, meant] : {std::pair{"pr", "pull_request"}, std::pair{"MR", "pull_request"},
                                std::pair{"merge_request", "pull_request"},
                                std::pair{"pipeline", "ci"}, std::pair{"workflow_run", "ci"},
                                std::pair{"release", "tag"}, std::pair{"pushh", "push"}}) {
        expect_one(with_head(std::string("rules:\n  - name: r\n    on: ") + given +
                             "\n    deploy: { app: webshop }\n"),
                   5, 9, std::string("(did you mean \"") + meant + "\"?)");
    }
}

TEST(Config_Load, FreezeDaysAreAListOfThreeLetterNames) {
    const std::string win = "from: \"08:00\", to: \"09:00\", tz: UTC }\n";
    expect_one(with_head("freeze:\n  - { days: [friday], " + win), 4, 14,
               "unknown day \"friday\" (use mon, tue, wed, thu, fri, sat, sun)");
    expect_one(with_head("freeze:\n  - { days: [fri, frix], " + win), 4, 19,
               "unknown day \"frix\"");
    expect_one(with_head("freeze:\n  - { days: fri, " + win), 4, 13,
               "expected a list of days such as [mon, fri] (mon, tue, wed, thu, fri, sat, sun)");
    expect_one(with_head("freeze:\n  - { days: [], " + win), 4, 13,
               "empty list; omit days for every day");
    auto r =
        load_string(with_head("freeze:\n  - { days: [Mon, fri], " + win), "t.yaml", fake_env());
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    EXPECT_EQ(r->freeze[0].days, (std::vector<int>{1, 5}));
}

// GitHub and GitLab repository paths ignore case (issue 22).
TEST(Config_Load, RepoPatternsIgnoreCase) {
    auto r =
        load_string(with_head("repos: [\"codertocat/*\", \"!codertocat/Legacy\", "
                              "\"re:^Acme/sh\"]\n"
                              "rules:\n  - { name: r, on: push, if: { repo: Codertocat/hello-* },"
                              " deploy: { app: app-aa } }\n"),
                    "t.yaml", fake_env());
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    const auto& repos = *r->rules.repos;
    EXPECT_TRUE(repos.matches("Codertocat/Hello-World"));
    EXPECT_TRUE(repos.matches("codertocat/hello-world"));
    EXPECT_FALSE(repos.matches("CoderToCat/LEGACY"));
    EXPECT_TRUE(repos.matches("acme/shop"));
    EXPECT_FALSE(repos.matches("other/Codertocat"));
    const auto& repo = std::get<rules::PatternList>(r->rules.rules[0].conditions[0].test);
    EXPECT_TRUE(repo.matches("Codertocat/Hello-World"));
    EXPECT_FALSE(repo.matches("Codertocat/Goodbye"));
    // Branches keep their case.
    auto b = load_string(with_head("rules:\n  - { name: r, on: push, if: { branch: Main },"
                                   " deploy: { app: app-aa } }\n"),
                         "t.yaml", fake_env());
    ASSERT_TRUE(b.has_value());
    EXPECT_FALSE(
        std::get<rules::PatternList>(b->rules.rules[0].conditions[0].test).matches("main"));
}

TEST(Config_Load, ReportsConditionThatCannotApplyToTheEvent) {
    expect_one(
        with_head("rules:\n  - name: r\n    on: pull_request\n    if: { paths: [\"a/**\"] }\n"
                  "    review_app: { app: shop-staging }\n"),
        6, 11, "paths: does not apply to on: pull_request");
}

TEST(Config_Load, ReportsLabelsOnPush) {
    expect_one(with_head("rules:\n  - name: r\n    on: push\n    if:\n      labels: [x]\n"
                         "    deploy: { app: webshop }\n"),
               7, 7, "labels: does not apply to on: push");
}

TEST(Config_Load, ReportsUnknownTemplateVariable) {
    expect_one(
        with_head("rules:\n  - name: r\n    on: push\n    deploy: { app: \"{{ brnch }}\" }\n"), 6,
        20, "unknown template variable \"brnch\"");
}

TEST(Config_Load, ReportsTemplateVariableTheEventCannotProvide) {
    expect_one(
        with_head("rules:\n  - name: r\n    on: tag\n    deploy: { app: \"a-{{ branch }}\" }\n"), 6,
        20, "{{ branch }} is not available for on: tag");
}

TEST(Config_Load, ReportsRuleWithoutAction) {
    expect_one(with_head("rules:\n  - name: r\n    on: push\n"), 4, 5, "no action");
}

TEST(Config_Load, ReportsRuleWithTwoActions) {
    expect_one(with_head("rules:\n  - name: r\n    on: pull_request\n    deploy: { app: app-aa }\n"
                         "    review_app: { app: app-bb }\n"),
               7, 17, "one action per rule");
}

TEST(Config_Load, ReportsAFixedAppNameScalingoWouldRefuse) {
    // Scalingo app names have 6 to 48 characters: "shop" would never deploy.
    expect_one(with_head("rules:\n  - name: r\n    on: push\n    deploy: { app: shop }\n"), 6, 20,
               "\"shop\" is not a valid Scalingo app name");
}

TEST(Config_Load, ReportsDuplicateRuleNames) {
    expect_one(with_head("rules:\n  - { name: r, on: push, deploy: { app: app-aa } }\n"
                         "  - { name: r, on: push, deploy: { app: app-bb } }\n"),
               5, 13, "duplicate rule name \"r\"");
}

// Issue 10: a billion-laughs style alias bomb (9 levels of 9 aliases: 387 million leaves if
// expanded). yaml-cpp shares aliased nodes, and the loader stops at the first level that has
// the wrong shape (no key takes a list of lists, and unknown keys are not descended into), so
// it is refused with a handful of errors instead of being expanded.
std::string alias_bomb(std::string_view use) {
    std::string y = "version: 1\nscalingo: { dry_run: true }\n";
    y += "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; ++i) {
        y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int k = 0; k < 9; ++k) {
            y += (k > 0 ? ", *a" : "*a") + std::to_string(i - 1);
        }
        y += "]\n";
    }
    y += "m1: &m1 {k1: *a9, k2: *a9, k3: *a9, k4: *a9, k5: *a9, k6: *a9, k7: *a9, k8: *a9}\n";
    return y + std::string(use);
}

TEST(Config_Load, RefusesAYamlAliasBombWithoutExpandingIt) {
    for (const auto* use : {"repos: *a9\n", "freeze: *a9\n",
                            "rules:\n  - { name: b, on: push, if: { paths: *a9 }, deploy: { app: "
                            "shop-staging } }\n",
                            "rules:\n  - { name: b, on: push, if: *m1, deploy: { app: "
                            "shop-staging } }\n",
                            "prune: *m1\n"}) {
        const auto errors = errors_of(alias_bomb(use));
        EXPECT_FALSE(errors.empty()) << use;
        EXPECT_LT(errors.size(), 40U) << use;  // one per top-level element at most
    }
}

TEST(Config_Load, ReportsUnknownTimeZone) {
    expect_one(with_head("freeze:\n  - { from: \"10:00\", to: \"11:00\", tz: Europe/Pariss }\n"), 4,
               39, "unknown time zone");
}

TEST(Config_Load, ReportsClockTimeNotHhMm) {
    expect_one(with_head("freeze:\n  - { from: \"9:00\", to: \"11:00\", tz: UTC }\n"), 4, 13,
               "expected HH:MM");
}

TEST(Config_Load, Accepts2400AsEndOfDay) {
    auto r = load_string(with_head("freeze:\n  - { from: \"22:00\", to: \"24:00\", tz: UTC }\n"),
                         "t.yaml", fake_env());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->freeze[0].to, std::chrono::minutes(24 * 60));
    EXPECT_TRUE(r->freeze[0].days.empty());
}

TEST(Config_Load, ReportsUnsetEnvironmentVariableByName) {
    expect_one(with_head("providers:\n  github:\n    secrets: [${GH_SECRET_NOT_SET}]\n"), 5, 15,
               "environment variable GH_SECRET_NOT_SET is not set");
}

TEST(Config_Load, ExpandsVariablesAndDefaults) {
    auto r =
        load_string(with_head("providers:\n  github:\n    secrets: [${A}, \"${B:-fallback}\"]\n"
                              "  gitlab:\n    tokens: [\"x-${A}-$${A}\"]\n"),
                    "t.yaml", fake_env({{"A", "alpha"}}));
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    ASSERT_EQ(r->providers.github.secrets.size(), 2u);
    EXPECT_EQ(r->providers.github.secrets[0].reveal(), "alpha");
    EXPECT_EQ(r->providers.github.secrets[1].reveal(), "fallback");
    EXPECT_EQ(r->providers.gitlab.secrets[0].reveal(), "x-alpha-${A}");
}

TEST(Config_Load, ReportsMissingVersion) {
    expect_one("scalingo: { dry_run: true }\n", 1, 1, "version: missing");
}

TEST(Config_Load, ReportsVersionOtherThanOne) {
    expect_one("version: 3\nscalingo: { dry_run: true }\n", 1, 10, "unsupported version");
}

TEST(Config_Load, ReportsMissingToken) {
    expect_one("version: 1\nscalingo: { api_url: \"https://x\" }\n", 2, 11,
               "token or token_file is required");
}

TEST(Config_Load, ReadsTokenFile) {
    auto dir = std::filesystem::temp_directory_path() / "linkpilot-config-test";
    std::filesystem::create_directories(dir);
    auto file = dir / "token";
    { std::ofstream(file) << "tk-from-file\n"; }
    auto r = load_string("version: 1\nscalingo: { token_file: \"" + file.string() + "\" }\n",
                         "t.yaml", fake_env());
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    EXPECT_EQ(r->scalingo.token.reveal(), "tk-from-file");
    std::filesystem::remove_all(dir);
}

TEST(Config_Load, CollectsEveryProblemOfTheBrokenExample) {
    auto r = load_file(std::string(LINKPILOT_SOURCE_DIR) + "/tests/data/config/every-problem.yaml",
                       fake_env());
    ASSERT_FALSE(r.has_value());
    std::vector<std::pair<int, int>> where;
    for (const auto& e : r.error()) {
        where.emplace_back(e.line, e.col);
    }
    std::vector<std::pair<int, int>> expected{
        {3, 10},  {5, 11}, {6, 20},  {7, 19},  {11, 10}, {12, 3}, {14, 26}, {15, 39},
        {20, 15}, {21, 7}, {22, 20}, {23, 11}, {25, 24}, {27, 9}, {29, 5},  {34, 17}};
    EXPECT_EQ(where, expected);
}

TEST(Config_Load, SecretsNeverPrint) {
    Secret s("hunter2");
    std::ostringstream ss;
    ss << s;
    EXPECT_EQ(ss.str(), "***");
    EXPECT_EQ(fmt::format("{}", s), "***");
}

TEST(Config_ParseDuration, ParsesUnitsAndCompounds) {
    EXPECT_EQ(parse_duration("250ms"), std::chrono::milliseconds(250));
    EXPECT_EQ(parse_duration("30s"), std::chrono::seconds(30));
    EXPECT_EQ(parse_duration("1h30m"), std::chrono::minutes(90));
    EXPECT_EQ(parse_duration("7d"), std::chrono::hours(168));
    EXPECT_FALSE(parse_duration("10").has_value());
    EXPECT_FALSE(parse_duration("-1s").has_value());
    EXPECT_FALSE(parse_duration("1y").has_value());
    EXPECT_FALSE(parse_duration("").has_value());
}

}  // namespace
}  // namespace linkpilot::config
