#include "daemon/jobs/metrics.hpp"

#include <fmt/format.h>

#include <array>
#include <iterator>

namespace linkpilot::jobs {

namespace {

constexpr std::array<rules::ActionKind, kActionCount> kActions{
    rules::ActionKind::deploy, rules::ActionKind::review_app, rules::ActionKind::delete_review_app};
constexpr std::array<Outcome, kOutcomeCount> kOutcomes{Outcome::started,  Outcome::done,
                                                       Outcome::failed,   Outcome::rescheduled,
                                                       Outcome::deferred, Outcome::skipped};

std::size_t index(rules::ActionKind a) { return static_cast<std::size_t>(a); }
std::size_t index(Outcome o) { return static_cast<std::size_t>(o); }

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

void Metrics::count(rules::ActionKind action, Outcome outcome) {
    jobs_[index(action)][index(outcome)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_attempt(rules::ActionKind action) {
    attempts_[index(action)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t Metrics::jobs(rules::ActionKind action, Outcome outcome) const {
    return jobs_[index(action)][index(outcome)].load(std::memory_order_relaxed);
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
