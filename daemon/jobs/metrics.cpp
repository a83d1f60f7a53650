#include "daemon/jobs/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>

#include "common/prometheus.hpp"

namespace linkpilot::jobs {

namespace {

constexpr std::array<rules::ActionKind, kActionCount> kActions{
    rules::ActionKind::deploy, rules::ActionKind::review_app, rules::ActionKind::delete_review_app};
constexpr std::array<Outcome, kOutcomeCount> kOutcomes{Outcome::started,  Outcome::done,
                                                       Outcome::failed,   Outcome::rescheduled,
                                                       Outcome::deferred, Outcome::skipped};
constexpr std::array<ApiCall, kApiCallCount> kCalls{
    ApiCall::manual_deploy, ApiCall::manual_review_app, ApiCall::review_apps, ApiCall::delete_app};

std::size_t index(rules::ActionKind a) { return static_cast<std::size_t>(a); }
std::size_t index(Outcome o) { return static_cast<std::size_t>(o); }
std::size_t index(ApiCall c) { return static_cast<std::size_t>(c); }
std::size_t status_slot(unsigned status) { return status < kStatusSlots ? status : 0; }

}  // namespace

std::string_view to_string(Outcome o) {
    switch (o) {
        case Outcome::started:
            return "started";
        case Outcome::done:
            return "done";
        case Outcome::failed:
            return "failed";
        case Outcome::rescheduled:
            return "rescheduled";
        case Outcome::deferred:
            return "deferred";
        case Outcome::skipped:
            return "skipped";
    }
    return "unknown";
}

std::string_view to_string(ApiCall c) {
    switch (c) {
        case ApiCall::manual_deploy:
            return "manual_deploy";
        case ApiCall::manual_review_app:
            return "manual_review_app";
        case ApiCall::review_apps:
            return "review_apps";
        case ApiCall::delete_app:
            return "delete_app";
    }
    return "unknown";
}

void Metrics::count(rules::ActionKind action, Outcome outcome) {
    jobs_[index(action)][index(outcome)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_attempt(rules::ActionKind action) {
    attempts_[index(action)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::observe_call(ApiCall call, unsigned status,
                           std::chrono::steady_clock::duration took) {
    calls_[index(call)][status_slot(status)].fetch_add(1, std::memory_order_relaxed);
    const double seconds = std::chrono::duration<double>(took).count();
    for (std::size_t i = 0; i < kCallSecondsBounds.size(); ++i) {
        if (seconds <= kCallSecondsBounds[i]) {
            call_buckets_[i].fetch_add(1, std::memory_order_relaxed);
        }
    }
    call_buckets_.back().fetch_add(1, std::memory_order_relaxed);
    call_count_.fetch_add(1, std::memory_order_relaxed);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
    call_ns_sum_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0)),
                           std::memory_order_relaxed);
}

std::uint64_t Metrics::jobs(rules::ActionKind action, Outcome outcome) const {
    return jobs_[index(action)][index(outcome)].load(std::memory_order_relaxed);
}

std::uint64_t Metrics::calls(ApiCall call, unsigned status) const {
    return calls_[index(call)][status_slot(status)].load(std::memory_order_relaxed);
}

void Metrics::render_prometheus(std::string& out) const {
    auto it = std::back_inserter(out);
    out += "# HELP linkpilot_jobs_total Job executions by action and outcome.\n";
    out += "# TYPE linkpilot_jobs_total counter\n";
    for (const auto a : kActions) {
        for (const auto o : kOutcomes) {
            fmt::format_to(it, "linkpilot_jobs_total{{action=\"{}\",outcome=\"{}\"}} {}\n",
                           rules::to_string(a), to_string(o), jobs(a, o));
        }
    }
    out += "# HELP linkpilot_job_attempts_total Finished job attempts by action.\n";
    out += "# TYPE linkpilot_job_attempts_total counter\n";
    for (const auto a : kActions) {
        fmt::format_to(it, "linkpilot_job_attempts_total{{action=\"{}\"}} {}\n",
                       rules::to_string(a), attempts_[index(a)].load(std::memory_order_relaxed));
    }
    out +=
        "# HELP linkpilot_scalingo_calls_total Scalingo API calls by call and HTTP status "
        "(0: no answer).\n";
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
    std::array<std::uint64_t, kCallSecondsBounds.size()> buckets{};
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        buckets.at(i) = call_buckets_.at(i).load(std::memory_order_relaxed);
    }
    append_histogram(out, "linkpilot_scalingo_call_seconds", "Scalingo API call latency.",
                     kCallSecondsBounds, buckets,
                     static_cast<double>(call_ns_sum_.load(std::memory_order_relaxed)) / 1e9,
                     call_count_.load(std::memory_order_relaxed));
}

void render_store_stats(const store::Stats& stats, std::chrono::system_clock::time_point now,
                        std::string& out) {
    auto it = std::back_inserter(out);
    out += "# HELP linkpilot_jobs Jobs in the state store by state and action.\n";
    out += "# TYPE linkpilot_jobs gauge\n";
    for (const auto& c : stats.jobs) {
        fmt::format_to(it, "linkpilot_jobs{{state=\"{}\",action=\"{}\"}} {}\n", c.state, c.action,
                       c.count);
    }
    double age = 0;
    if (stats.oldest_pending_created_at && *stats.oldest_pending_created_at < now) {
        age = std::chrono::duration<double>(now - *stats.oldest_pending_created_at).count();
    }
    out += "# HELP linkpilot_jobs_oldest_pending_seconds Age of the oldest pending job.\n";
    out += "# TYPE linkpilot_jobs_oldest_pending_seconds gauge\n";
    fmt::format_to(it, "linkpilot_jobs_oldest_pending_seconds {}\n", age);
}

}  // namespace linkpilot::jobs
