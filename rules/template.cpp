#include "rules/template.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace linkpilot::rules {

namespace {

constexpr std::array<std::pair<std::string_view, Var>, 8> kVars{{
    {"branch", Var::branch},
    {"tag", Var::tag},
    {"sha", Var::sha},
    {"repo", Var::repo},
    {"repo.owner", Var::repo_owner},
    {"repo.name", Var::repo_name},
    {"pr.number", Var::pr_number},
    {"author", Var::author},
}};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

std::string_view to_string(Var v) {
    for (const auto& [name, var] : kVars) {
        if (var == v) {
            return name;
        }
    }
    return "?";
}

bool var_available(Var v, events::Kind kind) {
    using events::Kind;
    switch (v) {
        case Var::branch:
            return kind == Kind::push || kind == Kind::pull_request || kind == Kind::ci;
        case Var::tag:
            return kind == Kind::tag;
        case Var::pr_number:
            return kind == Kind::pull_request;
        case Var::sha:
        case Var::repo:
        case Var::repo_owner:
        case Var::repo_name:
        case Var::author:
            return true;
    }
    return false;
}

Expected<Template, std::string> Template::compile(std::string_view source) {
    Template t;
    t.source_ = std::string(source);
    std::string_view rest = source;
    while (!rest.empty()) {
        auto open = rest.find("{{");
        if (open == std::string_view::npos) {
            t.segments_.push_back({false, std::string(rest), Var::repo});
            break;
        }
        if (open > 0) {
            t.segments_.push_back({false, std::string(rest.substr(0, open)), Var::repo});
        }
        auto close = rest.find("}}", open + 2);
        if (close == std::string_view::npos) {
            return Unexpected{std::string(R"(unterminated "{{" in template ")") +
                              std::string(source) + "\""};
        }
        auto name = trim(rest.substr(open + 2, close - open - 2));
        bool found = false;
        for (const auto& [known, var] : kVars) {
            if (known == name) {
                t.segments_.push_back({true, {}, var});
                found = true;
                break;
            }
        }
        if (!found) {
            return Unexpected{"unknown template variable \"" + std::string(name) +
                              "\" (known: branch, tag, sha, repo, repo.owner, repo.name, "
                              "pr.number, author)"};
        }
        rest.remove_prefix(close + 2);
    }
    return t;
}

std::string Template::render(const events::Event& event) const {
    std::string out;
    for (const auto& seg : segments_) {
        if (!seg.is_var) {
            out += seg.literal;
            continue;
        }
        switch (seg.var) {
            case Var::branch:
                if (const auto* p = std::get_if<events::Push>(&event.body)) {
                    out += p->branch;
                } else if (const auto* pr = std::get_if<events::PullRequest>(&event.body)) {
                    out += pr->branch;
                } else if (const auto* ci = std::get_if<events::Ci>(&event.body)) {
                    out += ci->branch;
                }
                break;
            case Var::tag:
                if (const auto* t = std::get_if<events::Tag>(&event.body)) {
                    out += t->tag;
                }
                break;
            case Var::sha:
                out += event.sha;
                break;
            case Var::repo:
                out += event.repo;
                break;
            case Var::repo_owner:
                out += event.repo_owner();
                break;
            case Var::repo_name:
                out += event.repo_name();
                break;
            case Var::pr_number:
                if (const auto* pr = std::get_if<events::PullRequest>(&event.body)) {
                    out += std::to_string(pr->number);
                }
                break;
            case Var::author:
                out += event.author;
                break;
        }
    }
    return out;
}

std::vector<Var> Template::variables() const {
    std::vector<Var> out;
    for (const auto& seg : segments_) {
        if (seg.is_var) {
            out.push_back(seg.var);
        }
    }
    return out;
}

bool Template::is_literal() const {
    return std::ranges::none_of(segments_, [](const Segment& s) { return s.is_var; });
}

}  // namespace linkpilot::rules
