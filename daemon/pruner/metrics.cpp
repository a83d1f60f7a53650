#include "daemon/pruner/metrics.hpp"

#include <fmt/format.h>

namespace linkpilot::pruner {

namespace {

constexpr std::array<Reason, 3> kDeleteReasons{Reason::closed, Reason::stale, Reason::over_cap};
constexpr std::array<Reason, 7> kSkipReasons{
    Reason::active,    Reason::protected_app, Reason::wrong_parent, Reason::unnamed,
    Reason::duplicate, Reason::queued,        Reason::limit_reached};

std::size_t index(Reason r) { return static_cast<std::size_t>(r); }

}  // namespace

void Metrics::sweep_finished(std::chrono::system_clock::time_point started,
                             std::chrono::steady_clock::duration took, bool ok) {
    (ok ? sweeps_ok_ : sweeps_failed_).fetch_add(1, std::memory_order_relaxed);
    last_sweep_ms_.store(
        std::chrono::duration_cast<std::chrono::milliseconds>(started.time_since_epoch()).count(),
        std::memory_order_relaxed);
    last_duration_us_.store(std::chrono::duration_cast<std::chrono::microseconds>(took).count(),
                            std::memory_order_relaxed);
}

void Metrics::listing_failed() { listing_errors_.fetch_add(1, std::memory_order_relaxed); }

void Metrics::count(const Decision& d, bool enqueued) {
    seen_.fetch_add(1, std::memory_order_relaxed);
    if (!d.remove) {
        skipped_[index(d.reason)].fetch_add(1, std::memory_order_relaxed);
    } else if (enqueued) {
        deleted_[index(d.reason)].fetch_add(1, std::memory_order_relaxed);
    } else {
        dry_run_.fetch_add(1, std::memory_order_relaxed);
    }
}

std::uint64_t Metrics::deleted(Reason r) const { return deleted_[index(r)].load(); }
std::uint64_t Metrics::skipped(Reason r) const { return skipped_[index(r)].load(); }

void Metrics::render_prometheus(std::string& out) const {
    auto line = [&out](std::string_view text) {
        out += text;
        out += '\n';
    };
    line("# HELP linkpilot_prune_sweeps_total Pruning sweeps, by whether every listing worked.");
    line("# TYPE linkpilot_prune_sweeps_total counter");
    out += fmt::format("linkpilot_prune_sweeps_total{{result=\"ok\"}} {}\n", sweeps_ok_.load());
    out +=
        fmt::format("linkpilot_prune_sweeps_total{{result=\"error\"}} {}\n", sweeps_failed_.load());
    line(
        "# HELP linkpilot_prune_listing_errors_total Review-app listings that failed (that app's "
        "sweep deleted nothing).");
    line("# TYPE linkpilot_prune_listing_errors_total counter");
    out += fmt::format("linkpilot_prune_listing_errors_total {}\n", listing_errors_.load());
    line("# HELP linkpilot_prune_review_apps_seen_total Review apps listed by pruning sweeps.");
    line("# TYPE linkpilot_prune_review_apps_seen_total counter");
    out += fmt::format("linkpilot_prune_review_apps_seen_total {}\n", seen_.load());
    line(
        "# HELP linkpilot_prune_review_apps_deleted_total Review apps whose deletion job a sweep "
        "queued, by reason.");
    line("# TYPE linkpilot_prune_review_apps_deleted_total counter");
    for (const auto r : kDeleteReasons) {
        out += fmt::format("linkpilot_prune_review_apps_deleted_total{{reason=\"{}\"}} {}\n",
                           to_string(r), deleted(r));
    }
    line(
        "# HELP linkpilot_prune_review_apps_skipped_total Review apps a sweep kept, by reason "
        "(dry_run: would have been deleted).");
    line("# TYPE linkpilot_prune_review_apps_skipped_total counter");
    for (const auto r : kSkipReasons) {
        out += fmt::format("linkpilot_prune_review_apps_skipped_total{{reason=\"{}\"}} {}\n",
                           to_string(r), skipped(r));
    }
    out += fmt::format("linkpilot_prune_review_apps_skipped_total{{reason=\"dry_run\"}} {}\n",
                       dry_run_.load());
    line(
        "# HELP linkpilot_prune_last_sweep_timestamp_seconds Start of the last finished sweep "
        "(Unix time; 0 before the first).");
    line("# TYPE linkpilot_prune_last_sweep_timestamp_seconds gauge");
    out += fmt::format("linkpilot_prune_last_sweep_timestamp_seconds {:.3f}\n",
                       static_cast<double>(last_sweep_ms_.load()) / 1000.0);
    line("# HELP linkpilot_prune_last_sweep_duration_seconds How long the last sweep took.");
    line("# TYPE linkpilot_prune_last_sweep_duration_seconds gauge");
    out += fmt::format("linkpilot_prune_last_sweep_duration_seconds {:.6f}\n",
                       static_cast<double>(last_duration_us_.load()) / 1e6);
}

}  // namespace linkpilot::pruner
