#pragma once

// What the Scalingo client measures for /metrics, per HTTP request it sends (the token
// exchange and every page of a listing included): the call and its status, the time from
// taking a connection to the answer, and, apart from it, how long the request waited for the
// client's own pacing (scalingo.rate_limit) before it was sent. Keeping the two apart is the
// point: a 17 ms answer after a 983 ms wait in the queue is a fast API, not a slow one.
// Written by the client on its executor and read by the /metrics handler: atomics only.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace linkpilot::scalingo {

// The `call` label: the Client method that sent the request, or the token exchange.
enum class ApiCall {
    token_exchange,
    manual_deploy,
    manual_review_app,
    review_apps,
    delete_app,
    link,
    links
};
inline constexpr std::size_t kApiCallCount = 7;

std::string_view to_string(ApiCall c);

// Bucket upper bounds in seconds (Prometheus `le`). The pacing's first bucket, 0, counts the
// requests that did not wait at all.
inline constexpr std::array<double, 10> kCallSecondsBounds = {0.05, 0.1, 0.25, 0.5,  1.0,
                                                              2.5,  5.0, 10.0, 30.0, 60.0};
inline constexpr std::array<double, 13> kPacingSecondsBounds = {
    0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0};
// HTTP status 0 (no answer) to 599; anything else is counted as 0.
inline constexpr std::size_t kStatusSlots = 600;

class Metrics {
  public:
    using Duration = std::chrono::steady_clock::duration;

    // One request sent: `status` is the HTTP status (0: no answer, e.g. timeout or refused
    // connection), `took` from taking a connection to the answer.
    void count_call(ApiCall call, unsigned status, Duration took);
    // The wait the pacing imposed on one API request before it was sent (zero: none).
    void observe_pacing(Duration waited);

    [[nodiscard]] std::uint64_t calls(ApiCall call, unsigned status) const;

    // Appends Prometheus text lines (with HELP/TYPE):
    //   linkpilot_scalingo_calls_total{call="manual_deploy",status="200"} 3
    //   linkpilot_scalingo_call_seconds_bucket{le="0.1"} 2 (and _sum, _count)
    //   linkpilot_scalingo_pacing_seconds_bucket{le="1"} 2 (and _sum, _count)
    void render_prometheus(std::string& out) const;

  private:
    template <std::size_t N>
    struct Histogram {
        // Cumulative per bound (Prometheus buckets); the +Inf bucket is `count`.
        std::array<std::atomic<std::uint64_t>, N> buckets{};
        std::atomic<std::uint64_t> count{0};
        std::atomic<std::uint64_t> ns_sum{0};

        void observe(const std::array<double, N>& bounds, Duration d);
        void render(std::string& out, std::string_view name, std::string_view help,
                    const std::array<double, N>& bounds) const;
    };

    std::array<std::array<std::atomic<std::uint64_t>, kStatusSlots>, kApiCallCount> calls_{};
    Histogram<kCallSecondsBounds.size()> call_seconds_;
    Histogram<kPacingSecondsBounds.size()> pacing_seconds_;
};

}  // namespace linkpilot::scalingo
