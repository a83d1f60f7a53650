#include "daemon/ingress/gitlab/parse.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>

#include "daemon/ingress/json_access.hpp"

namespace linkpilot::ingress::gitlab {

namespace {

namespace json = boost::json;
using Result = Expected<events::Event, std::string>;
using json_access::find_bool;
using json_access::find_string;
using json_access::first_non_empty;
using json_access::get_array;
using json_access::get_bool;
using json_access::get_int;
using json_access::get_object;
using json_access::get_string;

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// GitLab marks a deleted ref with an all-zero `after`.
bool is_zero_sha(std::string_view sha) {
    return !sha.empty() && std::all_of(sha.begin(), sha.end(), [](char c) { return c == '0'; });
}

std::string username(const json::object& payload) {
    return first_non_empty({get_string(get_object(&payload, "user"), "username"),
                            get_string(&payload, "user_username")});
}

events::Event base_event(std::string_view event_header, const json::object& payload) {
    events::Event e;
    e.provider = events::Provider::gitlab;
    e.event_name = std::string(event_header);
    e.repo = get_string(get_object(&payload, "project"), "path_with_namespace");
    e.author = username(payload);
    return e;
}

Result require_project(std::string_view what) {
    return Unexpected{std::string(what) + ": missing project.path_with_namespace"};
}

// The message of the commit `after` points at, else the last listed commit's.
std::string head_message(const json::array* commits, std::string_view after) {
    if (commits == nullptr || commits->empty()) {
        return "";
    }
    for (const auto& c : *commits) {
        const json::object* commit = c.if_object();
        if (get_string(commit, "id") == after) {
            return get_string(commit, "message");
        }
    }
    return get_string(commits->back().if_object(), "message");
}

// Push Hook and Tag Push Hook share one shape; the ref decides what it is.
Result parse_push(events::Event e, const json::object& payload) {
    if (e.repo.empty()) {
        return require_project("push");
    }
    auto ref = find_string(&payload, "ref");
    if (!ref) {
        return Unexpected{std::string("push: missing ref")};
    }
    e.author = first_non_empty({get_string(&payload, "user_username"), e.author});
    const std::string after = get_string(&payload, "after");
    const bool deleted = is_zero_sha(after);
    e.sha = first_non_empty({get_string(&payload, "checkout_sha"), after});
    const json::array* commits = get_array(&payload, "commits");
    std::string message = head_message(commits, after);

    constexpr std::string_view kHeads = "refs/heads/";
    constexpr std::string_view kTags = "refs/tags/";
    if (starts_with(*ref, kTags)) {
        if (message.empty()) {
            message = get_string(&payload, "message");  // annotated tag message, if any
        }
        e.body = events::Tag{ref->substr(kTags.size()), deleted ? "deleted" : "created",
                             std::move(message)};
        return e;
    }
    if (!starts_with(*ref, kHeads)) {
        e.body = events::Ignored{"push to " + *ref + " is not handled"};
        return e;
    }

    events::Push push;
    push.branch = ref->substr(kHeads.size());
    push.action = deleted ? "deleted" : "pushed";
    push.before = get_string(&payload, "before");
    push.message = std::move(message);
    std::set<std::string> files;
    if (commits != nullptr) {
        for (const auto& c : *commits) {
            for (std::string_view key : {"added", "modified", "removed"}) {
                if (const json::array* list = get_array(c.if_object(), key)) {
                    for (const auto& f : *list) {
                        if (f.is_string()) {
                            files.emplace(f.get_string());
                        }
                    }
                }
            }
        }
    }
    push.changed_files.assign(files.begin(), files.end());
    // GitLab lists at most 20 commits but reports the real total: a shorter list is truncated.
    const std::size_t n = commits != nullptr ? commits->size() : 0;
    auto total = get_int(&payload, "total_commits_count");
    push.files_complete = n > 0 && total && *total >= 0 && static_cast<std::size_t>(*total) == n;
    e.body = std::move(push);
    return e;
}

std::set<std::string> label_titles(const json::array* labels) {
    std::set<std::string> out;
    if (labels != nullptr) {
        for (const auto& l : *labels) {
            if (auto t = find_string(l.if_object(), "title")) {
                out.insert(std::move(*t));
            }
        }
    }
    return out;
}

// What an `update` without new commits changed: labels first, then the draft flag.
std::string classify_update(const json::object& payload) {
    const json::object* changes = get_object(&payload, "changes");
    if (const json::object* labels = get_object(changes, "labels")) {
        auto previous = label_titles(get_array(labels, "previous"));
        auto current = label_titles(get_array(labels, "current"));
        bool added = std::any_of(current.begin(), current.end(),
                                 [&](const auto& t) { return previous.count(t) == 0; });
        bool removed = std::any_of(previous.begin(), previous.end(),
                                   [&](const auto& t) { return current.count(t) == 0; });
        if (added) {
            return "labeled";
        }
        if (removed) {
            return "unlabeled";
        }
    }
    for (std::string_view key : {"draft", "work_in_progress"}) {
        const json::object* change = get_object(changes, key);
        auto previous = find_bool(change, "previous");
        auto current = find_bool(change, "current");
        if (previous && current && *previous != *current) {
            return *current ? "converted_to_draft" : "ready_for_review";
        }
    }
    return "edited";
}

std::string normalise_mr_action(const json::object& payload, const json::object* attrs) {
    std::string action = get_string(attrs, "action");
    if (action == "open") {
        return "opened";
    }
    if (action == "reopen") {
        return "reopened";
    }
    if (action == "close") {
        return "closed";
    }
    if (action == "merge") {
        return "merged";
    }
    if (action == "update") {
        // oldrev is only present when the update pushed new commits.
        return get_string(attrs, "oldrev").empty() ? classify_update(payload) : "synchronize";
    }
    return action;
}

bool is_fork(const json::object* attrs) {
    auto source = get_int(attrs, "source_project_id");
    auto target = get_int(attrs, "target_project_id");
    if (source && target) {
        return *source != *target;
    }
    std::string source_path = get_string(get_object(attrs, "source"), "path_with_namespace");
    std::string target_path = get_string(get_object(attrs, "target"), "path_with_namespace");
    return !source_path.empty() && !target_path.empty() && source_path != target_path;
}

Result parse_merge_request(events::Event e, const json::object& payload) {
    if (e.repo.empty()) {
        return require_project("merge request");
    }
    const json::object* attrs = get_object(&payload, "object_attributes");
    if (attrs == nullptr) {
        return Unexpected{std::string("merge request: missing object_attributes")};
    }
    auto iid = get_int(attrs, "iid");
    if (!iid) {
        return Unexpected{std::string("merge request: missing object_attributes.iid")};
    }
    events::PullRequest pr;
    pr.number = *iid;
    pr.action = normalise_mr_action(payload, attrs);
    pr.branch = get_string(attrs, "source_branch");
    pr.base = get_string(attrs, "target_branch");
    pr.title = get_string(attrs, "title");
    const json::array* labels = get_array(&payload, "labels");
    if (labels == nullptr) {
        labels = get_array(attrs, "labels");
    }
    if (labels != nullptr) {
        for (const auto& l : *labels) {
            if (auto t = find_string(l.if_object(), "title")) {
                pr.labels.push_back(std::move(*t));
            }
        }
    }
    // `work_in_progress` is the pre-14.0 name of `draft`; older servers send only that.
    pr.draft = get_bool(attrs, "draft") || get_bool(attrs, "work_in_progress");
    pr.fork = is_fork(attrs);
    e.sha = get_string(get_object(attrs, "last_commit"), "id");
    e.body = std::move(pr);
    return e;
}

std::string pipeline_action(const std::string& status) {
    if (status == "success" || status == "failed" || status == "canceled" || status == "skipped") {
        return "completed";
    }
    return status;
}

std::string pipeline_status(const std::string& status) {
    if (status == "failed") {
        return "failure";
    }
    if (status == "canceled") {
        return "cancelled";
    }
    return status;
}

Result parse_pipeline(events::Event e, const json::object& payload) {
    if (e.repo.empty()) {
        return require_project("pipeline");
    }
    const json::object* attrs = get_object(&payload, "object_attributes");
    if (attrs == nullptr) {
        return Unexpected{std::string("pipeline: missing object_attributes")};
    }
    const std::string status = get_string(attrs, "status");
    events::Ci ci;
    ci.branch = get_string(attrs, "ref");
    ci.action = pipeline_action(status);
    ci.status = pipeline_status(status);
    ci.workflow = get_string(attrs, "name");  // absent before GitLab 16.1, and often null
    // merge_request is null for branch pipelines.
    if (const json::object* mr = get_object(&payload, "merge_request")) {
        ci.pr_number = get_int(mr, "iid");
    }
    e.sha = get_string(attrs, "sha");
    e.body = std::move(ci);
    return e;
}

}  // namespace

Expected<events::Event, std::string> parse(std::string_view event_header,
                                           const boost::json::object& payload) {
    if (event_header.empty()) {
        return Unexpected{std::string("missing X-Gitlab-Event header")};
    }
    events::Event e = base_event(event_header, payload);
    if (event_header == "Push Hook" || event_header == "Tag Push Hook") {
        return parse_push(std::move(e), payload);
    }
    if (event_header == "Merge Request Hook") {
        return parse_merge_request(std::move(e), payload);
    }
    if (event_header == "Pipeline Hook") {
        return parse_pipeline(std::move(e), payload);
    }
    e.body = events::Ignored{"event " + std::string(event_header) + " is not handled"};
    return e;
}

}  // namespace linkpilot::ingress::gitlab
