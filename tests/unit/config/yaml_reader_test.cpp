#include "config/detail/yaml_reader.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/config/fake_env.hpp"

namespace linkpilot::config::detail {
namespace {

using linkpilot::testing::fake_env;

YAML::Node load(std::string_view yaml) { return YAML::Load(protect_variables(yaml)); }

std::vector<std::string> messages(Reader& r) {
    std::vector<std::string> out;
    for (const auto& e : r.errors()) {
        out.push_back(e.to_string());
    }
    return out;
}

TEST(Config_YamlReader, ProtectVariablesKeepsEveryByteOffset) {
    const std::string text = "a: ${A}\nb: [${B:-x}, c]\n";
    const std::string out = protect_variables(text);
    ASSERT_EQ(out.size(), text.size());
    EXPECT_EQ(out.find("${"), std::string::npos);
    EXPECT_EQ(out.substr(3, kVarOpen.size()), kVarOpen);
    EXPECT_EQ(out[6], kVarClose);
}

TEST(Config_YamlReader, ProtectVariablesLeavesEscapesAndUnclosedReferencesAlone) {
    EXPECT_EQ(protect_variables("a: $${A}"), "a: $${A}");
    EXPECT_EQ(protect_variables("a: ${A"), "a: ${A");
    EXPECT_EQ(protect_variables("a: ${A\n}"), "a: ${A\n}");
}

TEST(Config_YamlReader, ExpandsVariablesDefaultsAndEscapes) {
    const auto env = fake_env({{"A", "alpha"}, {"EMPTY", ""}});
    Reader r("t.yaml", env, kNeedsAll);
    const auto root = load("v: ${A}-${B:-beta}-${EMPTY:-gamma}-$$-${A:-unused}\n");
    EXPECT_EQ(r.string(root["v"], "v"), "alpha-beta-gamma-$-alpha");
    EXPECT_TRUE(r.errors().empty());
}

TEST(Config_YamlReader, ExpandsInsideAFlowSequence) {
    const auto env = fake_env({{"S", "s3cret"}});
    Reader r("t.yaml", env, kNeedsAll);
    const auto root = load("secrets: [${S}, other]\n");
    ASSERT_TRUE(root["secrets"].IsSequence());
    EXPECT_EQ(r.string(root["secrets"][0], "secrets"), "s3cret");
}

TEST(Config_YamlReader, AnUnsetVariableIsAnErrorAtItsScalar) {
    const auto env = fake_env();
    Reader r("t.yaml", env, kNeedsAll);
    const auto root = load("a: 1\nv: x-${NOPE}\n");
    EXPECT_FALSE(r.string(root["v"], "v").has_value());
    EXPECT_EQ(messages(r),
              std::vector<std::string>{"t.yaml:2:4: v: environment variable NOPE is not set"});
}

TEST(Config_YamlReader, ABadVariableNameIsAnError) {
    const auto env = fake_env();
    Reader r("t.yaml", env, kNeedsAll);
    const auto root = load("v: ${A-B}\n");
    EXPECT_FALSE(r.string(root["v"], "v").has_value());
    EXPECT_EQ(messages(r), std::vector<std::string>{"t.yaml:1:4: v: bad variable name \"A-B\""});
}

TEST(Config_YamlReader, SuggestsAKnownKeyWithinTwoEdits) {
    constexpr std::array<std::string_view, 3> kKnown{"listen", "lease", "tls"};
    EXPECT_EQ(did_you_mean("lisen", kKnown), " (did you mean \"listen\"?)");
    EXPECT_EQ(did_you_mean("tsl", kKnown), " (did you mean \"tls\"?)");
    EXPECT_EQ(did_you_mean("timeout", kKnown), "");
    // On a tie, the first in the table.
    constexpr std::array<std::string_view, 2> kTie{"cat", "car"};
    EXPECT_EQ(did_you_mean("cab", kTie), " (did you mean \"cat\"?)");
}

TEST(Config_YamlReader, CheckMapReportsUnknownAndDuplicateKeys) {
    const auto env = fake_env();
    Reader r("t.yaml", env, kNeedsAll);
    constexpr std::array<std::string_view, 2> kKnown{"path", "url"};
    const auto root = load("s:\n  pth: a\n  url: b\n  url: c\n");
    EXPECT_TRUE(r.check_map(root["s"], "s", kKnown));
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.yaml:2:3: s: unknown key \"pth\" (did you mean \"path\"?); "
                               "known keys: path, url",
                               "t.yaml:4:3: s: duplicate key \"url\"",
                           }));
}

