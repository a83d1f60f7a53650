#include "rules/report.hpp"

#include <boost/json/array.hpp>
#include <variant>

namespace linkpilot::rules {

namespace {

boost::json::array string_array(const std::vector<std::string>& values) {
    boost::json::array out;
    out.reserve(values.size());
    for (const auto& v : values) {
        out.emplace_back(v);
    }
    return out;
}

std::string_view short_sha(std::string_view sha) { return sha.substr(0, 7); }

}  // namespace

boost::json::object event_to_json(const events::Event& event) {
    boost::json::object o;
    o["provider"] = events::to_string(event.provider);
    o["kind"] = events::to_string(event.kind());
    o["event"] = event.event_name;
    o["repo"] = event.repo;
    o["author"] = event.author;
    o["sha"] = event.sha;
    std::visit(
        [&o](const auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, events::Push>) {
                o["branch"] = body.branch;
                o["action"] = body.action;
                o["before"] = body.before;
                o["message"] = body.message;
                o["changed_files"] = string_array(body.changed_files);
                o["files_complete"] = body.files_complete;
            } else if constexpr (std::is_same_v<T, events::Tag>) {
                o["tag"] = body.tag;
                o["action"] = body.action;
                o["message"] = body.message;
            } else if constexpr (std::is_same_v<T, events::PullRequest>) {
                o["number"] = body.number;
                o["action"] = body.action;
                o["branch"] = body.branch;
                o["base"] = body.base;
                o["title"] = body.title;
                o["labels"] = string_array(body.labels);
                o["draft"] = body.draft;
                o["fork"] = body.fork;
            } else if constexpr (std::is_same_v<T, events::Ci>) {
                o["branch"] = body.branch;
                o["action"] = body.action;
                o["workflow"] = body.workflow;
                o["status"] = body.status;
                if (body.pr_number) {
                    o["pr_number"] = *body.pr_number;
                } else {
                    o["pr_number"] = nullptr;
                }
            } else if constexpr (std::is_same_v<T, events::Ignored>) {
                o["reason"] = body.reason;
            }
        },
        event.body);
    return o;
}

std::string describe_event(const events::Event& event) {
    std::string out(events::to_string(event.provider));
    out += ' ';
    out += events::to_string(event.kind());
    std::visit(
        [&out](const auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, events::Push>) {
                out += " (" + body.action + ") branch=" + body.branch;
            } else if constexpr (std::is_same_v<T, events::Tag>) {
                out += " (" + body.action + ") tag=" + body.tag;
            } else if constexpr (std::is_same_v<T, events::PullRequest>) {
                out += " (" + body.action + ") #" + std::to_string(body.number) +
                       " head=" + body.branch + " base=" + body.base;
            } else if constexpr (std::is_same_v<T, events::Ci>) {
                out += " (" + body.action + ") workflow=\"" + body.workflow +
                       "\" status=" + body.status + " branch=" + body.branch;
            } else if constexpr (std::is_same_v<T, events::Ignored>) {
                if (!body.reason.empty()) {
                    out += " (" + body.reason + ")";
                }
            }
        },
        event.body);
    if (!event.repo.empty()) {
        out += " repo=" + event.repo;
    }
    if (!event.author.empty()) {
        out += " by " + event.author;
    }
    if (!event.sha.empty()) {
        out += " at ";
        out += short_sha(event.sha);
    }
    return out;
}

std::string format_duration(std::chrono::milliseconds d) {
    auto ms = d.count();
    if (ms <= 0) {
        return "0s";
    }
    if (ms % 1000 != 0) {
        return std::to_string(ms) + "ms";
    }
    auto s = ms / 1000;
    std::string out;
    if (s >= 3600) {
        out += std::to_string(s / 3600) + "h";
        s %= 3600;
    }
    if (s >= 60) {
        out += std::to_string(s / 60) + "m";
        s %= 60;
    }
    if (s > 0) {
        out += std::to_string(s) + "s";
    }
    return out;
}

std::string describe_action(const Action& action) {
    std::string out(to_string(action.kind));
    out += ' ';
    out += action.app;
    if (action.kind == ActionKind::deploy) {
        out += " branch=" + action.branch;
    } else {
        out += " pr=" + std::to_string(action.pr_number);
    }
    out += " (rule " + action.rule;
    if (action.debounce) {
        out += ", debounce " + format_duration(*action.debounce);
    }
    out += ')';
    return out;
}

bool paths_fail_open(const events::Event& event) {
    const auto* push = std::get_if<events::Push>(&event.body);
    return push && !push->files_complete && push->action != "deleted";
}

std::string render_text(const events::Event& event, const Evaluation& evaluation) {
    std::string out = "event: " + describe_event(event) + "\n";
    if (evaluation.repo_allowed) {
        out += "repo: allowed\n";
    } else {
        out += "repo: not allowed: " + evaluation.repo_reason + "\n";
    }
    out += "rules:";
    if (evaluation.verdicts.empty()) {
        out += " none";
    }
    out += '\n';
    for (const auto& v : evaluation.verdicts) {
        out += "  " + v.rule + (v.matched ? ": match\n" : ": no: " + v.reason + "\n");
    }
    if (paths_fail_open(event)) {
        out +=
            "note: the forge sent an incomplete list of changed files for this push, so "
            "`paths:` conditions were treated as matched\n";
    }
    if (evaluation.actions.empty()) {
        out += "actions: none\n";
        return out;
    }
    out += "actions:\n";
    for (const auto& a : evaluation.actions) {
        out += "  " + describe_action(a) + "\n";
    }
    return out;
}

boost::json::value render_json(const events::Event& event, const Evaluation& evaluation) {
    boost::json::object o;
    o["event"] = event_to_json(event);
    o["repo_allowed"] = evaluation.repo_allowed;
    o["repo_reason"] = evaluation.repo_reason;
    o["paths_fail_open"] = paths_fail_open(event);
    boost::json::array rules;
    rules.reserve(evaluation.verdicts.size());
    for (const auto& v : evaluation.verdicts) {
        rules.push_back(
            boost::json::object{{"name", v.rule}, {"matched", v.matched}, {"reason", v.reason}});
    }
    o["rules"] = std::move(rules);
    boost::json::array actions;
    for (const auto& a : evaluation.actions) {
        boost::json::object j;
        j["action"] = to_string(a.kind);
        j["app"] = a.app;
        if (a.kind == ActionKind::deploy) {
            j["branch"] = a.branch;
            j["pr_number"] = nullptr;
        } else {
            j["branch"] = nullptr;
            j["pr_number"] = a.pr_number;
        }
        j["rule"] = a.rule;
        if (a.debounce) {
            j["debounce_ms"] = a.debounce->count();
        } else {
            j["debounce_ms"] = nullptr;
        }
        actions.push_back(std::move(j));
    }
    o["actions"] = std::move(actions);
    return o;
}

}  // namespace linkpilot::rules
