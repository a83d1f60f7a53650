#pragma once

// Plain answers of the Scalingo API calls linkpilot makes (SPEC section 4), with the real field
// names of Scalingo's JSON. Unset dates ("0001-01-01T00:00:00Z") are std::nullopt.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linkpilot::scalingo {

using TimePoint = std::chrono::system_clock::time_point;

// Scalingo names a review app "{parent}-pr{N}" (SPEC 2.3).
[[nodiscard]] std::string review_app_name(std::string_view parent, std::uint64_t pull_request);
// N back from such a name; nullopt when `name` is not one of `parent`'s review apps.
[[nodiscard]] std::optional<std::uint64_t> review_app_number(std::string_view parent,
                                                             std::string_view name);

struct Deployment {
    std::string id;
    std::string app_id;
    std::string status;   // queued, building, success, build-error, ...
    std::string git_ref;  // branch or commit
    std::optional<TimePoint> created_at;
};

struct PullRequest {
    std::uint64_t number = 0;
    std::string title;
    std::string branch_name;
    std::string html_url;
    std::string ref;
    std::string base_ref;
    std::optional<TimePoint> created_at;
    std::optional<TimePoint> closed_at;  // unset while open
};

struct ReviewApp {
    std::string id;
    std::string app_id;
    std::string app_name;  // "{parent}-pr{N}"
    std::string parent_app_id;
    std::string parent_app_name;
    std::optional<TimePoint> created_at;
    std::optional<TimePoint> stale_deletion_date;
    std::optional<TimePoint> on_close_deletion_date;
    std::optional<PullRequest> pull_request;
    std::optional<Deployment> last_deployment;
};

struct ScmRepoLink {
    std::string id;
    std::string app_id;
    std::string scm_type;  // github, gitlab, github-enterprise, gitlab-self-hosted
    std::string owner;
    std::string repo;
    std::string branch;
    bool auto_deploy_enabled = false;
    bool deploy_review_apps_enabled = false;
    bool delete_on_close_enabled = false;
    bool delete_stale_enabled = false;
    std::uint32_t hours_before_delete_on_close = 0;
    std::uint32_t hours_before_delete_stale = 0;
    std::optional<TimePoint> created_at;
    std::optional<TimePoint> updated_at;
    std::optional<TimePoint> last_auto_deploy_at;
};

// Scalingo's `meta.pagination` object.
struct Pagination {
    std::uint32_t current_page = 1;
    std::optional<std::uint32_t> prev_page;
    std::optional<std::uint32_t> next_page;  // null on the last page
    std::uint32_t total_pages = 1;
    std::uint32_t total_count = 0;
};

template <class T>
struct Page {
    std::vector<T> items;
    Pagination pagination;
};

}  // namespace linkpilot::scalingo
