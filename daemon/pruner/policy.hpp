#pragma once

// The pruning policy of SPEC 6 as a pure function: given one parent app's review-app listing,
// the `prune:` config and the time, which review apps to delete and why. No I/O, no clock: the
// sweeper (sweeper.hpp) lists, logs and enqueues; tests call `select` over plain tables.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "daemon/scalingo/types.hpp"

namespace linkpilot::pruner {

using TimePoint = std::chrono::system_clock::time_point;

// Why a review app is deleted (closed, stale, over_cap) or kept (everything else).
enum class Reason {
    closed,         // pull request closed at least closed_after ago
    stale,          // newest activity at least stale_after ago
    over_cap,       // beyond keep_at_most, oldest activity first
    active,         // none of the above: kept
    protected_app,  // its name matches prune.protect
    wrong_parent,   // parent_app_name is not the app being swept
    unnamed,        // the listing gave no app name: nothing could be deleted safely
    duplicate,      // listed twice (overlapping pages): decided once, under its first entry
    queued,         // a deletion job for it is already waiting in the queue
    limit_reached,  // a candidate, but max_deletions_per_sweep is used up
};
inline constexpr std::size_t kReasonCount = 10;

[[nodiscard]] std::string_view to_string(Reason r);

struct Decision {
    std::string app_name;
    std::string parent_app_name;  // as listed
    std::optional<std::uint64_t> pr_number;
    std::optional<TimePoint> activity_at;  // newest of created_at and last_deployment.created_at
    std::optional<TimePoint> closed_at;    // the pull request's, when closed
    bool remove = false;
    Reason reason = Reason::active;
    // For a candidate that is kept anyway (protected, limit_reached, queued): what it was a
    // candidate for (closed, stale or over_cap).
    std::optional<Reason> candidate_for;
};

struct Plan {
    std::string parent;
    std::vector<Decision> decisions;  // one per listed review app, sorted by app name

    [[nodiscard]] std::size_t deletions() const;
};

// The activity date SPEC 6 ages a review app by: the newest of the review app's `created_at`
// and its `last_deployment.created_at` (unset dates ignored); nullopt when both are unset.
[[nodiscard]] std::optional<TimePoint> activity_of(const scalingo::ReviewApp& ra);

// Decides, for every review app listed under `parent`:
// - never deleted: a parent_app_name other than `parent`, an empty name, a name matching
//   `protect`, a name in `already_queued`;
// - candidates: closed (a set pull_request.closed_at with now - closed_at >= closed_after),
//   stale (now - activity >= stale_after; an app with no known activity is never stale), then
//   over_cap: when more than keep_at_most of the parent's review apps would remain (protected
//   ones count, wrong-parent ones do not), the oldest activity first (unknown activity counts
//   as newest), ties by name; protected apps are skipped and stay;
// - at most `budget` deletions, taken in the order closed (oldest closure first), stale, then
//   over_cap (oldest activity first, ties by name); later candidates get limit_reached.
[[nodiscard]] Plan select(const config::Prune& cfg, std::string_view parent,
                          const std::vector<scalingo::ReviewApp>& listing, TimePoint now,
                          std::size_t budget, const std::vector<std::string>& already_queued = {});

}  // namespace linkpilot::pruner
