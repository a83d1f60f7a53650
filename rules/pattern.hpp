#pragma once

// String patterns of SPEC 2.2: globs, `!` negation and `re:` regexes. Compiled once when the
// config loads. Globs run on a small matcher of our own (a set-of-states walk over the glob's
// tokens: time linear in the value, no backtracking, no allocation); only `re:` patterns run on
// RE2, whose fixed cost per call is several times a whole glob match.

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace re2 {
class RE2;
}

namespace linkpilot::rules {

// Text patterns: `*` matches any run of characters (slashes and newlines included), `?` one
// character. Path patterns: `*` and `?` stop at `/`, `**` crosses directories.
// Every other character, `[` and `]` included, is literal.
enum class PatternSyntax { text, path };

// Case: `sensitive` everywhere but where the forge itself ignores case: repository paths
// (GitHub owners and names, GitLab namespaces and projects), `repos` and the `repo` condition.
enum class PatternCase { sensitive, ignore };

class Pattern {
  public:
    // With PatternCase::ignore, the pattern is kept lower-cased (source() too) and must be
    // matched against a lower-cased value: PatternList does that.
    static Expected<Pattern, std::string> compile(std::string_view source, PatternSyntax syntax,
                                                  PatternCase c = PatternCase::sensitive);

    // Match ignoring negation: does the glob/regex itself hold for `value`?
    [[nodiscard]] bool matches_body(std::string_view value) const {
        // Most patterns are literals, and most literals fail on the length: keep that inline.
        return kind_ == Kind::literal ? value == body() : matches_wildcard(value);
    }
    [[nodiscard]] bool negated() const { return negated_; }
    // The pattern as written (with its `!` / `re:` prefixes).
    [[nodiscard]] const std::string& source() const { return source_; }

  private:
    enum class Kind : std::uint8_t { literal, glob, regex };
    // One glob token. `op` is a GlobOp (pattern.cpp); literal tokens hold one UTF-8 character.
    struct Token {
        std::uint8_t op = 0;
        std::uint8_t len = 0;
        std::array<char, 4> bytes{};
    };

    [[nodiscard]] std::string_view body() const {
        return {source_.data() + body_offset_, source_.size() - body_offset_};
    }
    [[nodiscard]] bool matches_wildcard(std::string_view value) const;
    [[nodiscard]] bool glob_matches(std::string_view value) const;

    std::string source_;
    // Globs: the literal text before the first and after the last wildcard is compared as
    // bytes; `middle_` holds the tokens in between.
    std::vector<Token> middle_;
    std::uint64_t skippable_ = 0;         // bit j: middle_[j] may match the empty string
    std::shared_ptr<const re2::RE2> re_;  // `re:` patterns, and globs too long for the matcher
    std::uint32_t body_offset_ = 0;       // past `!` and `re:`
    std::uint32_t prefix_len_ = 0;
    std::uint32_t suffix_len_ = 0;
    Kind kind_ = Kind::literal;
    bool negated_ = false;
    bool search_ = false;  // `re:` searches; globs match the whole value
};

// A list of patterns: "any of the includes, and none of the excludes". A list of only
// negated patterns means "none of these". Used by every string condition and `repos`.
class PatternList {
  public:
    PatternList() = default;
    // Patterns compiled with PatternCase::ignore go with `c` ignore: values are then
    // lower-cased before matching.
    explicit PatternList(std::vector<Pattern> patterns, PatternCase c = PatternCase::sensitive);

    [[nodiscard]] bool matches(std::string_view value) const {
        if (ignore_case_) [[unlikely]] {
            return matches_ignoring_case(value);
        }
        return matches_as_is(value);
    }
    [[nodiscard]] bool has_includes() const { return !includes_.empty(); }
    [[nodiscard]] const std::vector<Pattern>& includes() const { return includes_; }
    [[nodiscard]] const std::vector<Pattern>& excludes() const { return excludes_; }
    // Human form for explain output: "main", ["a", "!b"].
    [[nodiscard]] std::string describe() const;
    [[nodiscard]] bool empty() const { return includes_.empty() && excludes_.empty(); }

  private:
    [[nodiscard]] bool matches_as_is(std::string_view value) const {
        const auto holds = [value](const Pattern& p) { return p.matches_body(value); };
        if (std::ranges::any_of(excludes_, holds)) {
            return false;
        }
        return includes_.empty() || std::ranges::any_of(includes_, holds);
    }
    [[nodiscard]] bool matches_ignoring_case(std::string_view value) const;

    std::vector<Pattern> includes_;
    std::vector<Pattern> excludes_;
    bool ignore_case_ = false;
};

}  // namespace linkpilot::rules
