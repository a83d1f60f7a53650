#pragma once

// A job's action and arguments: the job an action of the rules becomes, and its arguments
// written to and read back from the store's strings. A library of its own (linkpilot_job_args),
// so the ingress and the pruner, which write jobs, need not link the executor that runs them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "daemon/store/store.hpp"
#include "rules/engine.hpp"
#include "rules/rule.hpp"

namespace linkpilot::jobs {

struct JobArgs {
    std::optional<std::string> branch;       // deploy
    std::optional<std::uint64_t> pr_number;  // review_app, delete_review_app
    // delete_review_app from the pruner: the exact review app to delete (no other one is), and
    // the activity date the sweep saw (newer activity since then means the app is in use again
    // and is kept).
    std::optional<std::string> review_app;
    std::optional<std::chrono::system_clock::time_point> activity_at;
};

// {"branch": "main"}, {"pr_number": 42} (a number, or a string of digits),
// {"pr_number": 42, "review_app": "shop-staging-pr42", "activity_at": "2026-01-01T00:00:00Z"}.
// Unknown keys are ignored so that newer writers do not break older readers.
[[nodiscard]] Expected<JobArgs, std::string> parse_args(std::string_view text);
// The JSON object parse_args reads back (unset fields left out).
[[nodiscard]] std::string serialize_args(const JobArgs& args);

// The job an action of the rules becomes (SPEC 2.3, 2.4): its arguments, and when the rule
// debounces, the debounce key (action, app, and branch or PR).
[[nodiscard]] store::NewJob job_for(const rules::Action& action);

// "deploy" | "review_app" | "delete_review_app".
[[nodiscard]] std::optional<rules::ActionKind> action_from_string(std::string_view action);

}  // namespace linkpilot::jobs
