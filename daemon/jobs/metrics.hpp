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

// The Scalingo calls the executor makes.
enum class ApiCall { manual_deploy, manual_review_app, review_apps, delete_app };
inline constexpr std::size_t kApiCallCount = 4;

std::string_view to_string(Outcome o);
std::string_view to_string(ApiCall c);

// Latency bucket upper bounds in seconds (Prometheus `le`).
inline constexpr std::array<double, 10> kCallSecondsBounds = {0.05, 0.1, 0.25, 0.5,  1.0,
                                                              2.5,  5.0, 10.0, 30.0, 60.0};
// HTTP status 0 (no answer) to 599; anything else is counted as 0.
inline constexpr std::size_t kStatusSlots = 600;

class Metrics {
  public:
    void count(rules::ActionKind action, Outcome outcome);
    // One finished attempt of a job (a Scalingo round trip or a failure before it).
    void count_attempt(rules::ActionKind action);
    // One Scalingo call: `status` is the HTTP status (0: transport failure).
    void observe_call(ApiCall call, unsigned status, std::chrono::steady_clock::duration took);

    [[nodiscard]] std::uint64_t jobs(rules::ActionKind action, Outcome outcome) const;
    [[nodiscard]] std::uint64_t calls(ApiCall call, unsigned status) const;

    // Appends Prometheus text lines (with HELP/TYPE):
    //   linkpilot_jobs_total{action="deploy",outcome="done"} 3
    //   linkpilot_job_attempts_total{action="deploy"} 4
    //   linkpilot_scalingo_calls_total{call="manual_deploy",status="200"} 3
    //   linkpilot_scalingo_call_seconds_bucket{le="0.1"} 2 (and _sum, _count)
    void render_prometheus(std::string& out) const;

  private:
    std::array<std::array<std::atomic<std::uint64_t>, kOutcomeCount>, kActionCount> jobs_{};
    std::array<std::atomic<std::uint64_t>, kActionCount> attempts_{};
    std::array<std::array<std::atomic<std::uint64_t>, kStatusSlots>, kApiCallCount> calls_{};
    // Cumulative per bound, plus +Inf.
    std::array<std::atomic<std::uint64_t>, kCallSecondsBounds.size() + 1> call_buckets_{};
    std::atomic<std::uint64_t> call_count_{0};
    std::atomic<std::uint64_t> call_ns_sum_{0};
};

// The store's view, for the same scrape: jobs by state and action, and the age of the oldest
// pending job (0 when none waits).
//   linkpilot_jobs{state="pending",action="deploy"} 2
//   linkpilot_jobs_oldest_pending_seconds 12.5
void render_store_stats(const store::Stats& stats, std::chrono::system_clock::time_point now,
                        std::string& out);

}  // namespace linkpilot::jobs
