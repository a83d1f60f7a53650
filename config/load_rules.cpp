// The `rules:` section: each rule's event, conditions and action, compiled for rules::evaluate.

#include <array>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "config/detail/sections.hpp"
#include "rules/engine.hpp"

namespace linkpilot::config::detail {
namespace {

// The `if:` keys are the rules library's condition keys, in its order: the table it reads
// them with (rules::condition_key_from_string) is the one the unknown-key check lists.
std::vector<std::string_view> condition_names() {
    std::vector<std::string_view> out;
    for (int k = 0; k <= static_cast<int>(rules::ConditionKey::payload); ++k) {
        out.push_back(rules::to_string(static_cast<rules::ConditionKey>(k)));
    }
    return out;
}

// labels: { all: [...], any: [...], none: [...] }
struct LabelsDraft {
    rules::LabelsCondition& out;
    bool ok = true;
};

template <std::vector<rules::Pattern> rules::LabelsCondition::*slot>
void read_labels(Reader& r, const Entry& e, LabelsDraft& d) {
    auto p = r.pattern_vector(e.value, e.where);
    d.ok = d.ok && p.has_value();
    if (p) {
        d.out.*slot = std::move(*p);
    }
}

constexpr Fields<LabelsDraft, 3> kLabelsFields{{
    {"all", read_labels<&rules::LabelsCondition::all_of>},
    {"any", read_labels<&rules::LabelsCondition::any_of>},
    {"none", read_labels<&rules::LabelsCondition::none_of>},
}};

// For `on:`: the forges' own words first (`pr`, `merge_request`, `pipeline`, ...), where an
// edit distance would pick the wrong event (`pr` is as close to `ci` as to nothing else).
std::string suggest_event(std::string_view given) {
    const std::string s = lower_ascii(given);
    struct Alias {
        std::string_view word;
        std::string_view event;
    };
    static constexpr std::array<Alias, 16> kAliases{{
        {"pr", "pull_request"},
        {"prs", "pull_request"},
        {"pull", "pull_request"},
        {"pull_requests", "pull_request"},
        {"mr", "pull_request"},
        {"merge_request", "pull_request"},
        {"merge request hook", "pull_request"},
        {"pipeline", "ci"},
        {"pipeline hook", "ci"},
        {"workflow", "ci"},
        {"workflow_run", "ci"},
        {"check_suite", "ci"},
        {"release", "tag"},
        {"tags", "tag"},
        {"tag push hook", "tag"},
        {"push hook", "push"},
    }};
    for (const auto& a : kAliases) {
        if (a.word == s) {
            return " (did you mean \"" + std::string(a.event) + "\"?)";
        }
    }
    static constexpr std::array<std::string_view, 4> kEvents{"push", "tag", "pull_request", "ci"};
    return did_you_mean(s, kEvents);
}

std::string kinds_for(rules::ConditionKey key) {
    std::string out;
    for (auto k :
         {events::Kind::push, events::Kind::tag, events::Kind::pull_request, events::Kind::ci}) {
        if (rules::condition_applies(key, k)) {
            out += (out.empty() ? "" : ", ") + std::string(events::to_string(k));
        }
    }
    return out;
}

std::optional<rules::Template> parse_template(Reader& r, const YAML::Node& node,
                                              const std::string& where,
                                              std::optional<events::Kind> on) {
    auto s = r.string(node, where);
    if (!s) {
        return std::nullopt;
    }
    auto t = rules::Template::compile(*s);
    if (!t) {
        r.error(node.Mark(), where + ": " + t.error());
        return std::nullopt;
    }
    if (on) {
        for (auto var : t->variables()) {
            if (!rules::var_available(var, *on)) {
                r.error(node.Mark(), where + ": {{ " + std::string(rules::to_string(var)) +
                                         " }} is not available for on: " +
                                         std::string(events::to_string(*on)) + " events");
                return std::nullopt;
            }
        }
    }
    return std::move(*t);
}

std::optional<rules::Condition> parse_condition(Reader& r, rules::ConditionKey key,
                                                const YAML::Node& v, const std::string& where) {
    using rules::ConditionKey;
    rules::Condition c;
    c.key = key;
    switch (key) {
        case ConditionKey::draft:
        case ConditionKey::fork: {
            auto b = r.boolean(v, where);
            if (!b) {
                return std::nullopt;
            }
            c.test = *b;
            return c;
        }
        case ConditionKey::labels: {
            rules::LabelsCondition labels;
            if (v.IsMap()) {
                LabelsDraft d{labels};
                if (!r.read_map(v, where, kLabelsFields, d) || !d.ok) {
                    return std::nullopt;
                }
            } else {
                auto p = r.pattern_vector(v, where);
                if (!p) {
                    return std::nullopt;
                }
                labels.all_of = std::move(*p);
            }
            c.test = std::move(labels);
            return c;
        }
        case ConditionKey::payload: {
            if (!v.IsMap()) {
                r.error(v.Mark(),
                        where + ": expected a map of JSON pointer to pattern, got " + node_kind(v));
                return std::nullopt;
            }
            std::vector<rules::PayloadCondition> list;
            bool ok = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                const std::string ptr = it->first.Scalar();
                if (!ptr.empty() && ptr.front() != '/') {
                    r.error(it->first.Mark(), where + ": \"" + ptr +
                                                  "\" is not a JSON pointer (it starts with "
                                                  "/, e.g. /pull_request/user/type)");
                    ok = false;
                    continue;
                }
                auto p = r.patterns(it->second, where + "." + ptr, rules::PatternSyntax::text);
                if (!p) {
                    ok = false;
                    continue;
                }
                list.push_back({ptr, std::move(*p)});
            }
            if (!ok) {
                return std::nullopt;
            }
            c.test = std::move(list);
            return c;
        }
        default: {
            auto syntax = key == ConditionKey::paths ? rules::PatternSyntax::path
                                                     : rules::PatternSyntax::text;
            auto case_ = key == ConditionKey::repo ? rules::PatternCase::ignore
                                                   : rules::PatternCase::sensitive;
            auto p = r.patterns(v, where, syntax, case_);
            if (!p) {
                return std::nullopt;
            }
            c.test = std::move(*p);
            return c;
        }
    }
}

bool parse_conditions(Reader& r, const YAML::Node& n, const std::string& where,
                      std::optional<events::Kind> on, std::vector<rules::Condition>& out) {
    if (!n.IsMap()) {
        r.error(n.Mark(), where + ": expected a map of conditions, got " + node_kind(n));
        return false;
    }
    const auto known = condition_names();
    r.check_map(n, where, known);
    bool ok = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
        const std::string name = it->first.Scalar();
        auto key = rules::condition_key_from_string(name);
        if (!key) {
            ok = false;  // reported by check_map
            continue;
        }
        if (on && !rules::condition_applies(*key, *on)) {
            r.error(it->first.Mark(), where + "." + name + ": does not apply to on: " +
                                          std::string(events::to_string(*on)) + " (it applies to " +
                                          kinds_for(*key) + ")");
            ok = false;
            continue;
        }
        auto c = parse_condition(r, *key, it->second, where + "." + name);
        if (!c) {
            ok = false;
            continue;
        }
        out.push_back(std::move(*c));
    }
    return ok;
}

