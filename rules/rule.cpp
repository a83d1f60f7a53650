#include "rules/rule.hpp"

#include <array>
#include <utility>

namespace linkpilot::rules {

namespace {

constexpr std::array<std::pair<std::string_view, ConditionKey>, 15> kKeys{{
    {"provider", ConditionKey::provider},
    {"repo", ConditionKey::repo},
    {"branch", ConditionKey::branch},
    {"base", ConditionKey::base},
    {"tag", ConditionKey::tag},
    {"action", ConditionKey::action},
    {"labels", ConditionKey::labels},
    {"author", ConditionKey::author},
    {"draft", ConditionKey::draft},
    {"fork", ConditionKey::fork},
    {"paths", ConditionKey::paths},
    {"message", ConditionKey::message},
    {"workflow", ConditionKey::workflow},
    {"status", ConditionKey::status},
    {"payload", ConditionKey::payload},
}};

}  // namespace

std::string_view to_string(ConditionKey k) {
    for (const auto& [name, key] : kKeys) {
        if (key == k) {
            return name;
        }
    }
    return "?";
}

std::optional<ConditionKey> condition_key_from_string(std::string_view s) {
    for (const auto& [name, key] : kKeys) {
        if (name == s) {
            return key;
        }
    }
    return std::nullopt;
}

bool condition_applies(ConditionKey key, events::Kind kind) {
    using events::Kind;
    switch (key) {
        case ConditionKey::provider:
        case ConditionKey::repo:
        case ConditionKey::author:
        case ConditionKey::payload:
            return true;
        case ConditionKey::branch:
        case ConditionKey::action:
            return kind == Kind::push || kind == Kind::pull_request || kind == Kind::ci;
        case ConditionKey::base:
        case ConditionKey::labels:
        case ConditionKey::draft:
        case ConditionKey::fork:
            return kind == Kind::pull_request;
        case ConditionKey::tag:
            return kind == Kind::tag;
        case ConditionKey::paths:
            return kind == Kind::push;
        case ConditionKey::message:
            return kind == Kind::push || kind == Kind::tag;
        case ConditionKey::workflow:
        case ConditionKey::status:
            return kind == Kind::ci;
    }
    return false;
}

std::string_view to_string(ActionKind k) {
    switch (k) {
        case ActionKind::deploy:
            return "deploy";
        case ActionKind::review_app:
            return "review_app";
        case ActionKind::delete_review_app:
            return "delete_review_app";
    }
    return "?";
}

}  // namespace linkpilot::rules
