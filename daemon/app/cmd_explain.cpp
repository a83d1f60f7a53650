// `linkpilot explain` (SPEC 1): evaluates the rules on one payload, or on a delivery already
// received, and prints for every rule `match` or the first condition that failed, the repo
// allowlist verdict and the actions that would run. Calls nothing, changes nothing.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "common/iso_time.hpp"
#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/app/open_state.hpp"
#include "daemon/ingress/github/parse.hpp"
#include "daemon/ingress/gitlab/parse.hpp"
#include "daemon/pruner/sweeper.hpp"
#include "rules/engine.hpp"
#include "rules/report.hpp"

namespace linkpilot::app {

namespace {

namespace json = boost::json;

// What to evaluate: the forge, its event header and the raw body.
struct Input {
    std::string provider;
    std::string event;
    std::string body;
};

Expected<Input, std::string> read_payload(const ExplainOptions& o) {
    if (o.provider.empty() || o.event.empty() || o.payload.empty()) {
        return Unexpected{std::string(
            "give --provider github|gitlab --event NAME PAYLOAD.json (or --delivery ID)")};
    }
    std::string body;
    if (o.payload == "-") {
        body.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
        std::ifstream in(o.payload, std::ios::binary);
        if (!in) {
            return Unexpected{"cannot read " + o.payload};
        }
        std::ostringstream s;
        s << in.rdbuf();
        body = std::move(s).str();
    }
    return Input{o.provider, o.event, std::move(body)};
}

// A stored delivery: a webhook to evaluate again, or a record linkpilot wrote itself.
struct Stored {
    std::optional<Input> webhook;  // nullopt: a record of linkpilot's own (a pruning sweep)
    store::Delivery delivery;
};

Expected<Stored, std::string> read_delivery(const ExplainOptions& o, const config::State& state) {
    auto st = open_store(state);
    if (!st) {
        return Unexpected{"cannot open the state store " + describe_state(state) + ": " +
                          st.error().message};
    }
    auto d = (*st)->get_delivery(o.delivery);
    if (!d) {
        return Unexpected{"state store: " + d.error().message};
    }
    if (!*d) {
        return Unexpected{"no delivery " + o.delivery + " in the state store"};
    }
    const store::Delivery& got = **d;
    if (got.provider == pruner::kProvider) {
        return Stored{std::nullopt, got};
    }
    if (!got.payload) {
        return Unexpected{"delivery " + o.delivery +
                          ": its payload was pruned (state.keep_payloads); verdicts at receipt: " +
                          got.verdicts_json};
    }
    return Stored{Input{got.provider, got.event, *got.payload}, got};
}

// A pruning sweep's record (daemon/pruner/sweeper.cpp): no webhook and no rule, so say what
// it is and what it queued instead of evaluating it as a forge event.
int explain_own_record(const ExplainOptions& o, const store::Delivery& d) {
    boost::system::error_code ec;
    auto plan = d.payload ? json::parse(*d.payload, ec) : json::value();
    const auto* obj = plan.if_object();
    const auto* app = obj != nullptr ? obj->if_contains("app") : nullptr;
    const auto* deletions = obj != nullptr ? obj->if_contains("deletions") : nullptr;
    if (o.json) {
        json::object out{{"delivery", d.id},
                         {"kind", "prune"},
                         {"received_at", iso_time(d.received_at)},
                         {"plan", d.payload ? plan : json::value()}};
        std::cout << json::serialize(out) << "\n";
        return kExitOk;
    }
    std::cout << "delivery: " << o.delivery << " is not a webhook: linkpilot's review-app pruner"
              << " recorded it at " << iso_time(d.received_at) << " (no rule evaluates it)\n";
    if (app != nullptr && app->is_string()) {
        std::cout << "sweep of: " << app->as_string().c_str() << "\n";
    }
    if (deletions != nullptr && deletions->is_array()) {
        std::cout << "deletions queued: " << deletions->as_array().size() << "\n";
        for (const auto& del : deletions->as_array()) {
            const auto* e = del.if_object();
            if (e == nullptr) {
                continue;
            }
            auto field = [&](std::string_view k) -> std::string {
                const auto* v = e->if_contains(k);
                return v != nullptr && v->is_string() ? std::string(v->as_string()) : "?";
            };
            std::cout << "  " << field("review_app") << ": " << field("reason")
                      << " (last activity " << field("activity_at") << ")\n";
        }
    } else if (!d.payload) {
        std::cout << "its plan was pruned (state.keep_payloads)\n";
    }
    std::cout << "its jobs: linkpilot jobs --json (delivery " << d.id << ")\n";
    return kExitOk;
}

}  // namespace

int run_explain(const ExplainOptions& o) {
    // Evaluates rules only: no secret is read (SPEC 1).
    auto loaded = load_command_config(o.config, "explain", config::kNeedsNoSecret);
    if (!loaded) {
        return kExitError;
    }
    const config::Config& cfg = loaded->config;
    Expected<Input, std::string> input = Unexpected{std::string()};
    if (o.delivery.empty()) {
        input = read_payload(o);
    } else {
        auto stored = read_delivery(o, cfg.state);
        if (!stored) {
            std::cerr << "linkpilot: explain: " << stored.error() << "\n";
            return kExitError;
        }
        if (!stored->webhook) {
            return explain_own_record(o, stored->delivery);
        }
        input = std::move(*stored->webhook);
    }
    if (!input) {
        std::cerr << "linkpilot: explain: " << input.error() << "\n";
        return kExitError;
    }
    boost::system::error_code ec;
    auto value = json::parse(input->body, ec);
    if (ec || !value.is_object()) {
        std::cerr << "linkpilot: explain: the payload is not a JSON object"
                  << (ec ? ": " + ec.message() : std::string()) << "\n";
        return kExitError;
    }
    auto event = input->provider == "github"
                     ? ingress::github::parse(input->event, value.get_object())
                     : ingress::gitlab::parse(input->event, value.get_object());
    if (!event) {
        std::cerr << "linkpilot: explain: " << event.error() << "\n";
        return kExitError;
    }
    const auto evaluation = rules::evaluate(cfg.rules, *event, &value, rules::Detail::reasons);
    if (o.json) {
        std::cout << json::serialize(rules::render_json(*event, evaluation)) << "\n";
    } else {
        if (!o.delivery.empty()) {
            std::cout << "delivery: " << o.delivery << " (re-evaluated with " << loaded->path
                      << ")\n";
        }
        std::cout << rules::render_text(*event, evaluation);
    }
    return kExitOk;
}

}  // namespace linkpilot::app
