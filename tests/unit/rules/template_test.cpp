#include "rules/template.hpp"

#include <gtest/gtest.h>

#include "tests/unit/rules/builders.hpp"

namespace linkpilot::rules {
namespace {

std::string render(std::string_view source, const events::Event& e) {
    auto t = Template::compile(source);
    EXPECT_TRUE(t.has_value()) << source;
    return t->render(e);
}

TEST(Rules_Template, RendersRepoVariables) {
    auto e = test::push_event();
    EXPECT_EQ(render("{{ repo }}", e), "acme/shop");
    EXPECT_EQ(render("{{ repo.owner }}", e), "acme");
    EXPECT_EQ(render("{{ repo.name }}", e), "shop");
}

TEST(Rules_Template, RepoOwnerIsEverythingBeforeTheLastSegmentOnGitLab) {
    auto e = test::ci_event();
    EXPECT_EQ(render("{{ repo.owner }}", e), "acme/group");
    EXPECT_EQ(render("{{ repo.name }}", e), "shop");
}

TEST(Rules_Template, RendersBranchForPushPullRequestAndCi) {
    EXPECT_EQ(render("{{ branch }}", test::push_event("main")), "main");
    EXPECT_EQ(render("{{ branch }}", test::pr_event()), "feature/cart");
    EXPECT_EQ(render("{{ branch }}", test::ci_event()), "main");
}

TEST(Rules_Template, RendersTagShaAuthorAndPrNumber) {
    EXPECT_EQ(render("{{ tag }}", test::tag_event()), "v1.2.0");
    EXPECT_EQ(render("{{ sha }}", test::push_event()), "0123456789abcdef0123456789abcdef01234567");
    EXPECT_EQ(render("{{ author }}", test::push_event()), "octocat");
    EXPECT_EQ(render("{{ pr.number }}", test::pr_event()), "42");
}

TEST(Rules_Template, MixesLiteralsAndVariablesWithOrWithoutSpaces) {
    EXPECT_EQ(render("{{repo.name}}-pr{{ pr.number }}", test::pr_event()), "shop-pr42");
    EXPECT_EQ(render("app-{{ repo.name }}-staging", test::pr_event()), "app-shop-staging");
}

TEST(Rules_Template, LiteralTemplateIsLiteral) {
    auto t = Template::compile("shop-staging");
    ASSERT_TRUE(t.has_value());
    EXPECT_TRUE(t->is_literal());
    EXPECT_TRUE(t->variables().empty());
    EXPECT_EQ(t->render(test::push_event()), "shop-staging");
}

TEST(Rules_Template, ListsVariablesInOrder) {
    auto t = Template::compile("{{ repo.name }}-{{ branch }}");
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->variables(), (std::vector<Var>{Var::repo_name, Var::branch}));
}

TEST(Rules_Template, UnknownVariableIsAnError) {
    auto t = Template::compile("{{ pr.title }}");
    ASSERT_FALSE(t.has_value());
    EXPECT_NE(t.error().find("unknown template variable \"pr.title\""), std::string::npos);
}

TEST(Rules_Template, UnterminatedIsAnError) {
    auto t = Template::compile("{{ branch");
    ASSERT_FALSE(t.has_value());
    EXPECT_NE(t.error().find("unterminated"), std::string::npos);
}

TEST(Rules_Template, AvailabilityFollowsSpec) {
    using events::Kind;
    EXPECT_TRUE(var_available(Var::branch, Kind::ci));
    EXPECT_FALSE(var_available(Var::branch, Kind::tag));
    EXPECT_TRUE(var_available(Var::tag, Kind::tag));
    EXPECT_FALSE(var_available(Var::tag, Kind::push));
    EXPECT_TRUE(var_available(Var::pr_number, Kind::pull_request));
    EXPECT_FALSE(var_available(Var::pr_number, Kind::ci));
    for (Kind k : {Kind::push, Kind::tag, Kind::pull_request, Kind::ci}) {
        EXPECT_TRUE(var_available(Var::repo, k));
        EXPECT_TRUE(var_available(Var::repo_owner, k));
        EXPECT_TRUE(var_available(Var::repo_name, k));
        EXPECT_TRUE(var_available(Var::sha, k));
        EXPECT_TRUE(var_available(Var::author, k));
    }
}

}  // namespace
}  // namespace linkpilot::rules
