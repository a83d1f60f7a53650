#pragma once

// Freeze windows (SPEC 2.4) as pure functions over the date/tz library: is `now` inside a
// window that holds this action, and when does that window end? Local time follows the
// window's IANA zone, daylight-saving changes included.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "rules/rule.hpp"

namespace linkpilot::jobs {

struct FreezeHit {
    config::FreezeMode mode = config::FreezeMode::defer;
    std::chrono::system_clock::time_point end;  // first instant after the window
    std::string description;                    // "fri 16:00-23:59 Europe/Paris"
};

// The window holding `action` at `now`, if any. When several hold it, `skip` wins (the job is
// dropped whatever else says), otherwise the defer window ending last (so a deferred job is not
// bounced from one window to the next). Windows with an unknown zone never match (the config
// loader rejects those; this is only defensive).
[[nodiscard]] std::optional<FreezeHit> active_window(
    const std::vector<config::FreezeWindow>& windows, rules::ActionKind action,
    std::chrono::system_clock::time_point now);

// "fri 16:00-23:59 Europe/Paris", "every day 01:00-04:00 UTC", "mon,tue 00:00-24:00 UTC".
[[nodiscard]] std::string describe(const config::FreezeWindow& window);

// A deferred job's note: "deferred: freeze window fri 16:00-23:59 Europe/Paris until
// 2026-01-09T22:59:00Z".
[[nodiscard]] std::string deferral_note(const FreezeHit& hit);

}  // namespace linkpilot::jobs
