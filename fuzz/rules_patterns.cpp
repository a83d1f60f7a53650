// Fuzz target: pattern and template compilation (rules/pattern.cpp, rules/template.cpp).
// Input: byte 0 picks the syntax (bit 0 set: path patterns, else text), then lines: the
// pattern as written in a config, a template, and the values to match.
// Aborts when the glob matcher disagrees with the RE2 expression of the same glob (on valid
// UTF-8), a literal pattern matches anything but itself, negation is not the complement, or a
// template without `{{` does not render to itself.

#include <re2/re2.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.hpp"
#include "rules/pattern.hpp"
#include "rules/template.hpp"
#include "tests/support/glob_reference.hpp"

namespace {

using linkpilot::rules::Pattern;
using linkpilot::rules::PatternList;
using linkpilot::rules::PatternSyntax;
using linkpilot::rules::Template;
namespace events = linkpilot::events;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "rules_patterns: invariant broken: %s\n", what);
    std::abort();
}

// RE2 and the matcher may split invalid UTF-8 differently (overlong forms, surrogates); the
// comparison skips it. Payload strings never hold any: Boost.JSON refuses invalid UTF-8.
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = 1;
        unsigned char lo = 0x80;  // the second byte's range (RFC 3629 table)
        unsigned char hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) {
            n = 2;
        } else if (b >= 0xE0 && b <= 0xEF) {
            n = 3;
            lo = b == 0xE0 ? 0xA0 : 0x80;
            hi = b == 0xED ? 0x9F : 0xBF;
        } else if (b >= 0xF0 && b <= 0xF4) {
            n = 4;
            lo = b == 0xF0 ? 0x90 : 0x80;
            hi = b == 0xF4 ? 0x8F : 0xBF;
        } else if (b >= 0x80) {
            return false;
        }
        if (i + n > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            if (k == 1 ? (c < lo || c > hi) : (c & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

std::vector<std::string_view> lines(std::string_view s) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto nl = s.find('\n');
        out.push_back(s.substr(0, nl));
        if (nl == std::string_view::npos) {
            return out;
        }
        s.remove_prefix(nl + 1);
    }
}

void check_pattern(std::string_view source, PatternSyntax syntax,
                   const std::vector<std::string_view>& values) {
    auto pattern = Pattern::compile(source, syntax);
    if (!pattern) {
        if (pattern.error().empty()) {
            fail("pattern refused without a reason");
        }
        return;
    }
    std::string_view body = source.starts_with('!') ? source.substr(1) : source;
    const bool regex = body.starts_with("re:");
    const bool glob = !regex && body.find_first_of("*?") != std::string_view::npos;
    std::unique_ptr<RE2> reference;
    if (glob && valid_utf8(body)) {
        RE2::Options options;
        options.set_log_errors(false);
        options.set_max_mem(8 << 20);
        reference =
            std::make_unique<RE2>(linkpilot::testing::glob_reference_regex(body, syntax), options);
        if (!reference->ok()) {
            reference.reset();
        }
    }
    const PatternList list({*pattern});
    for (auto value : values) {
        const bool matched = pattern->matches_body(value);
        if (reference && valid_utf8(value) && RE2::FullMatch(value, *reference) != matched) {
            fail("glob matcher disagrees with the glob's regex");
        }
        if (!regex && !glob && matched != (value == body)) {
            fail("literal pattern matched something else than itself");
        }
        if (list.matches(value) != (pattern->negated() ? !matched : matched)) {
            fail("negation is not the complement");
        }
    }
}

void check_template(std::string_view source) {
    auto tmpl = Template::compile(source);
    const bool plain = source.find("{{") == std::string_view::npos;
    if (!tmpl) {
        if (plain || tmpl.error().empty()) {
            fail("template refused without a reason, or a plain one refused");
        }
        return;
    }
    if (tmpl->is_literal() != tmpl->variables().empty()) {
        fail("is_literal and variables disagree");
    }
    events::Event event{.provider = events::Provider::github,
                        .event_name = "push",
                        .repo = "acme/shop",
                        .author = "octocat",
                        .sha = "0123abcd",
                        .body = events::Push{.branch = "main"}};
    const std::vector<events::Body> bodies{events::Push{.branch = "main"},
                                           events::Tag{.tag = "v1.0"},
                                           events::PullRequest{.number = 42, .branch = "feature/x"},
                                           events::Ci{.branch = "main", .status = "success"}};
    for (const auto& body : bodies) {
        event.body = body;
        const std::string out = tmpl->render(event);
        if (plain && out != source) {
            fail("a template without {{ rendered to something else");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const auto syntax = (data[0] & 1) != 0 ? PatternSyntax::path : PatternSyntax::text;
    auto parts = lines(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    const std::vector<std::string_view> values(
        parts.begin() + std::min<std::size_t>(2, parts.size()), parts.end());
    check_pattern(parts[0], syntax, values);
    if (parts.size() > 1) {
        check_template(parts[1]);
    }
    return 0;
}

#ifdef LINKPILOT_FUZZ_REPLAY
#include "fuzz/replay.hpp"

int main(int argc, char** argv) {
    return linkpilot::fuzz::replay_files_main(argc, argv, LINKPILOT_FUZZ_CORPUS_DIR, {}, "");
}
#endif
