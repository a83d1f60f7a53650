// Issue 22: webhook endpoints fail closed, and a command reads only the secrets it uses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/load.hpp"
#include "tests/unit/config/fake_env.hpp"

namespace linkpilot::config {
namespace {

using linkpilot::testing::fake_env;

constexpr std::string_view kHead = "version: 1\nscalingo: { dry_run: true }\n";

std::vector<std::string> problems(const std::string& yaml, Needs needs = kNeedsAll,
                                  const EnvLookup& env = fake_env()) {
    auto r = load_string(yaml, "t.yaml", env, needs);
    std::vector<std::string> out;
    if (!r) {
        for (const auto& e : r.error()) {
            out.push_back(e.to_string());
        }
    }
    return out;
}

TEST(Config_Providers, RulesWithoutAnyProviderAreAnErrorAtTheirList) {
    auto p = problems(std::string(kHead) +
                      "rules:\n  - { name: r, on: push, deploy: { app: app-aa } }\n");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].rfind("t.yaml:4:3: rules: no provider can deliver events to them", 0), 0u)
        << p[0];
}

TEST(Config_Providers, RuleForAForgeWithoutSecretIsAnErrorAtThatRule) {
    auto p =
        problems(std::string(kHead) +
                 "providers: { github: { secrets: [s] } }\n"
                 "rules:\n"
                 "  - { name: gh, on: push, deploy: { app: app-aa } }\n"
                 "  - { name: gl, on: push, if: { provider: gitlab }, deploy: { app: app-bb } }\n");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0],
              "t.yaml:6:5: rule \"gl\": no configured provider can deliver to it: give "
              "providers.gitlab.tokens");
}

TEST(Config_Providers, NoRulesNeedNoProvider) { EXPECT_TRUE(problems(std::string(kHead)).empty()); }

TEST(Config_Providers, AEmptySecretListLeavesTheEndpointOff) {
    auto r = load_string(std::string(kHead) + "providers: { gitlab: { tokens: [] } }\n", "t.yaml",
                         fake_env());
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->providers.gitlab.configured());
    EXPECT_FALSE(r->providers.github.configured());
}

TEST(Config_Providers, AllowUnsignedConfiguresTheEndpointAndWarnsWithItsPosition) {
    auto r = load_string(std::string(kHead) +
                             "providers:\n  gitlab:\n    allow_unsigned: true\n"
                             "rules:\n  - { name: r, on: push, deploy: { app: app-aa } }\n",
                         "t.yaml", fake_env());
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    EXPECT_TRUE(r->providers.gitlab.configured());
    EXPECT_TRUE(r->providers.gitlab.allow_unsigned);
    EXPECT_TRUE(r->providers.gitlab.secrets.empty());
    ASSERT_EQ(r->warnings.size(), 1u);
    EXPECT_EQ(r->warnings[0],
              "t.yaml:5:21: warning: providers.gitlab.allow_unsigned is true: gitlab deliveries "
              "without a token are accepted unverified; only safe behind a proxy that verifies "
              "them");
    EXPECT_NE(summary(*r).find("GitLab unsigned (allow_unsigned)"), std::string::npos)
        << summary(*r);
}

TEST(Config_Providers, AllowUnsignedFalseChangesNothing) {
    auto r = load_string(std::string(kHead) + "providers: { github: { allow_unsigned: false } }\n",
                         "t.yaml", fake_env());
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->providers.github.configured());
    EXPECT_TRUE(r->warnings.empty());
}

// SPEC 1: jobs, retry, explain, migrate never need the Scalingo token or webhook secrets.
const std::string kWithSecrets =
    "version: 1\n"
    "scalingo: { token: \"${SCALINGO_API_TOKEN}\" }\n"
    "providers:\n"
    "  github: { secrets: [\"${GITHUB_WEBHOOK_SECRET}\"] }\n"
    "  gitlab: { token_files: [gitlab-token-not-there] }\n"
    "rules:\n  - { name: r, on: push, deploy: { app: app-aa } }\n";

TEST(Config_Providers, AllSecretsNeededReportsEachUnresolvedOne) {
    auto p = problems(kWithSecrets);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_NE(p[0].find("SCALINGO_API_TOKEN is not set"), std::string::npos) << p[0];
    EXPECT_NE(p[1].find("GITHUB_WEBHOOK_SECRET is not set"), std::string::npos) << p[1];
    EXPECT_NE(p[2].find("cannot read \"gitlab-token-not-there\""), std::string::npos) << p[2];
}

TEST(Config_Providers, NoSecretNeededLoadsWithoutReadingAny) {
    auto r = load_string(kWithSecrets, "t.yaml", fake_env(), kNeedsNoSecret);
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    EXPECT_TRUE(r->scalingo.token.empty());
    EXPECT_TRUE(r->providers.github.secrets.empty());
    EXPECT_EQ(r->providers.github.declared, 1u);
    EXPECT_EQ(r->providers.gitlab.declared, 1u);
    EXPECT_TRUE(r->providers.gitlab.configured());
    EXPECT_EQ(r->rules.rules.size(), 1u);
}

TEST(Config_Providers, NoSecretNeededStillChecksTheShape) {
    auto p = problems(
        "version: 1\nscalingo: { token: [a, b] }\n"
        "providers: { github: { secrets: { a: b } } }\n",
        kNeedsNoSecret);
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NE(p[0].find("scalingo.token: expected a string"), std::string::npos) << p[0];
    EXPECT_NE(p[1].find("providers.github.secrets: expected a list"), std::string::npos) << p[1];
}

TEST(Config_Providers, PruneReadsTheScalingoTokenButNoWebhookSecret) {
    auto r = load_string(kWithSecrets, "t.yaml", fake_env({{"SCALINGO_API_TOKEN", "tk"}}),
                         kNeedsScalingoToken);
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    EXPECT_EQ(r->scalingo.token.reveal(), "tk");
    EXPECT_TRUE(r->providers.github.secrets.empty());
    auto p = problems(kWithSecrets, kNeedsScalingoToken);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("SCALINGO_API_TOKEN is not set"), std::string::npos) << p[0];
}

}  // namespace
}  // namespace linkpilot::config
