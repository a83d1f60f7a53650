// The `freeze:` section: windows with no deploys.

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <string>
#include <string_view>

#include "config/detail/sections.hpp"

namespace linkpilot::config::detail {
namespace {

std::optional<std::chrono::minutes> clock_time(Reader& r, const YAML::Node& node,
                                               std::string_view where) {
    auto s = r.string(node, where);
    if (!s) {
        return std::nullopt;
    }
    int h = -1;
    int m = -1;
    if (s->size() == 5 && (*s)[2] == ':' && std::isdigit(static_cast<unsigned char>((*s)[0])) &&
        std::isdigit(static_cast<unsigned char>((*s)[1])) &&
        std::isdigit(static_cast<unsigned char>((*s)[3])) &&
        std::isdigit(static_cast<unsigned char>((*s)[4]))) {
        h = ((*s)[0] - '0') * 10 + ((*s)[1] - '0');
        m = ((*s)[3] - '0') * 10 + ((*s)[4] - '0');
    }
    if (h < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) {
        r.error(node.Mark(),
                std::string(where) + ": expected HH:MM (00:00 to 24:00), got \"" + *s + "\"");
        return std::nullopt;
    }
    return std::chrono::minutes(h * 60 + m);
}

// `days: [mon, fri]`: a list of three-letter names. A bare name, a full one ("friday") or
// an empty list (which would mean every day, the opposite of a slip) is an error.
bool parse_days(Reader& r, const YAML::Node& d, const std::string& where, std::vector<int>& out) {
    static constexpr std::array<std::string_view, 7> kDays{"sun", "mon", "tue", "wed",
                                                           "thu", "fri", "sat"};
    static constexpr std::string_view kValid = "mon, tue, wed, thu, fri, sat, sun";
    if (!d.IsSequence()) {
        r.error(d.Mark(), where + ": expected a list of days such as [mon, fri] (" +
                              std::string(kValid) + "), got " + node_kind(d));
        return false;
    }
    if (d.size() == 0) {
        r.error(d.Mark(), where + ": empty list; omit days for every day, or list some of " +
                              std::string(kValid));
        return false;
    }
    auto days = r.string_list(d, where);
    if (!days) {
        return false;
    }
    bool ok = true;
    for (auto& [day, mark] : *days) {
        auto it = std::find(kDays.begin(), kDays.end(), lower_ascii(day));
        if (it == kDays.end()) {
            r.error(mark,
                    where + ": unknown day \"" + day + "\" (use " + std::string(kValid) + ")");
            ok = false;
        } else {
            out.push_back(static_cast<int>(it - kDays.begin()));
        }
    }
    return ok;
}

std::optional<rules::ActionKind> action_kind(std::string_view s) {
    for (auto k : {rules::ActionKind::deploy, rules::ActionKind::review_app,
                   rules::ActionKind::delete_review_app}) {
        if (rules::to_string(k) == s) {
            return k;
        }
    }
    return std::nullopt;
}

// One window being read; kept only when all of it is valid.
struct WindowDraft {
    FreezeWindow window;
    std::optional<std::chrono::minutes> from;
    std::optional<std::chrono::minutes> to;
    YAML::Mark to_mark;
    bool ok = true;
};

void missing_time(Reader& r, const Entry& e, WindowDraft& d) {
    r.missing(e, " (HH:MM)");
    d.ok = false;
}

constexpr Fields<WindowDraft, 6> kWindowFields{{
    {"days", [](Reader& r, const Entry& e,
                WindowDraft& d) { d.ok = parse_days(r, e.value, e.where, d.window.days) && d.ok; }},
    {"from",
     [](Reader& r, const Entry& e, WindowDraft& d) { d.from = clock_time(r, e.value, e.where); },
     missing_time},
    {"to",
     [](Reader& r, const Entry& e, WindowDraft& d) {
         d.to = clock_time(r, e.value, e.where);
         d.to_mark = e.value.Mark();
     },
     missing_time},
    {"tz",
     [](Reader& r, const Entry& e, WindowDraft& d) {
         if (auto s = r.string(e.value, e.where)) {
             try {
                 static_cast<void>(date::locate_zone(*s));
                 d.window.tz = *s;
             } catch (const std::exception&) {
                 r.error(e.value.Mark(), e.where + ": unknown time zone \"" + *s +
                                             "\" (use an IANA name such as Europe/Paris)");
                 d.ok = false;
             }
         }
     },
     [](Reader& r, const Entry& e, WindowDraft& d) {
         r.missing(e, " (an IANA time zone such as Europe/Paris)");
         d.ok = false;
     }},
    {"mode",
     [](Reader& r, const Entry& e, WindowDraft& d) {
         if (auto s = r.string(e.value, e.where)) {
             if (*s == "defer") {
                 d.window.mode = FreezeMode::defer;
             } else if (*s == "skip") {
                 d.window.mode = FreezeMode::skip;
             } else {
                 r.error(e.value.Mark(), e.where + ": expected defer or skip, got \"" + *s + "\"");
                 d.ok = false;
             }
         }
     }},
    {"actions",
     [](Reader& r, const Entry& e, WindowDraft& d) {
         if (auto names = r.string_list(e.value, e.where)) {
             d.window.actions.clear();
             for (auto& [name, mark] : *names) {
                 if (auto kind = action_kind(name)) {
                     d.window.actions.push_back(*kind);
                 } else {
                     r.error(mark, e.where + ": unknown action \"" + name +
                                       "\" (deploy, review_app, delete_review_app)");
                     d.ok = false;
                 }
             }
         }
     }},
}};

}  // namespace

void read_freeze(Reader& r, const Entry& e, std::vector<FreezeWindow>& out) {
    if (!e.value.IsSequence()) {
        r.error(e.value.Mark(),
                e.where + ": expected a list of windows, got " + node_kind(e.value));
        return;
    }
    std::size_t index = 0;
    for (const auto& w : e.value) {
        const std::string where = e.where + "[" + std::to_string(index++) + "]";
        WindowDraft d;
        if (!r.read_map(w, where, kWindowFields, d)) {
            continue;
        }
        d.ok = d.ok && d.from && d.to;
        if (d.from && d.to) {
            d.window.from = *d.from;
            d.window.to = *d.to;
            if (*d.from >= *d.to) {
                r.error(d.to_mark, where +
                                       ".to: must be after from (split a window that crosses "
                                       "midnight into two)");
                d.ok = false;
            }
        }
        if (d.ok) {
            out.push_back(std::move(d.window));
        }
    }
}

}  // namespace linkpilot::config::detail
