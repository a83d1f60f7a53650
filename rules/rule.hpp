#pragma once

// Compiled rules: what the config library builds from YAML and the engine evaluates.
// Plain data; every pattern and template is already compiled.

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "events/event.hpp"
#include "rules/pattern.hpp"
#include "rules/template.hpp"

namespace linkpilot::rules {

enum class ConditionKey {
    provider,
    repo,
    branch,
    base,
    tag,
    action,
    labels,
    author,
    draft,
    fork,
    paths,
    message,
    workflow,
    status,
    payload,
};

std::string_view to_string(ConditionKey k);
std::optional<ConditionKey> condition_key_from_string(std::string_view s);
// SPEC 2.2's "applies to" column.
bool condition_applies(ConditionKey key, events::Kind kind);

// labels: every `all_of` pattern matches some label; some `any_of` matches; no `none_of` does.
struct LabelsCondition {
    std::vector<Pattern> all_of;
    std::vector<Pattern> any_of;
    std::vector<Pattern> none_of;
};

// payload: JSON pointer into the raw payload -> pattern list on its value (strings as is,
// numbers and booleans in their JSON text form; a missing key never matches).
struct PayloadCondition {
    std::string pointer;
    PatternList patterns;
};

struct Condition {
    ConditionKey key = ConditionKey::repo;
    // PatternList for string keys, LabelsCondition, bool (draft/fork), payload list.
    std::variant<PatternList, LabelsCondition, bool, std::vector<PayloadCondition>> test;
};

enum class ActionKind { deploy, review_app, delete_review_app };
std::string_view to_string(ActionKind k);

struct ActionSpec {
    ActionKind kind = ActionKind::deploy;
    Template app;
    std::optional<Template> branch;  // deploy only; defaults to the event's branch or tag
};

struct Rule {
    std::string name;
    events::Kind on = events::Kind::push;
    std::vector<Condition> conditions;  // in file order, AND-ed
    ActionSpec action;
    std::optional<std::chrono::milliseconds> debounce;
    bool stop = false;
};

struct RuleSet {
    std::optional<PatternList> repos;  // allowlist; absent = every repository
    std::vector<Rule> rules;
};

}  // namespace linkpilot::rules
