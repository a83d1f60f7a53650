#pragma once

// String patterns of SPEC 2.2: globs, `!` negation and `re:` regexes (RE2: linear time, no
// catastrophic backtracking on payload strings). Compiled once when the config loads.

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

class Pattern {
  public:
    static Expected<Pattern, std::string> compile(std::string_view source, PatternSyntax syntax);

    // Match ignoring negation: does the glob/regex itself hold for `value`?
    [[nodiscard]] bool matches_body(std::string_view value) const;
    [[nodiscard]] bool negated() const { return negated_; }
    // The pattern as written (with its `!` / `re:` prefixes).
    [[nodiscard]] const std::string& source() const { return source_; }

  private:
    std::string source_;
    bool negated_ = false;
    // Patterns without wildcards compare as plain strings; the rest run on RE2.
    std::string literal_;
    std::shared_ptr<const re2::RE2> re_;
    bool search_ = false;  // `re:` searches; globs match the whole value
};

// A list of patterns: "any of the includes, and none of the excludes". A list of only
// negated patterns means "none of these". Used by every string condition and `repos`.
class PatternList {
  public:
    PatternList() = default;
    explicit PatternList(std::vector<Pattern> patterns);

    [[nodiscard]] bool matches(std::string_view value) const;
    [[nodiscard]] bool has_includes() const { return !includes_.empty(); }
    [[nodiscard]] const std::vector<Pattern>& includes() const { return includes_; }
    [[nodiscard]] const std::vector<Pattern>& excludes() const { return excludes_; }
    // Human form for explain output: "main", ["a", "!b"].
    [[nodiscard]] std::string describe() const;
    [[nodiscard]] bool empty() const { return includes_.empty() && excludes_.empty(); }

  private:
    std::vector<Pattern> includes_;
    std::vector<Pattern> excludes_;
};

}  // namespace linkpilot::rules
