#include "daemon/ingress/github/parse.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>

#include "daemon/ingress/json_access.hpp"

namespace linkpilot::ingress::github {

namespace {

namespace json = boost::json;
using Result = Expected<events::Event, std::string>;
using json_access::find_string;
using json_access::first_non_empty;
using json_access::get_array;
using json_access::get_bool;
using json_access::get_int;
using json_access::get_object;
using json_access::get_string;

// GitHub's push documentation has said "The array includes a maximum of 20 commits" (the text
// now adds that this limit applies to timeline events, and the current schema says 2048 for
// webhook deliveries). Without a total count in the payload we cannot tell a complete list from
// a truncated one, so any push of 20 or more commits is treated as possibly truncated: rules on
// `paths` then know the file list may be partial. Being wrong costs a conservative match only.
constexpr std::size_t kMaxTrustedCommits = 20;
// Per commit, GitHub reports at most 3000 changed files in added/modified/removed.
constexpr std::size_t kMaxFilesPerCommit = 3000;

std::string login_of(const json::object* o, std::string_view key) {
    return get_string(get_object(o, key), "login");
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

std::optional<std::int64_t> first_pr_number(const json::object* run) {
    if (const json::array* prs = get_array(run, "pull_requests")) {
        for (const auto& pr : *prs) {
            if (auto n = get_int(pr.if_object(), "number")) {
                return n;
            }
        }
    }
    return std::nullopt;
}

events::Event base_event(std::string_view event_header, const json::object& payload) {
    events::Event e;
    e.provider = events::Provider::github;
    e.event_name = std::string(event_header);
    e.repo = get_string(get_object(&payload, "repository"), "full_name");
    e.author = login_of(&payload, "sender");
    return e;
}

Result require_repo(std::string_view what) {
    return Unexpected{std::string(what) + ": missing repository.full_name"};
}

Result parse_push(events::Event e, const json::object& payload) {
    if (e.repo.empty()) {
        return require_repo("push");
    }
    auto ref = find_string(&payload, "ref");
    if (!ref) {
        return Unexpected{std::string("push: missing ref")};
    }
    if (e.author.empty()) {
        e.author = get_string(get_object(&payload, "pusher"), "name");
    }
    e.sha = get_string(&payload, "after");
    const bool deleted = get_bool(&payload, "deleted");
    // head_commit is null on deletions.
    std::string message = get_string(get_object(&payload, "head_commit"), "message");

    constexpr std::string_view kHeads = "refs/heads/";
    constexpr std::string_view kTags = "refs/tags/";
    if (starts_with(*ref, kTags)) {
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
    bool per_commit_cap_hit = false;
    const json::array* commits = get_array(&payload, "commits");
    if (commits != nullptr) {
        for (const auto& c : *commits) {
            const json::object* commit = c.if_object();
            for (std::string_view key : {"added", "modified", "removed"}) {
                const json::array* list = get_array(commit, key);
                if (list == nullptr) {
                    continue;
                }
                if (list->size() >= kMaxFilesPerCommit) {
                    per_commit_cap_hit = true;
                }
                for (const auto& f : *list) {
                    if (f.is_string()) {
                        files.emplace(f.get_string());
                    }
                }
            }
        }
    }
    push.changed_files.assign(files.begin(), files.end());
    const std::size_t n = commits != nullptr ? commits->size() : 0;
    push.files_complete = n > 0 && n < kMaxTrustedCommits && !deleted && !per_commit_cap_hit;
    e.body = std::move(push);
    return e;
}

Result parse_release(events::Event e, const json::object& payload) {
    const json::object* release = get_object(&payload, "release");
    std::string action = get_string(&payload, "action");
    if (action != "published") {
        e.body = events::Ignored{"release action " + (action.empty() ? "(none)" : action) +
                                 " is not handled"};
        return e;
    }
    if (e.repo.empty()) {
        return require_repo("release");
    }
    auto tag = find_string(release, "tag_name");
    if (!tag || tag->empty()) {
        return Unexpected{std::string("release: missing release.tag_name")};
    }
    e.author = first_non_empty({login_of(release, "author"), e.author});
    // A release carries no commit message; its title is the closest thing a rule can match.
    e.body = events::Tag{*tag, "published", get_string(release, "name")};
    return e;
}

std::string normalise_pr_action(const std::string& action, const json::object* pr) {
    if (action == "closed") {
        return get_bool(pr, "merged") ? "merged" : "closed";
    }
    return action;
}

Result parse_pull_request(events::Event e, const json::object& payload) {
    if (e.repo.empty()) {
        return require_repo("pull_request");
    }
    const json::object* pr = get_object(&payload, "pull_request");
    if (pr == nullptr) {
        return Unexpected{std::string("pull_request: missing pull_request object")};
    }
    auto number = get_int(&payload, "number");
    if (!number) {
        number = get_int(pr, "number");
    }
    if (!number) {
        return Unexpected{std::string("pull_request: missing number")};
    }
    const json::object* head = get_object(pr, "head");
    const json::object* base = get_object(pr, "base");

    events::PullRequest out;
    out.number = *number;
    out.action = normalise_pr_action(get_string(&payload, "action"), pr);
    out.branch = get_string(head, "ref");
    out.base = get_string(base, "ref");
    out.title = get_string(pr, "title");
    if (const json::array* labels = get_array(pr, "labels")) {
        for (const auto& l : *labels) {
            if (auto name = find_string(l.if_object(), "name")) {
                out.labels.push_back(std::move(*name));
            }
        }
    }
    out.draft = get_bool(pr, "draft");
    // head.repo is null when the fork was deleted: that is still a fork, never trusted.
    const json::object* head_repo = get_object(head, "repo");
    std::string base_repo =
        first_non_empty({get_string(get_object(base, "repo"), "full_name"), e.repo});
    out.fork = head_repo == nullptr || get_string(head_repo, "full_name") != base_repo;

    e.author = first_non_empty({login_of(pr, "user"), e.author});
    e.sha = get_string(head, "sha");
    e.body = std::move(out);
    return e;
}

// Shared by workflow_run and check_suite: status is the conclusion once completed.
std::string ci_status(const std::string& action, const json::object* run) {
    if (action == "completed") {
        return first_non_empty({get_string(run, "conclusion"), get_string(run, "status")});
    }
    return get_string(run, "status");
}

Result parse_workflow_run(events::Event e, const json::object& payload) {
    if (e.repo.empty()) {
        return require_repo("workflow_run");
    }
    const json::object* run = get_object(&payload, "workflow_run");
    if (run == nullptr) {
        return Unexpected{std::string("workflow_run: missing workflow_run object")};
    }
    events::Ci ci;
    ci.branch = get_string(run, "head_branch");
    ci.action = get_string(&payload, "action");
    // workflow_run.name can be "" (see the octokit example); the workflow file's name is next.
    ci.workflow = first_non_empty(
        {get_string(run, "name"), get_string(get_object(&payload, "workflow"), "name")});
    ci.status = ci_status(ci.action, run);
    ci.pr_number = first_pr_number(run);
    e.sha = get_string(run, "head_sha");
    e.author = first_non_empty({login_of(run, "actor"), e.author});
    e.body = std::move(ci);
    return e;
}

Result parse_check_suite(events::Event e, const json::object& payload) {
    if (e.repo.empty()) {
        return require_repo("check_suite");
    }
    const json::object* suite = get_object(&payload, "check_suite");
    if (suite == nullptr) {
        return Unexpected{std::string("check_suite: missing check_suite object")};
    }
    events::Ci ci;
    ci.branch = get_string(suite, "head_branch");  // null for suites on a detached commit
    ci.action = get_string(&payload, "action");
    ci.workflow = get_string(get_object(suite, "app"), "name");
    ci.status = ci_status(ci.action, suite);
    ci.pr_number = first_pr_number(suite);
    e.sha = get_string(suite, "head_sha");
    e.body = std::move(ci);
    return e;
}

}  // namespace

Expected<events::Event, std::string> parse(std::string_view event_header,
                                           const boost::json::object& payload) {
    if (event_header.empty()) {
        return Unexpected{std::string("missing X-GitHub-Event header")};
    }
    events::Event e = base_event(event_header, payload);
    if (event_header == "push") {
        return parse_push(std::move(e), payload);
    }
    if (event_header == "pull_request") {
        return parse_pull_request(std::move(e), payload);
    }
    if (event_header == "workflow_run") {
        return parse_workflow_run(std::move(e), payload);
    }
    if (event_header == "check_suite") {
        return parse_check_suite(std::move(e), payload);
    }
    if (event_header == "release") {
        return parse_release(std::move(e), payload);
    }
    if (event_header == "ping") {
        // Organisation and app hooks ping without a repository: that is fine.
        e.body = events::Ping{};
        return e;
    }
    e.body = events::Ignored{"event " + std::string(event_header) + " is not handled"};
    return e;
}

}  // namespace linkpilot::ingress::github
