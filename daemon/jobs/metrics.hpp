#pragma once

// Counters the job executor keeps for /metrics. Written on the executor's strand, read by the
// HTTP handler from anywhere: every field is an atomic, so no lock and no strand hop is needed.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/store/store.hpp"
#include "rules/rule.hpp"

namespace linkpilot::jobs {

enum class Outcome { started, done, failed, rescheduled, deferred, skipped };
inline constexpr std::size_t kOutcomeCount = 6;
inline constexpr std::size_t kActionCount = 3;

std::string_view to_string(Outcome o);

class Metrics {
  public:
    void count(rules::ActionKind action, Outcome outcome);
    // One finished attempt of a job (a Scalingo round trip or a failure before it).
    void count_attempt(rules::ActionKind action);

    [[nodiscard]] std::uint64_t jobs(rules::ActionKind action, Outcome outcome) const;

    // Appends Prometheus text lines (with HELP/TYPE):
    //   linkpilot_jobs_total{action="deploy",outcome="done"} 3
    //   linkpilot_job_attempts_total{action="deploy"} 4
    // The Scalingo calls themselves are the client's to count (scalingo/metrics.hpp): it sees
    // each request apart from its pacing, and the calls of the pruner and the token exchange.
    void render_prometheus(std::string& out) const;

  private:
    std::array<std::array<std::atomic<std::uint64_t>, kOutcomeCount>, kActionCount> jobs_{};
    std::array<std::atomic<std::uint64_t>, kActionCount> attempts_{};
};

// The store's view, for the same scrape: jobs by state and action, and the age of the oldest
// pending job (0 when none waits).
//   linkpilot_jobs{state="pending",action="deploy"} 2
//   linkpilot_jobs_oldest_pending_seconds 12.5
void render_store_stats(const store::Stats& stats, std::chrono::system_clock::time_point now,
                        std::string& out);

}  // namespace linkpilot::jobs
