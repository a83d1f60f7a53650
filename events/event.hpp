#pragma once

// The normalised event model (SPEC 2.1). Forge parsers produce it; the rules engine, the store
// and the job executor consume it. Nothing here knows about GitHub or GitLab payload shapes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace linkpilot::events {

enum class Provider { github, gitlab };

// The `on:` kinds a rule can name. `ping` and `ignored` are recorded but never matched.
enum class Kind { push, tag, pull_request, ci, ping, ignored };

std::string_view to_string(Provider p);
std::string_view to_string(Kind k);
// Only the four matchable kinds: push, tag, pull_request, ci.
std::optional<Kind> rule_kind_from_string(std::string_view s);

// Branch push (`refs/heads/*`). action: "pushed" or "deleted".
struct Push {
    std::string branch;
    std::string action;
    std::string before;
    std::string message;  // head commit message ("" when there is none, e.g. deletion)
    // Union of added, modified and removed files over the push's commits, sorted, unique.
    std::vector<std::string> changed_files;
    // False when the forge may have truncated the commit list (or sent none), so
    // `changed_files` cannot be trusted to be complete. See docs/rules.md.
    bool files_complete = true;
};

// Tag push or release. action: "created", "deleted" (recorded, never matched) or "published".
struct Tag {
    std::string tag;
    std::string action;
    std::string message;
};

// Normalised actions: opened, reopened, synchronize, closed, merged, labeled, unlabeled,
// edited, ready_for_review, converted_to_draft; anything else is kept verbatim.
struct PullRequest {
    std::int64_t number = 0;  // GitHub `number`, GitLab `iid`: the one users see
    std::string action;
    std::string branch;  // head / source branch
    std::string base;    // target branch
    std::string title;
    std::vector<std::string> labels;
    bool draft = false;
    bool fork = false;
};

// CI result: GitHub workflow_run / check_suite, GitLab pipeline.
// action: "completed" when finished, else the forge's action/status ("requested", "running").
struct Ci {
    std::string branch;
    std::string action;
    std::string workflow;
    std::string status;  // success, failure, cancelled, skipped, ...
    std::optional<std::int64_t> pr_number;
};

struct Ping {};

// An event we acknowledge and record but that no rule can match.
struct Ignored {
    std::string reason;
};

using Body = std::variant<Push, Tag, PullRequest, Ci, Ping, Ignored>;

struct Event {
    Provider provider = Provider::github;
    std::string event_name;  // the X-GitHub-Event / X-Gitlab-Event header, verbatim
    std::string repo;        // owner/name (GitLab: path_with_namespace)
    std::string author;      // pusher login / PR author / CI actor
    std::string sha;         // head commit
    Body body;

    [[nodiscard]] Kind kind() const;
    // Last path segment of `repo`, and everything before it.
    [[nodiscard]] std::string_view repo_name() const;
    [[nodiscard]] std::string_view repo_owner() const;
};

}  // namespace linkpilot::events
