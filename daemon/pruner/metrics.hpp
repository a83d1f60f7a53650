#pragma once

// Counters of the pruning sweeps for /metrics. Written by the sweeper on the I/O thread and
// read by the HTTP handler: every field is an atomic, so no lock is needed.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "daemon/pruner/policy.hpp"

namespace linkpilot::pruner {

class Metrics {
  public:
    // One finished sweep: when it started, how long it took, whether every listing succeeded.
    void sweep_finished(std::chrono::system_clock::time_point started,
                        std::chrono::steady_clock::duration took, bool ok);
    void listing_failed();
    // One decision of a sweep: `enqueued` when its deletion job was stored (real run), false
    // for a dry run's "would delete" (counted as skipped with reason "dry_run").
    void count(const Decision& d, bool enqueued);

    [[nodiscard]] std::uint64_t seen() const { return seen_.load(); }
    [[nodiscard]] std::uint64_t deleted(Reason r) const;
    [[nodiscard]] std::uint64_t skipped(Reason r) const;
    [[nodiscard]] std::uint64_t skipped_dry_run() const { return dry_run_.load(); }
    [[nodiscard]] std::uint64_t sweeps() const { return sweeps_ok_.load() + sweeps_failed_.load(); }

    // Appends Prometheus text lines (with HELP/TYPE):
    //   linkpilot_prune_sweeps_total{result="ok"} 3
    //   linkpilot_prune_listing_errors_total 1
    //   linkpilot_prune_review_apps_seen_total 12
    //   linkpilot_prune_review_apps_deleted_total{reason="stale"} 2   (deletion jobs queued)
    //   linkpilot_prune_review_apps_skipped_total{reason="protected"} 1
    //   linkpilot_prune_last_sweep_timestamp_seconds 1.7e9
    //   linkpilot_prune_last_sweep_duration_seconds 0.12
    void render_prometheus(std::string& out) const;

  private:
    std::atomic<std::uint64_t> sweeps_ok_{0};
    std::atomic<std::uint64_t> sweeps_failed_{0};
    std::atomic<std::uint64_t> listing_errors_{0};
    std::atomic<std::uint64_t> seen_{0};
    std::array<std::atomic<std::uint64_t>, kReasonCount> deleted_{};
    std::array<std::atomic<std::uint64_t>, kReasonCount> skipped_{};
    std::atomic<std::uint64_t> dry_run_{0};
    std::atomic<std::int64_t> last_sweep_ms_{0};  // Unix ms; 0 before the first sweep
    std::atomic<std::int64_t> last_duration_us_{0};
};

}  // namespace linkpilot::pruner
