// `linkpilot explain` (SPEC 1): evaluates the rules on one payload, or on a delivery already
// received, and prints for every rule `match` or the first condition that failed, the repo
// allowlist verdict and the actions that would run. Calls nothing, changes nothing.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/app/open_state.hpp"
#include "daemon/ingress/github/parse.hpp"
#include "daemon/ingress/gitlab/parse.hpp"
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

Expected<Input, std::string> read_delivery(const ExplainOptions& o, const std::string& config) {
    auto st = open_state(config, "explain");
    if (!st) {
        return Unexpected{std::string("cannot open the state store")};
    }
    auto d = st->get_delivery(o.delivery);
    if (!d) {
        return Unexpected{"state store: " + d.error().message};
    }
    if (!*d) {
        return Unexpected{"no delivery " + o.delivery + " in the state store"};
    }
    if (!(*d)->payload) {
        return Unexpected{"delivery " + o.delivery +
                          ": its payload was pruned (state.keep_payloads); verdicts at receipt: " +
                          (*d)->verdicts_json};
    }
    return Input{(*d)->provider, (*d)->event, *(*d)->payload};
}

}  // namespace

int run_explain(const ExplainOptions& o) {
    const auto path = resolve_config_path(o.config);
    auto cfg = config::load_file(path);
    if (!cfg) {
        for (const auto& e : cfg.error()) {
            std::cerr << e.to_string() << "\n";
        }
        std::cerr << "linkpilot: explain: invalid config " << path << "\n";
        return kExitError;
    }
    auto input = o.delivery.empty() ? read_payload(o) : read_delivery(o, path);
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
    const auto evaluation = rules::evaluate(cfg->rules, *event, &value, rules::Detail::reasons);
    if (o.json) {
        std::cout << json::serialize(rules::render_json(*event, evaluation)) << "\n";
    } else {
        if (!o.delivery.empty()) {
            std::cout << "delivery: " << o.delivery << " (re-evaluated with " << path << ")\n";
        }
        std::cout << rules::render_text(*event, evaluation);
    }
    return kExitOk;
}

}  // namespace linkpilot::app
