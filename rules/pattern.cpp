#include "rules/pattern.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>

namespace linkpilot::rules {

namespace {

// Glob tokens. `?` and `*` consume whole UTF-8 characters, as RE2's `.` did before.
enum GlobOp : std::uint8_t {
    kLiteral,         // one character, itself
    kAnyChar,         // text `?`
    kAnyCharNoSlash,  // path `?`
    kStarAny,         // text `*` and `**`; path `**` not followed by `/`
    kStarNoSlash,     // path `*`
    kDirs,            // path `**/`: zero or more whole directories (`(?:.*/)?`)
};

// The state set of the matcher is one 64-bit word: state j = "the first j tokens matched".
constexpr std::size_t kMaxTokens = 63;

bool has_wildcard(std::string_view body) {
    return body.find_first_of("*?") != std::string_view::npos;
}

// Length of the UTF-8 character starting at s[i]; 1 for a byte that does not start a valid
// sequence, so the matcher and the pattern split invalid input the same way.
std::size_t char_len(std::string_view s, std::size_t i) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 1;
    if (b >= 0xF0 && b <= 0xF7) {
        n = 4;
    } else if (b >= 0xE0) {
        n = b <= 0xEF ? 3 : 1;
    } else if (b >= 0xC0) {
        n = 2;
    }
    if (i + n > s.size()) {
        return 1;
    }
    for (std::size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
            return 1;
        }
    }
    return n;
}

// The tokens of a glob body, and the byte length of each (0 for wildcards).
struct Tokenised {
    std::vector<std::uint8_t> ops;
    std::vector<std::string_view> text;
};

Tokenised tokenise(std::string_view glob, PatternSyntax syntax) {
    Tokenised t;
    const bool path = syntax == PatternSyntax::path;
    for (std::size_t i = 0; i < glob.size();) {
        const char c = glob[i];
        if (c == '*') {
            const bool dbl = i + 1 < glob.size() && glob[i + 1] == '*';
            if (path && dbl) {
                // `**/` also matches zero directories: "app/**/x" matches "app/x".
                if (i + 2 < glob.size() && glob[i + 2] == '/') {
                    t.ops.push_back(kDirs);
                    i += 3;
                } else {
                    t.ops.push_back(kStarAny);
                    i += 2;
                }
            } else if (path) {
                t.ops.push_back(kStarNoSlash);
                i += 1;
            } else {
                t.ops.push_back(kStarAny);
                i += dbl ? 2 : 1;
            }
            t.text.emplace_back();
        } else if (c == '?') {
            t.ops.push_back(path ? kAnyCharNoSlash : kAnyChar);
            t.text.emplace_back();
            i += 1;
        } else {
            const std::size_t n = char_len(glob, i);
            t.ops.push_back(kLiteral);
            t.text.push_back(glob.substr(i, n));
            i += n;
        }
    }
    return t;
}

// The previous implementation, kept for globs longer than the matcher's 63 tokens: an anchored
// RE2 expression with the same meaning.
std::string glob_to_regex(std::string_view glob, PatternSyntax syntax) {
    std::string out = "(?s)";  // `.` matches newlines: commit messages span lines
    const auto t = tokenise(glob, syntax);
    for (std::size_t i = 0; i < t.ops.size(); ++i) {
        switch (t.ops[i]) {
            case kLiteral:
                out += RE2::QuoteMeta(t.text[i]);
                break;
            case kAnyChar:
                out += ".";
                break;
            case kAnyCharNoSlash:
                out += "[^/]";
                break;
            case kStarAny:
                out += ".*";
                break;
            case kStarNoSlash:
                out += "[^/]*";
                break;
            case kDirs:
                out += "(?:.*/)?";
                break;
            default:
                break;
        }
    }
    return out;
}

