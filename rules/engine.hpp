#pragma once

// The rules engine (SPEC 2.2, 2.3): a pure function from a normalised event (and its raw
// payload, for `payload:` conditions) to verdicts and rendered actions. No I/O, no clock.

#include <boost/json/fwd.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "rules/rule.hpp"

namespace linkpilot::rules {

// One action ready to become a job.
struct Action {
    ActionKind kind = ActionKind::deploy;
    std::string rule;    // name of the rule that produced it (the first one, after collapsing)
    std::string app;     // rendered, validated app name
    std::string branch;  // deploy: rendered branch; empty otherwise
    std::int64_t pr_number = 0;  // review_app / delete_review_app
    std::optional<std::chrono::milliseconds> debounce;

    friend bool operator==(const Action&, const Action&) = default;
};

struct RuleVerdict {
    std::string rule;
    bool matched = false;
    // Empty when matched; else why not, e.g. `branch: "feature/x" does not match "main"`,
    // `on: pull_request, event is push`, `not evaluated: rule "x" above has stop: true`,
    // or a render error such as an invalid app name.
    std::string reason;
};

struct Evaluation {
    bool repo_allowed = true;
    std::string repo_reason;            // e.g. `repo "acme/legacy" excluded by "!acme/legacy"`
    std::vector<RuleVerdict> verdicts;  // one per rule, in file order
    std::vector<Action> actions;        // deduplicated, in file order
};

// How much evaluate() records. `explain` needs a reason for every rule; the ingress needs only
// the actions (the delivery's payload is stored, so `explain --delivery` re-evaluates with
// reasons). A reason costs an allocation per rule, which dominates with many rules.
enum class Detail {
    reasons,       // verdicts for every rule, with reasons
    actions_only,  // `verdicts` stays empty; repo_allowed, repo_reason and actions are the same
};

// `payload` may be null (then `payload:` conditions do not match).
Evaluation evaluate(const RuleSet& rules, const events::Event& event,
                    const boost::json::value* payload, Detail detail = Detail::reasons);

// Scalingo app names: checked on rendered names before any call.
// Returns an error message, or nullopt when valid.
std::optional<std::string> check_app_name(std::string_view name);

}  // namespace linkpilot::rules
