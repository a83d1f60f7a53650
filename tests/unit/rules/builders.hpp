#pragma once

// Hand-built rules and events for the engine's unit tests (the config library and the forge
// parsers are tested elsewhere; here each case states exactly the input it needs).

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "events/event.hpp"
#include "rules/engine.hpp"
#include "rules/rule.hpp"

namespace linkpilot::rules::test {

inline Pattern pat(std::string_view source, PatternSyntax syntax = PatternSyntax::text) {
    auto p = Pattern::compile(source, syntax);
    EXPECT_TRUE(p.has_value()) << source;
    return *p;
}

inline std::vector<Pattern> pats(std::initializer_list<const char*> items,
                                 PatternSyntax syntax = PatternSyntax::text) {
    std::vector<Pattern> out;
    for (const char* i : items) {
        out.push_back(pat(i, syntax));
    }
    return out;
}

inline PatternList plist(std::initializer_list<const char*> items,
                         PatternSyntax syntax = PatternSyntax::text) {
    return PatternList(pats(items, syntax));
}

inline Condition when(ConditionKey key, std::initializer_list<const char*> items) {
    auto syntax = key == ConditionKey::paths ? PatternSyntax::path : PatternSyntax::text;
    return Condition{key, plist(items, syntax)};
}

inline Condition when_bool(ConditionKey key, bool wanted) { return Condition{key, wanted}; }

inline Condition when_labels(std::initializer_list<const char*> all_of,
                             std::initializer_list<const char*> any_of = {},
                             std::initializer_list<const char*> none_of = {}) {
    return Condition{ConditionKey::labels,
                     LabelsCondition{pats(all_of), pats(any_of), pats(none_of)}};
}

inline Condition when_payload(
    std::initializer_list<std::pair<const char*, std::initializer_list<const char*>>> items) {
    std::vector<PayloadCondition> conds;
    for (const auto& [pointer, patterns] : items) {
        conds.push_back(PayloadCondition{pointer, plist(patterns)});
    }
    return Condition{ConditionKey::payload, std::move(conds)};
}

inline Template tpl(std::string_view source) {
    auto t = Template::compile(source);
    EXPECT_TRUE(t.has_value()) << source;
    return *t;
}

inline Rule rule(std::string name, events::Kind on, std::vector<Condition> conditions,
                 ActionKind kind = ActionKind::deploy, std::string_view app = "shop-staging") {
    Rule r;
    r.name = std::move(name);
    r.on = on;
    r.conditions = std::move(conditions);
    r.action.kind = kind;
    r.action.app = tpl(app);
    return r;
}

inline events::Event push_event(std::string branch = "main",
                                std::vector<std::string> files = {"app/models/user.rb"}) {
    events::Event e;
    e.provider = events::Provider::github;
    e.event_name = "push";
    e.repo = "acme/shop";
    e.author = "octocat";
    e.sha = "0123456789abcdef0123456789abcdef01234567";
    events::Push p;
    p.branch = std::move(branch);
    p.action = "pushed";
    p.before = "fedcba9876543210fedcba9876543210fedcba98";
    p.message = "Fix checkout\n\nCloses #12";
    p.changed_files = std::move(files);
    e.body = std::move(p);
    return e;
}

inline events::Event pr_event(std::vector<std::string> labels = {"preview"}) {
    events::Event e;
    e.provider = events::Provider::github;
    e.event_name = "pull_request";
    e.repo = "acme/shop";
    e.author = "octocat";
    e.sha = "89abcdef0123456789abcdef0123456789abcdef";
    events::PullRequest pr;
    pr.number = 42;
    pr.action = "labeled";
    pr.branch = "feature/cart";
    pr.base = "main";
    pr.title = "Add a cart";
    pr.labels = std::move(labels);
    e.body = std::move(pr);
    return e;
}

inline events::Event ci_event(std::string status = "success") {
    events::Event e;
    e.provider = events::Provider::gitlab;
    e.event_name = "Pipeline Hook";
    e.repo = "acme/group/shop";
    e.author = "root";
    e.sha = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    events::Ci ci;
    ci.branch = "main";
    ci.action = "completed";
    ci.workflow = "CI";
    ci.status = std::move(status);
    e.body = std::move(ci);
    return e;
}

inline events::Event tag_event(std::string action = "created") {
    events::Event e;
    e.provider = events::Provider::github;
    e.event_name = "push";
    e.repo = "acme/shop";
    e.author = "octocat";
    e.sha = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    events::Tag t;
    t.tag = "v1.2.0";
    t.action = std::move(action);
    t.message = "Release 1.2.0";
    e.body = std::move(t);
    return e;
}

}  // namespace linkpilot::rules::test