Expected<std::shared_ptr<const RE2>, std::string> compile_re2(const std::string& expr,
                                                              std::string_view shown,
                                                              PatternCase c) {
    RE2::Options opts;
    opts.set_case_sensitive(c == PatternCase::sensitive);
    opts.set_log_errors(false);
    opts.set_max_mem(1 << 20);  // bounds memory for hostile configs
    auto re = std::make_shared<const RE2>(expr, opts);
    if (!re->ok()) {
        return Unexpected{"invalid regex \"" + std::string(shown) + "\": " + re->error()};
    }
    return re;
}

// PatternCase::ignore: ASCII only, as GitHub's and GitLab's repository names are.
void lower_in_place(std::string& s) {
    for (auto& ch : s) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
}

// Tokens that may match the empty string (the states they lead to are reachable for free).
constexpr bool skippable(std::uint8_t op) {
    return op == kStarAny || op == kStarNoSlash || op == kDirs;
}

}  // namespace

Expected<Pattern, std::string> Pattern::compile(std::string_view source, PatternSyntax syntax,
                                                PatternCase c) {
    Pattern p;
    p.source_ = std::string(source);
    const auto unnegated = source.substr(source.starts_with('!') ? 1 : 0);
    if (c == PatternCase::ignore && !unnegated.starts_with("re:")) {
        // Globs and literals compare bytes: keep them lower-cased, as their values will be.
        lower_in_place(p.source_);
        source = p.source_;
    }
    std::string_view body = source;
    if (!body.empty() && body.front() == '!') {
        p.negated_ = true;
        body.remove_prefix(1);
    }
    if (body.starts_with("re:")) {
        body.remove_prefix(3);
        p.body_offset_ = static_cast<std::uint32_t>(source.size() - body.size());
        p.kind_ = Kind::regex;
        p.search_ = true;
        auto re = compile_re2(std::string(body), body, c);
        if (!re) {
            return Unexpected{re.error()};
        }
        p.re_ = std::move(*re);
        return p;
    }
    p.body_offset_ = static_cast<std::uint32_t>(source.size() - body.size());
    if (body.empty()) {
        return Unexpected{std::string("empty pattern")};
    }
    if (!has_wildcard(body)) {
        p.kind_ = Kind::literal;
        return p;
    }
    p.kind_ = Kind::glob;
    const auto t = tokenise(body, syntax);
    std::size_t first = 0;
    while (t.ops[first] == kLiteral) {
        p.prefix_len_ += static_cast<std::uint32_t>(t.text[first].size());
        ++first;
    }
    std::size_t last = t.ops.size();
    while (t.ops[last - 1] == kLiteral) {
        p.suffix_len_ += static_cast<std::uint32_t>(t.text[last - 1].size());
        --last;
    }
    if (last - first > kMaxTokens) {
        // A glob this long is unusual; RE2 keeps it linear-time all the same.
        p.kind_ = Kind::regex;
        auto re = compile_re2(glob_to_regex(body, syntax), body, c);
        if (!re) {
            return Unexpected{re.error()};
        }
        p.re_ = std::move(*re);
        return p;
    }
    p.middle_.reserve(last - first);
    for (std::size_t i = first; i < last; ++i) {
        Token tok;
        tok.op = t.ops[i];
        tok.len = static_cast<std::uint8_t>(t.text[i].size());
        std::copy(t.text[i].begin(), t.text[i].end(), tok.bytes.begin());
        p.middle_.push_back(tok);
        if (skippable(tok.op)) {
            p.skippable_ |= std::uint64_t{1} << (i - first);
        }
    }
    return p;
}

