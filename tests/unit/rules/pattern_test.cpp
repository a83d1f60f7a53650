#include "rules/pattern.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <random>
#include <string>

#include "tests/support/glob_reference.hpp"

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

TEST(Rules_Pattern, QuestionMarkIsOneUtf8Character) {
    EXPECT_TRUE(list({"caf?"}).matches("caf\xc3\xa9"));
    EXPECT_FALSE(list({"caf?"}).matches("caf\xc3\xa9x"));
    EXPECT_TRUE(list({"?-x"}, PatternSyntax::path).matches("\xe2\x82\xac-x"));
}

TEST(Rules_Pattern, LeadingDoubleStarSlashMatchesAnyDepthIncludingNone) {
    auto l = list({"**/Gemfile"}, PatternSyntax::path);
    EXPECT_TRUE(l.matches("Gemfile"));
    EXPECT_TRUE(l.matches("a/b/Gemfile"));
    EXPECT_FALSE(l.matches("a/bGemfile"));
    EXPECT_FALSE(l.matches("Gemfile.lock"));
}

TEST(Rules_Pattern, GlobSuffixAndPrefixMustNotOverlap) {
    auto l = list({"ab*ba"});
    EXPECT_TRUE(l.matches("abba"));
    EXPECT_FALSE(l.matches("aba"));
    EXPECT_TRUE(l.matches("ab/x/ba"));
}

TEST(Rules_Pattern, VeryLongGlobStillMatches) {
    std::string glob;
    std::string value;
    for (int i = 0; i < 40; ++i) {
        glob += "a*";
        value += "ab";
    }
    EXPECT_TRUE(list({glob.c_str()}).matches(value));
    EXPECT_FALSE(list({(glob + "c").c_str()}).matches(value));
}

TEST(Rules_Pattern, ManyStarsDoNotBacktrack) {
    // `*a*a*...*b*` against a long run of `a`: exponential for a backtracking matcher.
    std::string glob;
    for (int i = 0; i < 30; ++i) {
        glob += "*a";
    }
    glob += "*b*";
    EXPECT_FALSE(list({glob.c_str()}).matches(std::string(100000, 'a')));
    EXPECT_FALSE(list({glob.c_str()}, PatternSyntax::path).matches(std::string(100000, 'a')));
}

// The matcher against RE2 running the glob's regular-expression translation
// (tests/support/glob_reference.hpp), on random globs and values over a small alphabet.
TEST(Rules_Pattern, GlobMatcherAgreesWithRe2Translation) {
    std::mt19937 rng(20261126);  // fixed seed: the same cases on every run
    const std::vector<std::string> glob_parts = {"a", "b", "/", "*", "**", "?", "\xc3\xa9", "**/"};
    const std::vector<std::string> value_parts = {"a", "b", "/", "\xc3\xa9", "\n"};
    auto pick = [&rng](const std::vector<std::string>& parts, std::size_t max_len) {
        std::string out;
        const std::size_t n = std::uniform_int_distribution<std::size_t>(1, max_len)(rng);
        for (std::size_t i = 0; i < n; ++i) {
            out += parts[std::uniform_int_distribution<std::size_t>(0, parts.size() - 1)(rng)];
        }
        return out;
    };
    int checked = 0;
    for (int g = 0; g < 400; ++g) {
        const std::string glob = pick(glob_parts, 6);
        for (auto syntax : {PatternSyntax::text, PatternSyntax::path}) {
            auto p = Pattern::compile(glob, syntax);
            ASSERT_TRUE(p.has_value()) << glob;
            RE2 re(linkpilot::testing::glob_reference_regex(glob, syntax));
            ASSERT_TRUE(re.ok()) << glob;
            for (int v = 0; v < 40; ++v) {
                const std::string value = v == 0 ? std::string() : pick(value_parts, 8);
                ASSERT_EQ(p->matches_body(value), RE2::FullMatch(value, re))
                    << "glob \"" << glob << "\" ("
                    << (syntax == PatternSyntax::path ? "path" : "text") << ") on \"" << value
                    << "\"";
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, 400 * 2 * 40);
}

}  // namespace
}  // namespace linkpilot::rules
