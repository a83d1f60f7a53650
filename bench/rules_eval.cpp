// Rules evaluation: 1,000 rules against one pull_request event built from the real GitHub
// fixture github/pull_request/labeled.json. Target: < 50 us per event (bench/README.md).
//
// The event is extracted here with Boost.JSON rather than through the GitHub parser, so the
// bench measures the engine alone and does not depend on another component.

#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "rules/engine.hpp"
#include "rules/rule.hpp"

namespace {

using namespace linkpilot;
using rules::ConditionKey;
using rules::PatternSyntax;

constexpr std::size_t kRules = 1000;

std::optional<std::filesystem::path> fixture_path() {
    std::filesystem::path rel = "github/pull_request/labeled.json";
    if (const char* env = std::getenv("LINKPILOT_FIXTURES"); env && *env) {
        return std::filesystem::path(env) / rel;
    }
    auto dir = std::filesystem::path(LINKPILOT_SOURCE_DIR) / ".." / "shared" / "fixtures";
    return dir / rel;
}

std::optional<std::string> slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string str_at(const boost::json::value& v, std::string_view ptr) {
    boost::system::error_code ec;
    const auto* p = v.find_pointer(ptr, ec);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
}

events::Event event_from(const boost::json::value& j) {
    events::Event e;
    e.provider = events::Provider::github;
    e.event_name = "pull_request";
    e.repo = str_at(j, "/repository/full_name");
    e.author = str_at(j, "/pull_request/user/login");
    e.sha = str_at(j, "/pull_request/head/sha");
    events::PullRequest pr;
    boost::system::error_code ec;
    if (const auto* n = j.find_pointer("/number", ec); n && n->is_int64()) {
        pr.number = n->get_int64();
    }
    pr.action = str_at(j, "/action");
    pr.branch = str_at(j, "/pull_request/head/ref");
    pr.base = str_at(j, "/pull_request/base/ref");
    pr.title = str_at(j, "/pull_request/title");
    if (const auto* labels = j.find_pointer("/pull_request/labels", ec);
        labels && labels->is_array()) {
        for (const auto& l : labels->get_array()) {
            pr.labels.push_back(str_at(l, "/name"));
        }
    }
    if (const auto* d = j.find_pointer("/pull_request/draft", ec); d && d->is_bool()) {
        pr.draft = d->get_bool();
    }
    pr.fork = str_at(j, "/pull_request/head/repo/full_name") != e.repo;
    e.body = std::move(pr);
    return e;
}

rules::PatternList list(std::initializer_list<std::string> items,
                        PatternSyntax syntax = PatternSyntax::text) {
    std::vector<rules::Pattern> ps;
    for (const auto& i : items) {
        auto p = rules::Pattern::compile(i, syntax);
        if (!p) {
            std::fprintf(stderr, "bench: bad pattern %s: %s\n", i.c_str(), p.error().c_str());
            std::exit(2);
        }
        ps.push_back(*p);
    }
    return rules::PatternList(std::move(ps));
}

rules::Template tpl(const std::string& s) {
    auto t = rules::Template::compile(s);
    if (!t) {
        std::fprintf(stderr, "bench: bad template %s\n", s.c_str());
        std::exit(2);
    }
    return *t;
}

rules::Condition when(ConditionKey k, std::initializer_list<std::string> items) {
    return {k, list(items, k == ConditionKey::paths ? PatternSyntax::path : PatternSyntax::text)};
}

// A realistic mix: most rules are for other event kinds or other repositories and fail early;
// pull_request rules run a few globs, a regex, labels and a payload pointer; 1 in 50 matches.
// With `globs` false, every wildcard pattern is replaced by a literal with the same outcome:
// the difference between the two runs is the cost of glob matching (rules/pattern.cpp's own
// matcher) and of the `re:` regexes (RE2).
rules::RuleSet make_rules(bool globs) {
    auto g = [globs](const char* glob, const char* literal) {
        return std::string(globs ? glob : literal);
    };
    rules::RuleSet rs;
    rs.repos = list(
        {g("Codertocat/*", "Codertocat/Hello-World"), g("acme/*", "acme/shop"), "!acme/legacy"});
    for (std::size_t i = 0; i < kRules; ++i) {
        rules::Rule r;
        // Realistic names (longer than std::string's inline buffer, as real ones are).
        r.name = "team-rule-" + std::to_string(i) + "-follows-its-branch";
        const std::string n = std::to_string(i % 97);
        switch (i % 10) {
            case 0:
            case 1:
            case 2:  // push rules: fail on `on:`
                r.on = events::Kind::push;
                r.conditions.push_back(when(ConditionKey::branch, {"main"}));
                r.conditions.push_back(when(
                    ConditionKey::paths, {g("app/**", "app/x.rb"), g("!docs/**", "!docs/x.md")}));
                r.action.kind = rules::ActionKind::deploy;
                r.action.app = tpl("shop-staging-" + n);
                break;
            case 3:  // ci rules
                r.on = events::Kind::ci;
                r.conditions.push_back(when(ConditionKey::workflow, {"CI"}));
                r.conditions.push_back(when(ConditionKey::status, {"success"}));
                r.action.kind = rules::ActionKind::deploy;
                r.action.app = tpl("shop-prod-" + n);
                break;
            case 4:  // pull_request on another repository
                r.on = events::Kind::pull_request;
                r.conditions.push_back(when(ConditionKey::repo, {"acme/shop-" + n}));
                r.conditions.push_back(when(ConditionKey::action, {"opened", "synchronize"}));
                r.action.kind = rules::ActionKind::review_app;
                r.action.app = tpl("{{ repo.name }}-staging");
                break;
            case 5:  // right repo, wrong action list
                r.on = events::Kind::pull_request;
                r.conditions.push_back(
                    when(ConditionKey::repo, {g("Codertocat/*", "Codertocat/Hello-World")}));
                r.conditions.push_back(
                    when(ConditionKey::action, {"opened", "reopened", "synchronize"}));
                r.action.kind = rules::ActionKind::review_app;
                r.action.app = tpl("hello-review-" + n);
                break;
            case 6:  // label wanted but absent
                r.on = events::Kind::pull_request;
                r.conditions.push_back(
                    when(ConditionKey::repo,
                         {g("Codertocat/*", "Codertocat/Hello-World"), g("acme/*", "acme/shop")}));
                r.conditions.push_back(
                    when(ConditionKey::author, {"!dependabot[bot]", "!renovate[bot]"}));
                r.conditions.push_back(
                    {ConditionKey::labels,
                     rules::LabelsCondition{
                         {*rules::Pattern::compile("preview", PatternSyntax::text)}, {}, {}}});
                r.action.kind = rules::ActionKind::review_app;
                r.action.app = tpl("hello-preview-" + n);
                break;
            case 7:  // regex branch that does not match
                r.on = events::Kind::pull_request;
                r.conditions.push_back(
                    when(ConditionKey::branch, {g("re:^release/[0-9]+\\.[0-9]+$", "release/1.0")}));
                r.action.kind = rules::ActionKind::review_app;
                r.action.app = tpl("hello-release-" + n);
                break;
            case 8:  // payload pointer, then draft/fork
                r.on = events::Kind::pull_request;
                r.conditions.push_back({ConditionKey::payload,
                                        std::vector<rules::PayloadCondition>{
                                            {"/pull_request/user/type", list({"User"})},
                                            {"/pull_request/head/repo/fork", list({"false"})}}});
                r.conditions.push_back({ConditionKey::draft, true});
                r.action.kind = rules::ActionKind::review_app;
                r.action.app = tpl("hello-draft-" + n);
                break;
            case 9:  // every fifth of these matches (1 in 50 overall)
                r.on = events::Kind::pull_request;
                r.conditions.push_back(
                    when(ConditionKey::repo, {g("Codertocat/*", "Codertocat/Hello-World")}));
                r.conditions.push_back(when(ConditionKey::action, {"labeled", "opened"}));
                r.conditions.push_back(when(ConditionKey::base, {i % 50 == 9 ? "master" : "main"}));
                r.conditions.push_back(
                    {ConditionKey::labels,
                     rules::LabelsCondition{
                         {*rules::Pattern::compile("bug", PatternSyntax::text)},
                         {},
                         {*rules::Pattern::compile("wip", PatternSyntax::text)}}});
                r.conditions.push_back({ConditionKey::fork, false});
                r.action.kind = rules::ActionKind::review_app;
                // Several matching rules render the same job: exercises the dedupe.
                r.action.app = tpl("hello-world-" + std::to_string(i % 8));
                break;
        }
        rs.rules.push_back(std::move(r));
    }
    return rs;
}

struct Input {
    boost::json::value payload;
    events::Event event;
    rules::RuleSet rules;
    rules::RuleSet literal_rules;
};

void run(benchmark::State& state, const Input* in, rules::Detail detail) {
    std::size_t actions = 0;
    for (auto _ : state) {
        auto ev = rules::evaluate(in->rules, in->event, &in->payload, detail);
        actions = ev.actions.size();
        benchmark::DoNotOptimize(ev);
    }
    auto check = rules::evaluate(in->rules, in->event, &in->payload, rules::Detail::reasons);
    std::size_t matched = 0;
    for (const auto& v : check.verdicts) {
        matched += v.matched ? 1 : 0;
    }
    state.counters["rules"] = static_cast<double>(in->rules.rules.size());
    state.counters["matched"] = static_cast<double>(matched);
    state.counters["actions"] = static_cast<double>(actions);
}

// What `linkpilot explain` does: a verdict and a reason for every rule.
void BM_EvaluateWithReasons(benchmark::State& state, const Input* in) {
    run(state, in, rules::Detail::reasons);
}

// What the ingress does per webhook: only the actions.
void BM_EvaluateActionsOnly(benchmark::State& state, const Input* in) {
    run(state, in, rules::Detail::actions_only);
}

// The same rules with literals instead of globs and regexes: the engine's cost without them.
void BM_EvaluateActionsOnlyLiterals(benchmark::State& state, const Input* in) {
    Input lit{in->payload, in->event, in->literal_rules, {}};
    run(state, &lit, rules::Detail::actions_only);
}

}  // namespace

int main(int argc, char** argv) {
    auto path = fixture_path();
    auto text = path ? slurp(*path) : std::nullopt;
    if (!text) {
        std::fprintf(stderr,
                     "bench_rules: fixture not found: %s (set LINKPILOT_FIXTURES to the "
                     "shared fixtures directory)\n",
                     path ? path->c_str() : "?");
        return 1;
    }
    boost::system::error_code ec;
    Input in;
    in.payload = boost::json::parse(*text, ec);
    if (ec || !in.payload.is_object()) {
        std::fprintf(stderr, "bench_rules: %s is not a JSON object\n", path->c_str());
        return 1;
    }
    in.event = event_from(in.payload);
    in.rules = make_rules(true);
    in.literal_rules = make_rules(false);

    benchmark::RegisterBenchmark("rules/1000_rules/pull_request_labeled/actions_only",
                                 BM_EvaluateActionsOnly, &in)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("rules/1000_rules/pull_request_labeled/actions_only_literals",
                                 BM_EvaluateActionsOnlyLiterals, &in)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("rules/1000_rules/pull_request_labeled/with_reasons",
                                 BM_EvaluateWithReasons, &in)
        ->Unit(benchmark::kMicrosecond);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
