#pragma once

// An independent reference for the glob matcher of rules/pattern.cpp: the glob written as an
// anchored RE2 expression straight from SPEC 2.2 (text `*` any run, `?` one character; path `*`
// and `?` stop at `/`, `**` crosses directories, `**/` also matches no directory), without the
// engine's tokeniser. Header-only, so the unit tests and the fuzz target share it.

#include <re2/re2.h>

#include <string>
#include <string_view>

#include "rules/pattern.hpp"

namespace linkpilot::testing {

inline std::string glob_reference_regex(std::string_view glob, rules::PatternSyntax syntax) {
    const bool path = syntax == rules::PatternSyntax::path;
    std::string out = "(?s)";
    for (std::size_t i = 0; i < glob.size(); ++i) {
        const char c = glob[i];
        if (c == '*') {
            const bool dbl = i + 1 < glob.size() && glob[i + 1] == '*';
            if (path && dbl) {
                ++i;
                if (i + 1 < glob.size() && glob[i + 1] == '/') {
                    ++i;
                    out += "(?:.*/)?";
                } else {
                    out += ".*";
                }
            } else if (path) {
                out += "[^/]*";
            } else {
                i += dbl ? 1 : 0;
                out += ".*";
            }
        } else if (c == '?') {
            out += path ? "[^/]" : ".";
        } else {
            out += RE2::QuoteMeta(std::string_view(&glob[i], 1));
        }
    }
    return out;
}

}  // namespace linkpilot::testing
