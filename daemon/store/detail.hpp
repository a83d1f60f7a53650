#pragma once

// Helpers of the store's algorithms (store_core.cpp) and its backends (backend.hpp). Not for
// callers of the Store interface.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/store.hpp"

namespace linkpilot::store::detail {

// Stored times are integer milliseconds since the Unix epoch.
inline std::int64_t to_ms(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline TimePoint from_ms(std::int64_t ms) { return TimePoint{std::chrono::milliseconds{ms}}; }

[[nodiscard]] bool known_action(std::string_view action);

// The reason an accept item is itself wrong (Kind::invalid), or nullopt when it may be stored.
[[nodiscard]] std::optional<StoreError> check_accept(const NewDelivery& delivery,
                                                     const std::vector<NewJob>& jobs);

// When a new job may first run: after its debounce (from the delivery's arrival), and not
// before its not_before.
[[nodiscard]] TimePoint first_attempt_at(const NewDelivery& delivery, const NewJob& job);

// The apps whose next job a settle tries to claim, in order and once each: the apps of the
// jobs it settled, then the apps the caller named. Views into the arguments.
[[nodiscard]] std::vector<std::string_view> apps_to_claim(
    const std::vector<Transition>& transitions, const std::vector<std::string>& named);

// Whether `next`, its app's oldest pending job, may be started as soon as the app's running job
// leaves the queue, without a claim first (SettleResult::next): due at `now`, and not debounced,
// since a newer delivery may supersede a debounced job at any time.
[[nodiscard]] bool may_follow(const Job& next, TimePoint now);

// Settle's error for a Transition::handover whose job was no longer pending.
[[nodiscard]] StoreError handover_not_pending(std::int64_t job_id);

// Store::cancel's error for a pending `job` it may not cancel: the job may_follow the app's
// running job `running_id` (0: unknown), so the executor may have started it already.
[[nodiscard]] StoreError cancel_refused(const Job& job, std::int64_t running_id);

// What Store::redefer expects a job to be, for its invalid_state message.
inline constexpr std::string_view kFreezeDeferred = "deferred by a freeze window";

}  // namespace linkpilot::store::detail
