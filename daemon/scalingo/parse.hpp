#pragma once

// Scalingo's JSON answers -> plain structs. Unknown fields are ignored, missing optional ones
// keep their defaults; a missing required field or malformed JSON is an error string.

#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "daemon/scalingo/types.hpp"

namespace linkpilot::scalingo {

// RFC 3339 ("2024-03-01T10:00:00Z", "2024-03-01T11:00:00.123+01:00"); Go's zero time
// "0001-01-01T00:00:00Z" (and any year-1 date) is unset -> nullopt, as is a malformed date.
[[nodiscard]] std::optional<TimePoint> parse_time(std::string_view text);

// POST .../manual_deploy -> {"deployment": {...}}
[[nodiscard]] Expected<Deployment, std::string> parse_deployment_answer(std::string_view body);
// POST .../manual_review_app -> {"review_app": {...}}
[[nodiscard]] Expected<ReviewApp, std::string> parse_review_app_answer(std::string_view body);
// GET .../review_apps -> {"review_apps": [...], "meta": {"pagination": {...}}?}
[[nodiscard]] Expected<Page<ReviewApp>, std::string> parse_review_apps_answer(
    std::string_view body);
// GET /v1/apps/{app}/scm_repo_link -> {"scm_repo_link": {...}}
[[nodiscard]] Expected<ScmRepoLink, std::string> parse_link_answer(std::string_view body);
// GET /v1/scm_repo_links -> {"scm_repo_links": [...], "meta": {"pagination": {...}}}
[[nodiscard]] Expected<Page<ScmRepoLink>, std::string> parse_links_answer(std::string_view body);
// POST {auth}/v1/tokens/exchange -> {"token": "JWT"}
[[nodiscard]] Expected<std::string, std::string> parse_exchange_answer(std::string_view body);

}  // namespace linkpilot::scalingo
