#include "daemon/scalingo/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "common/prometheus.hpp"

namespace linkpilot::scalingo {

namespace {

constexpr std::array<ApiCall, kApiCallCount> kCalls{
    ApiCall::token_exchange, ApiCall::manual_deploy, ApiCall::manual_review_app,
    ApiCall::review_apps,    ApiCall::delete_app,    ApiCall::link,
    ApiCall::links};

std::size_t index(ApiCall c) { return static_cast<std::size_t>(c); }
std::size_t status_slot(unsigned status) { return status < kStatusSlots ? status : 0; }

}  // namespace

std::string_view to_string(ApiCall c) {
    switch (c) {
        case ApiCall::token_exchange:
            return "token_exchange";
        case ApiCall::manual_deploy:
            return "manual_deploy";
        case ApiCall::manual_review_app:
            return "manual_review_app";
        case ApiCall::review_apps:
            return "review_apps";
        case ApiCall::delete_app:
            return "delete_app";
        case ApiCall::link:
            return "link";
        case ApiCall::links:
            return "links";
    }
    return "unknown";
}

template <std::size_t N>
void Metrics::Histogram<N>::observe(const std::array<double, N>& bounds, Duration d) {
    d = std::max(d, Duration::zero());
    const double seconds = std::chrono::duration<double>(d).count();
    for (std::size_t i = 0; i < N; ++i) {
        if (seconds <= bounds[i]) {
            buckets[i].fetch_add(1, std::memory_order_relaxed);
        }
    }
    count.fetch_add(1, std::memory_order_relaxed);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    ns_sum.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

template <std::size_t N>
void Metrics::Histogram<N>::render(std::string& out, std::string_view name, std::string_view help,
                                   const std::array<double, N>& bounds) const {
    std::array<std::uint64_t, N> cumulative{};
    for (std::size_t i = 0; i < N; ++i) {
        cumulative.at(i) = buckets.at(i).load(std::memory_order_relaxed);
    }
    append_histogram(out, name, help, bounds, cumulative,
                     static_cast<double>(ns_sum.load(std::memory_order_relaxed)) / 1e9,
                     count.load(std::memory_order_relaxed));
}

void Metrics::count_call(ApiCall call, unsigned status, Duration took) {
    calls_[index(call)][status_slot(status)].fetch_add(1, std::memory_order_relaxed);
    call_seconds_.observe(kCallSecondsBounds, took);
}

void Metrics::observe_pacing(Duration waited) {
    pacing_seconds_.observe(kPacingSecondsBounds, waited);
}

std::uint64_t Metrics::calls(ApiCall call, unsigned status) const {
    return calls_[index(call)][status_slot(status)].load(std::memory_order_relaxed);
}

void Metrics::render_prometheus(std::string& out) const {
    auto it = std::back_inserter(out);
    out +=
        "# HELP linkpilot_scalingo_calls_total Scalingo API requests (the token exchange and "
        "each page of a listing included) by call and HTTP status (0: no answer).\n";
    out += "# TYPE linkpilot_scalingo_calls_total counter\n";
    for (const auto c : kCalls) {
        for (unsigned s = 0; s < kStatusSlots; ++s) {
            const auto n = calls(c, s);
            if (n != 0) {
                fmt::format_to(it,
                               "linkpilot_scalingo_calls_total{{call=\"{}\",status=\"{}\"}} {}\n",
                               to_string(c), s, n);
            }
        }
    }
    call_seconds_.render(out, "linkpilot_scalingo_call_seconds",
                         "Scalingo API request latency, from taking a connection to the answer "
                         "(the client's pacing excluded).",
                         kCallSecondsBounds);
    pacing_seconds_.render(out, "linkpilot_scalingo_pacing_seconds",
                           "Time an API request waited for the client's own pacing "
                           "(scalingo.rate_limit) before it was sent.",
                           kPacingSecondsBounds);
}

}  // namespace linkpilot::scalingo
