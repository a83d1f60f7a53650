// `linkpilot retry JOB_ID` (SPEC 1): a failed (dead-lettered) job goes back in the queue. The
// running daemon picks it up at its next poll (at most a second later).
#include <charconv>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/app/open_state.hpp"
#include "daemon/store/sqlite_store.hpp"

namespace linkpilot::app {

std::optional<std::int64_t> parse_job_id(const std::string& text) {
    std::int64_t id = 0;
    const auto* begin = text.data();
    const auto* end = begin + text.size();
    const auto [ptr, ec] = std::from_chars(begin, end, id);
    if (text.empty() || ec != std::errc{} || ptr != end || id <= 0) {
        return std::nullopt;
    }
    return id;
}

int run_retry(const RetryOptions& o) {
    const auto parsed = parse_job_id(o.job_id);
    if (!parsed) {
        std::cerr << "linkpilot: retry: \"" << o.job_id << "\" is not a job id\n";
        return kExitError;
    }
    const std::int64_t id = *parsed;
    auto db = open_state(o.config, "retry");
    if (!db) {
        return kExitError;
    }
    auto job = db->get_job(id);
    if (!job) {
        std::cerr << "linkpilot: retry: " << job.error().message << "\n";
        return kExitError;
    }
    if (!*job) {
        std::cerr << "linkpilot: retry: no job " << id << "\n";
        return kExitError;
    }
    if ((*job)->state != store::kStateFailed) {
        std::cerr << "linkpilot: retry: job " << id << " is " << (*job)->state
                  << "; only failed jobs can be retried\n";
        return kExitError;
    }
    auto done = db->retry(id, std::chrono::system_clock::now());
    if (!done) {
        std::cerr << "linkpilot: retry: job " << id << ": " << done.error().message << "\n";
        return kExitError;
    }
    std::cout << "job " << id << " (" << (*job)->action << " " << (*job)->app
              << ") is pending again\n";
    return kExitOk;
}

}  // namespace linkpilot::app