bool Pattern::glob_matches(std::string_view value) const {
    const std::string_view b = body();
    if (value.size() < std::size_t{prefix_len_} + suffix_len_) {
        return false;
    }
    if (value.substr(0, prefix_len_) != b.substr(0, prefix_len_) ||
        value.substr(value.size() - suffix_len_) != b.substr(b.size() - suffix_len_)) {
        return false;
    }
    const std::string_view mid =
        value.substr(prefix_len_, value.size() - prefix_len_ - suffix_len_);

    // The common shapes (`release/*`, `app/**`, `*[skip deploy]*` minus its ends) in one step.
    if (middle_.size() == 1) {
        switch (middle_.front().op) {
            case kStarAny:
                return true;
            case kStarNoSlash:
                return mid.find('/') == std::string_view::npos;
            default:
                break;
        }
    }

    // Set-of-states walk (Thompson NFA): each character is read once and the set has at most
    // 64 states, so a match costs O(value length x glob tokens) and never backtracks.
    // `states` bit j: the first j tokens matched. `inside` bit j: token j is a `**/` in the
    // middle of a directory name; it may only finish after the next `/`.
    const std::size_t m = middle_.size();
    auto closure = [skip = skippable_](std::uint64_t s) {
        for (;;) {
            const std::uint64_t next = s | ((s & skip) << 1);
            if (next == s) {
                return s;
            }
            s = next;
        }
    };
    const std::uint64_t accept = std::uint64_t{1} << m;
    std::uint64_t states = closure(1);
    std::uint64_t inside = 0;
    for (std::size_t i = 0; i < mid.size();) {
        const std::size_t n = char_len(mid, i);
        const bool slash = mid[i] == '/';
        std::uint64_t next = 0;
        std::uint64_t next_inside = 0;
        for (std::uint64_t bits = (states | inside) & ~accept; bits != 0; bits &= bits - 1) {
            const auto j = static_cast<std::size_t>(std::countr_zero(bits));
            const Token& tok = middle_[j];
            const std::uint64_t stay = std::uint64_t{1} << j;
            const std::uint64_t advance = stay << 1;
            switch (tok.op) {
                case kLiteral:
                    if (tok.len == n && std::memcmp(tok.bytes.data(), mid.data() + i, n) == 0) {
                        next |= advance;
                    }
                    break;
                case kAnyChar:
                    next |= advance;
                    break;
                case kAnyCharNoSlash:
                    next |= slash ? 0 : advance;
                    break;
                case kStarAny:
                    next |= stay;
                    break;
                case kStarNoSlash:
                    next |= slash ? 0 : stay;
                    break;
                case kDirs:
                    // A `/` ends a directory: back at a boundary, where the token may finish.
                    (slash ? next : next_inside) |= stay;
                    break;
                default:
                    break;
            }
        }
        states = closure(next);
        inside = next_inside;
        if ((states | inside) == 0) {
            return false;
        }
        i += n;
    }
    return (states & accept) != 0;
}

bool Pattern::matches_wildcard(std::string_view value) const {
    switch (kind_) {
        case Kind::literal:
            return value == body();
        case Kind::glob:
            return glob_matches(value);
        case Kind::regex:
            // `re:` patterns search (like grep; anchor with ^ and $); globs match the whole value.
            // RE2::Match directly: PartialMatch/FullMatch add argument plumbing we do not use.
            return re_->Match(value, 0, value.size(), search_ ? RE2::UNANCHORED : RE2::ANCHOR_BOTH,
                              nullptr, 0);
    }
    return false;
}

PatternList::PatternList(std::vector<Pattern> patterns, PatternCase c)
    : ignore_case_(c == PatternCase::ignore) {
    for (auto& p : patterns) {
        (p.negated() ? excludes_ : includes_).push_back(std::move(p));
    }
}

bool PatternList::matches_ignoring_case(std::string_view value) const {
    if (std::none_of(value.begin(), value.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
        return matches_as_is(value);
    }
    std::string lower(value);
    lower_in_place(lower);
    return matches_as_is(lower);
}

std::string PatternList::describe() const {
    std::vector<const Pattern*> all;
    for (const auto& p : includes_) {
        all.push_back(&p);
    }
    for (const auto& p : excludes_) {
        all.push_back(&p);
    }
    if (all.size() == 1) {
        return "\"" + all.front()->source() + "\"";
    }
    std::string out = "[";
    for (std::size_t i = 0; i < all.size(); ++i) {
        out += (i ? ", \"" : "\"") + all[i]->source() + "\"";
    }
    return out + "]";
}

}  // namespace linkpilot::rules
