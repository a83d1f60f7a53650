#pragma once

// A stored job's action and arguments, read back from the store's strings.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "rules/rule.hpp"

namespace linkpilot::jobs {

struct JobArgs {
    std::optional<std::string> branch;       // deploy
    std::optional<std::uint64_t> pr_number;  // review_app, delete_review_app
};

// {"branch": "main"}, {"pr_number": 42} (a number, or a string of digits). Unknown keys are
// ignored so that newer writers do not break older readers.
[[nodiscard]] Expected<JobArgs, std::string> parse_args(std::string_view json);

// "deploy" | "review_app" | "delete_review_app".
[[nodiscard]] std::optional<rules::ActionKind> action_from_string(std::string_view action);

}  // namespace linkpilot::jobs
