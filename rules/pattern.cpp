#include "rules/pattern.hpp"

#include <re2/re2.h>

#include <algorithm>

namespace linkpilot::rules {

namespace {

bool has_wildcard(std::string_view body) {
    return body.find_first_of("*?") != std::string_view::npos;
}

// Globs are translated to an anchored RE2 expression so they share RE2's linear-time matcher.
std::string glob_to_regex(std::string_view glob, PatternSyntax syntax) {
    std::string out = "(?s)";  // `.` matches newlines: commit messages span lines
    for (std::size_t i = 0; i < glob.size(); ++i) {
        char c = glob[i];
        if (c == '*') {
            bool dbl = i + 1 < glob.size() && glob[i + 1] == '*';
            if (syntax == PatternSyntax::path && dbl) {
                ++i;
                // `**/` also matches zero directories: "app/**/x" matches "app/x".
                if (i + 1 < glob.size() && glob[i + 1] == '/') {
                    ++i;
                    out += "(?:.*/)?";
                } else {
                    out += ".*";
                }
            } else if (syntax == PatternSyntax::path) {
                out += "[^/]*";
            } else {
                if (dbl) {
                    ++i;
                }
                out += ".*";
            }
        } else if (c == '?') {
            out += syntax == PatternSyntax::path ? "[^/]" : ".";
        } else {
            out += RE2::QuoteMeta(std::string_view(&glob[i], 1));
        }
    }
    return out;
}

}  // namespace

Expected<Pattern, std::string> Pattern::compile(std::string_view source, PatternSyntax syntax) {
    Pattern p;
    p.source_ = std::string(source);
    std::string_view body = source;
    if (!body.empty() && body.front() == '!') {
        p.negated_ = true;
        body.remove_prefix(1);
    }
    std::string expr;
    if (body.starts_with("re:")) {
        body.remove_prefix(3);
        expr = std::string(body);
        p.search_ = true;
    } else if (!has_wildcard(body)) {
        if (body.empty()) {
            return Unexpected{std::string("empty pattern")};
        }
        p.literal_ = std::string(body);
        return p;
    } else {
        expr = glob_to_regex(body, syntax);
    }
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(1 << 20);  // bounds memory for hostile configs
    auto re = std::make_shared<const RE2>(expr, opts);
    if (!re->ok()) {
        return Unexpected{"invalid regex \"" + std::string(body) + "\": " + re->error()};
    }
    p.re_ = std::move(re);
    return p;
}

bool Pattern::matches_body(std::string_view value) const {
    if (!re_) {
        return value == literal_;
    }
    // `re:` patterns search (like grep; anchor with ^ and $); globs must match the whole value.
    return search_ ? RE2::PartialMatch(value, *re_) : RE2::FullMatch(value, *re_);
}

PatternList::PatternList(std::vector<Pattern> patterns) {
    for (auto& p : patterns) {
        (p.negated() ? excludes_ : includes_).push_back(std::move(p));
    }
}

bool PatternList::matches(std::string_view value) const {
    for (const auto& p : excludes_) {
        if (p.matches_body(value)) {
            return false;
        }
    }
    return includes_.empty() ||
           std::ranges::any_of(includes_, [&](const Pattern& p) { return p.matches_body(value); });
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