// The action of a rule: `deploy: {app, branch}`, `review_app: {app}`, `delete_review_app: {app}`.
struct ActionDraft {
    rules::ActionSpec& out;
    std::optional<events::Kind> on;
    bool ok = true;
};

void read_app(Reader& r, const Entry& e, ActionDraft& d) {
    auto t = parse_template(r, e.value, e.where, d.on);
    d.ok = t.has_value();
    if (t && t->is_literal()) {
        // A fixed name Scalingo would refuse is a config error, not a job that never
        // appears; a templated one is checked once rendered (rules::evaluate).
        if (auto why = rules::check_app_name(t->source())) {
            r.error(e.value.Mark(), e.where + ": \"" + t->source() +
                                        "\" is not a valid Scalingo app name: " + *why);
            d.ok = false;
        }
    }
    if (t) {
        d.out.app = std::move(*t);
    }
}

void missing_app(Reader& r, const Entry& e, ActionDraft& d) {
    r.missing(e, "");
    d.ok = false;
}

constexpr Fields<ActionDraft, 2> kDeployFields{{
    {"app", read_app, missing_app},
    {"branch",
     [](Reader& r, const Entry& e, ActionDraft& d) {
         d.out.branch = parse_template(r, e.value, e.where, d.on);
         d.ok = d.ok && d.out.branch.has_value();
     }},
}};
constexpr Fields<ActionDraft, 1> kReviewAppFields{{
    {"app", read_app, missing_app},
}};

template <std::size_t N>
bool read_action(Reader& r, const YAML::Node& a, const std::string& where,
                 const Fields<ActionDraft, N>& fields, ActionDraft& d) {
    if (!r.check_map(a, where, names_of(fields))) {
        return false;
    }
    if (d.out.kind != rules::ActionKind::deploy && d.on && *d.on != events::Kind::pull_request) {
        r.error(a.Mark(), where + ": only for on: pull_request rules (it needs the PR number)");
        return false;
    }
    r.read_fields(a, where, fields, d);
    return d.ok;
}

// One rule being read; kept only when all of it is valid.
struct RuleDraft {
    std::set<std::string>& names;  // of the rules before it, for duplicates
    std::string where;             // "rules[N]", then `rule "NAME"` once the name is read
    rules::Rule rule{};
    std::optional<events::Kind> on{};
    std::vector<std::pair<rules::ActionKind, YAML::Node>> actions{};  // the action keys given
    bool ok = true;
};

