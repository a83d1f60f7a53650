#include "daemon/jobs/freeze.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <exception>
#include <string_view>

namespace linkpilot::jobs {

namespace {

using std::chrono::minutes;
using SysTime = std::chrono::system_clock::time_point;
using LocalMinutes = date::local_time<minutes>;

constexpr std::array<std::string_view, 7> kDayNames{"sun", "mon", "tue", "wed",
                                                    "thu", "fri", "sat"};

bool holds_action(const config::FreezeWindow& w, rules::ActionKind action) {
    return std::find(w.actions.begin(), w.actions.end(), action) != w.actions.end();
}

bool on_day(const config::FreezeWindow& w, date::local_days day) {
    if (w.days.empty()) {
        return true;
    }
    const auto wd = static_cast<int>(date::weekday{day}.c_encoding());
    return std::find(w.days.begin(), w.days.end(), wd) != w.days.end();
}

std::string hhmm(minutes m) { return fmt::format("{:02}:{:02}", m.count() / 60, m.count() % 60); }

// The first instant after `now` at which the zone's wall clock shows `local`. A wall time
// skipped by a spring-forward change maps to the change itself; one repeated by a fall-back
// change maps to its first occurrence, or to its second when `now` is already past the first.
SysTime first_instant_at(const date::time_zone& zone, LocalMinutes local, SysTime now) {
    const auto info = zone.get_info(local);
    switch (info.result) {
        case date::local_info::unique:
            return SysTime{local.time_since_epoch() - info.first.offset};
        case date::local_info::nonexistent:
            return info.second.begin;
        case date::local_info::ambiguous: {
            const SysTime first{local.time_since_epoch() - info.first.offset};
            if (first > now) {
                return first;
            }
            return SysTime{local.time_since_epoch() - info.second.offset};
        }
    }
    return SysTime{local.time_since_epoch() - info.first.offset};
}

std::optional<FreezeHit> check_window(const config::FreezeWindow& w, SysTime now) {
    if (w.from >= w.to) {
        return std::nullopt;  // empty or inverted: the loader rejects these
    }
    const date::time_zone* zone = nullptr;
    try {
        zone = date::locate_zone(w.tz);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const auto local = zone->to_local(now);
    const auto day = date::floor<date::days>(local);
    if (!on_day(w, day)) {
        return std::nullopt;
    }
    // Full precision: 15:59:30 is still before a 16:00 start.
    const auto since_midnight = local - day;
    if (since_midnight < w.from || since_midnight >= w.to) {
        return std::nullopt;
    }
    const auto end = first_instant_at(*zone, LocalMinutes{day.time_since_epoch()} + w.to, now);
    if (end <= now) {
        return std::nullopt;
    }
    return FreezeHit{w.mode, end, describe(w)};
}

}  // namespace

std::string describe(const config::FreezeWindow& window) {
    std::string days;
    if (window.days.empty()) {
        days = "every day";
    }
    for (const int d : window.days) {
        if (!days.empty()) {
            days += ',';
        }
        days += (d >= 0 && d < 7) ? kDayNames[static_cast<std::size_t>(d)] : "?";
    }
    return fmt::format("{} {}-{} {}", days, hhmm(window.from), hhmm(window.to), window.tz);
}

std::string deferral_note(const FreezeHit& hit) {
    return fmt::format("deferred: freeze window {} until {}", hit.description,
                       date::format("%FT%TZ", date::floor<std::chrono::seconds>(hit.end)));
}

std::optional<FreezeHit> active_window(const std::vector<config::FreezeWindow>& windows,
                                       rules::ActionKind action, SysTime now) {
    std::optional<FreezeHit> best;
    for (const auto& w : windows) {
        if (!holds_action(w, action)) {
            continue;
        }
        auto hit = check_window(w, now);
        if (!hit) {
            continue;
        }
        if (!best) {
            best = std::move(hit);
            continue;
        }
        const bool hit_skips = hit->mode == config::FreezeMode::skip;
        const bool best_skips = best->mode == config::FreezeMode::skip;
        if ((hit_skips && !best_skips) || (hit_skips == best_skips && hit->end > best->end)) {
            best = std::move(hit);
        }
    }
    return best;
}

}  // namespace linkpilot::jobs
