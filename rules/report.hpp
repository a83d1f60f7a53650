#pragma once

// Human and machine forms of an evaluation, for `linkpilot explain` (SPEC 1) and the state
// store. Pure formatting: no I/O.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <string>

#include "events/event.hpp"
#include "rules/engine.hpp"

namespace linkpilot::rules {

// The normalised event as JSON: provider, kind, event (the header), repo, author, sha, then the
// body's fields flat (push: branch, action, before, message, changed_files, files_complete;
// tag: tag, action, message; pull_request: number, action, branch, base, title, labels, draft,
// fork; ci: branch, action, workflow, status, pr_number; ignored: reason).
boost::json::object event_to_json(const events::Event& event);

// One line: `github pull_request (labeled) acme/shop #42 head=feature/x by octocat at 0123abc`.
std::string describe_event(const events::Event& event);

// `deploy shop-staging branch=main (rule staging-follows-main, debounce 30s)`.
std::string describe_action(const Action& action);

// `30s`, `1m30s`, `2h`, `250ms`.
std::string format_duration(std::chrono::milliseconds d);

// True when a push's file list may be incomplete, so `paths:` conditions were treated as
// matched (docs/rules.md, "paths on truncated pushes"). Never for a branch deletion.
bool paths_fail_open(const events::Event& event);

// The text form of `explain`:
//   event: <describe_event>
//   repo: allowed | repo: not allowed: <reason>
//   rules:
//     <name>: match
//     <name>: no: <reason>
//   note: ... (incomplete file list)
//   actions:
//     <describe_action>        (or `actions: none`)
std::string render_text(const events::Event& event, const Evaluation& evaluation);

// {"event": {...}, "repo_allowed": bool, "repo_reason": str, "paths_fail_open": bool,
//  "rules": [{"name", "matched", "reason"}],
//  "actions": [{"action", "app", "branch", "pr_number", "rule", "debounce_ms"}]}
// (`branch` is null except for deploys, `pr_number` null for deploys, `debounce_ms` null
// without debounce).
boost::json::value render_json(const events::Event& event, const Evaluation& evaluation);

}  // namespace linkpilot::rules