TEST(Config_YamlReader, CheckMapRefusesWhatIsNotAMap) {
    const auto env = fake_env();
    Reader r("t.yaml", env, kNeedsAll);
    constexpr std::array<std::string_view, 1> kKnown{"path"};
    const auto root = load("s: [a]\n");
    EXPECT_FALSE(r.check_map(root["s"], "s", kKnown));
    EXPECT_EQ(messages(r), std::vector<std::string>{"t.yaml:1:4: s: expected a map, got a list"});
}

// A section read through a table: what each field saw, in the order it saw it.
struct Seen {
    std::vector<std::string> log;
};

constexpr Fields<Seen, 3> kSeenFields{{
    {"first", [](Reader&, const Entry& e, Seen& s) { s.log.push_back(e.where); }},
    {"second", [](Reader&, const Entry& e, Seen& s) { s.log.push_back(e.where); },
     [](Reader& r, const Entry& e, Seen& s) {
         r.missing(e, " (give it)");
         s.log.push_back("absent " + e.where);
     }},
    {"third",
     [](Reader& r, const Entry& e, Seen& s) {
         s.log.push_back(e.where + "=" + r.string(e.value, e.where).value_or("?"));
     }},
}};

TEST(Config_YamlReader, ATableReadsItsKeysInTableOrder) {
    const auto env = fake_env();
    Reader r("t.yaml", env, kNeedsAll);
    const auto root = load("sec:\n  third: 3\n  second: 2\n  first: 1\n");
    Seen seen;
    EXPECT_TRUE(r.read_map(root["sec"], "sec", kSeenFields, seen));
    EXPECT_EQ(seen.log, (std::vector<std::string>{"sec.first", "sec.second", "sec.third=3"}));
    EXPECT_TRUE(r.errors().empty());
}

TEST(Config_YamlReader, ATableReportsUnknownKeysThenMissingOnesAtTheMap) {
    const auto env = fake_env();
    Reader r("t.yaml", env, kNeedsAll);
    const auto root = load("sec:\n  secnd: 2\n  first: 1\n");
    Seen seen;
    EXPECT_TRUE(r.read_map(root["sec"], "sec", kSeenFields, seen));
    EXPECT_EQ(seen.log, (std::vector<std::string>{"sec.first", "absent sec.second"}));
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.yaml:2:3: sec: unknown key \"secnd\" (did you mean \"second\"?); "
                               "known keys: first, second, third",
                               "t.yaml:2:3: sec.second: missing (give it)",
                           }));
}

TEST(Config_YamlReader, TheTopLevelTableHasNoPrefix) {
    const auto env = fake_env();
    Reader r("t.yaml", env, kNeedsAll);
    const auto root = load("first: 1\nthird: x\n");
    Seen seen;
    r.read_fields(root, "", kSeenFields, seen);
    EXPECT_EQ(seen.log, (std::vector<std::string>{"first", "absent second", "third=x"}));
    EXPECT_EQ(messages(r), std::vector<std::string>{"t.yaml:1:1: second: missing (give it)"});
}

TEST(Config_YamlReader, WarningsCarryTheirMark) {
    const auto env = fake_env();
    Reader r("t.yaml", env, kNeedsAll);
    const auto root = load("a: 1\nb: true\n");
    r.warning(root["b"].Mark(), "b is true");
    EXPECT_EQ(r.warnings(), std::vector<std::string>{"t.yaml:2:4: warning: b is true"});
    EXPECT_TRUE(r.errors().empty());
}

}  // namespace
}  // namespace linkpilot::config::detail