template <rules::ActionKind kind>
void record_action(Reader&, const Entry& e, RuleDraft& d) {
    d.actions.emplace_back(kind, e.value);
}

constexpr Fields<RuleDraft, 8> kRuleFields{{
    {"name",
     [](Reader& r, const Entry& e, RuleDraft& d) {
         auto s = r.string(e.value, d.where + ".name");
         if (!s) {
             d.ok = false;
             return;
         }
         d.rule.name = *s;
         d.where = "rule \"" + *s + "\"";
         if (s->empty()) {
             r.error(e.value.Mark(), d.where + ": name must not be empty");
             d.ok = false;
         } else if (!d.names.insert(*s).second) {
             r.error(e.value.Mark(), d.where + ": duplicate rule name \"" + *s + "\"");
             d.ok = false;
         }
     },
     [](Reader& r, const Entry& e, RuleDraft& d) {
         r.error(e.map.Mark(), d.where + ": name: missing");
         d.ok = false;
     }},
    {"on",
     [](Reader& r, const Entry& e, RuleDraft& d) {
         if (auto s = r.string(e.value, d.where + ".on")) {
             d.on = events::rule_kind_from_string(*s);
             if (!d.on) {
                 r.error(e.value.Mark(), d.where + ".on: unknown event \"" + *s +
                                             "\" (push, tag, pull_request, ci)" +
                                             suggest_event(*s));
             }
         }
         d.ok = d.ok && d.on.has_value();
         if (d.on) {
             d.rule.on = *d.on;
         }
     },
     [](Reader& r, const Entry& e, RuleDraft& d) {
         r.error(e.map.Mark(), d.where + ".on: missing (push, tag, pull_request or ci)");
         d.ok = false;
     }},
    {"if",
     [](Reader& r, const Entry& e, RuleDraft& d) {
         d.ok = parse_conditions(r, e.value, d.where + ".if", d.on, d.rule.conditions) && d.ok;
     }},
    {"deploy", record_action<rules::ActionKind::deploy>},
    {"review_app", record_action<rules::ActionKind::review_app>},
    {"delete_review_app", record_action<rules::ActionKind::delete_review_app>},
    {"debounce",
     [](Reader& r, const Entry& e, RuleDraft& d) {
         d.rule.debounce = r.duration(e.value, d.where + ".debounce");
         d.ok = d.ok && d.rule.debounce.has_value();
     }},
    {"stop",
     [](Reader& r, const Entry& e, RuleDraft& d) {
         auto b = r.boolean(e.value, d.where + ".stop");
         d.ok = d.ok && b.has_value();
         d.rule.stop = b.value_or(false);
     }},
}};

// One action per rule, read once the rule's table is through (it needs `on`).
bool read_rule_action(Reader& r, const YAML::Node& rule, RuleDraft& d) {
    if (d.actions.empty()) {
        r.error(rule.Mark(),
                d.where + ": no action (give one of deploy, review_app, delete_review_app)");
        return false;
    }
    if (d.actions.size() > 1) {
        r.error(d.actions[1].second.Mark(),
                d.where + ": one action per rule, found " +
                    std::string(rules::to_string(d.actions[0].first)) + " and " +
                    std::string(rules::to_string(d.actions[1].first)) + " (split it in two rules)");
        return false;
    }
    const auto& [kind, a] = d.actions.front();
    const std::string where = d.where + "." + std::string(rules::to_string(kind));
    ActionDraft action{d.rule.action, d.on};
    action.out.kind = kind;
    if (kind == rules::ActionKind::deploy) {
        return read_action(r, a, where, kDeployFields, action);
    }
    return read_action(r, a, where, kReviewAppFields, action);
}

}  // namespace

void read_rules(Reader& r, const Entry& e, std::vector<rules::Rule>& out,
                std::vector<YAML::Mark>& marks) {
    if (!e.value.IsSequence()) {
        r.error(e.value.Mark(), e.where + ": expected a list of rules, got " + node_kind(e.value));
        return;
    }
    std::set<std::string> names;
    std::size_t index = 0;
    for (const auto& rule : e.value) {
        // d.where changes once the name is read; the table's prefix stays the index.
        const std::string where = e.where + "[" + std::to_string(index++) + "]";
        RuleDraft d{names, where};
        if (!r.read_map(rule, where, kRuleFields, d)) {
            continue;
        }
        d.ok = read_rule_action(r, rule, d) && d.ok;
        if (d.ok) {
            out.push_back(std::move(d.rule));
            marks.push_back(rule.Mark());
        }
    }
}

}  // namespace linkpilot::config::detail
