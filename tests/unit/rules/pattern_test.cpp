#include "rules/pattern.hpp"

#include <gtest/gtest.h>

namespace linkpilot::rules {
namespace {

PatternList list(std::initializer_list<const char*> items, PatternSyntax s = PatternSyntax::text) {
    std::vector<Pattern> ps;
    for (const char* i : items) {
        auto p = Pattern::compile(i, s);
        EXPECT_TRUE(p.has_value()) << i;
        ps.push_back(*p);
    }
    return PatternList(std::move(ps));
}

TEST(Rules_Pattern, LiteralMatchesItselfOnly) {
    auto l = list({"main"});
    EXPECT_TRUE(l.matches("main"));
    EXPECT_FALSE(l.matches("mainline"));
}

TEST(Rules_Pattern, BracketsAreLiteral) {
    auto l = list({"!dependabot[bot]"});
    EXPECT_FALSE(l.matches("dependabot[bot]"));
    EXPECT_TRUE(l.matches("dependabotb"));
    EXPECT_TRUE(l.matches("octocat"));
}

TEST(Rules_Pattern, TextStarCrossesSlashesAndNewlines) {
    auto l = list({"!*[skip deploy]*"});
    EXPECT_FALSE(l.matches("fix: a/b\n\n[skip deploy]"));
    EXPECT_TRUE(l.matches("fix: a/b"));
}

TEST(Rules_Pattern, PathDoubleStarCrossesDirectoriesSingleDoesNot) {
    auto l = list({"app/**"}, PatternSyntax::path);
    EXPECT_TRUE(l.matches("app/models/user.rb"));
    auto single = list({"app/*"}, PatternSyntax::path);
    EXPECT_TRUE(single.matches("app/x.rb"));
    EXPECT_FALSE(single.matches("app/models/user.rb"));
    auto mid = list({"app/**/*.rb"}, PatternSyntax::path);
    EXPECT_TRUE(mid.matches("app/x.rb"));
    EXPECT_TRUE(mid.matches("app/a/b/x.rb"));
}

TEST(Rules_Pattern, RegexSearchesWithRe2) {
    auto l = list({"re:^release/[0-9]+$"});
    EXPECT_TRUE(l.matches("release/12"));
    EXPECT_FALSE(l.matches("release/x"));
}

TEST(Rules_Pattern, InvalidRegexIsAnError) {
    auto p = Pattern::compile("re:(unclosed", PatternSyntax::text);
    ASSERT_FALSE(p.has_value());
    EXPECT_NE(p.error().find("invalid regex"), std::string::npos);
}

TEST(Rules_Pattern, MixedListNeedsAnIncludeAndNoExclude) {
    auto l = list({"release/*", "!release/old"});
    EXPECT_TRUE(l.matches("release/new"));
    EXPECT_FALSE(l.matches("release/old"));
    EXPECT_FALSE(l.matches("main"));
}

TEST(Rules_Pattern, OnlyNegatedListMeansNoneOfThese) {
    auto l = list({"!main", "!release/*"});
    EXPECT_FALSE(l.has_includes());
    EXPECT_TRUE(l.matches("feature/x"));
    EXPECT_FALSE(l.matches("main"));
    EXPECT_FALSE(l.matches("release/1"));
}

TEST(Rules_Pattern, PathQuestionMarkStopsAtSlash) {
    auto l = list({"a?b"}, PatternSyntax::path);
    EXPECT_TRUE(l.matches("axb"));
    EXPECT_FALSE(l.matches("a/b"));
    auto text = list({"a?b"});
    EXPECT_TRUE(text.matches("a/b"));
}

TEST(Rules_Pattern, TextDoubleStarIsLikeSingleStar) {
    auto l = list({"feature/**"});
    EXPECT_TRUE(l.matches("feature/a/b"));
    EXPECT_TRUE(list({"feature/*"}).matches("feature/a/b"));
}

TEST(Rules_Pattern, RegexMetacharactersInGlobsAreLiteral) {
    auto l = list({"v1.2.*"});
    EXPECT_TRUE(l.matches("v1.2.3"));
    EXPECT_FALSE(l.matches("v1x2.3"));
    EXPECT_TRUE(list({"(a)+*"}).matches("(a)+b"));
}

TEST(Rules_Pattern, NegatedRegexExcludes) {
    auto l = list({"!re:^dependabot"});
    EXPECT_FALSE(l.matches("dependabot[bot]"));
    EXPECT_TRUE(l.matches("octocat"));
}

TEST(Rules_Pattern, EmptyPatternIsAnError) {
    EXPECT_FALSE(Pattern::compile("", PatternSyntax::text).has_value());
    EXPECT_FALSE(Pattern::compile("!", PatternSyntax::text).has_value());
}

TEST(Rules_Pattern, DescribeQuotesSourcesIncludesFirst) {
    EXPECT_EQ(list({"main"}).describe(), "\"main\"");
    EXPECT_EQ(list({"!b", "a"}).describe(), "[\"a\", \"!b\"]");
}

}  // namespace
}  // namespace linkpilot::rules
