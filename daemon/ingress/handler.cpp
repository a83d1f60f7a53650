#include "daemon/ingress/handler.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>
#include <cctype>

#include "daemon/ingress/github/parse.hpp"
#include "daemon/ingress/github/verify.hpp"
#include "daemon/ingress/gitlab/parse.hpp"
#include "daemon/ingress/gitlab/verify.hpp"
#include "daemon/jobs/job_args.hpp"
#include "rules/engine.hpp"
#include "rules/report.hpp"

namespace linkpilot::ingress {

namespace {

std::optional<std::string_view> header(const Request& req, std::string_view name) {
    auto it = req.find(name);
    if (it == req.end()) {
        return std::nullopt;
    }
    return it->value();
}

std::optional<std::string_view> delivery_header(bool github, const Request& req) {
    auto id = github ? header(req, "X-GitHub-Delivery") : header(req, "Idempotency-Key");
    if (!github && (!id || id->empty())) {
        id = header(req, "X-Gitlab-Event-UUID");
    }
    return id;
}

// Forge event names: "push", "pull_request", "Push Hook", "Merge Request Hook", ...
bool is_event_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == ' ' || c == '_' ||
               c == '-' || c == '.';
    });
}

// Delivery ids are UUIDs in practice; any printable ASCII token is kept as sent.
bool is_delivery_id(std::string_view s) {
    return !s.empty() && s.size() <= 128 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

Response reject(const Request& req, http::status status, std::string_view reason) {
    return error_response(req.version(), req.keep_alive(), status, reason);
}

// The media type without parameters, lower-cased: "application/json; charset=utf-8" -> json.
std::string media_type(const Request& req) {
    auto ct = header(req, "Content-Type").value_or("");
    std::string out(ct.substr(0, ct.find(';')));
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// GitHub's form encoding: `payload=<url-encoded JSON>`, `+` meaning a space.
std::optional<std::string> form_payload(std::string_view body) {
    auto parsed = boost::urls::parse_query(body);
    if (!parsed) {
        return std::nullopt;
    }
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    for (auto param : *parsed) {
        if (param.key == "payload" && param.has_value) {
            return param.value.decode(opts);
        }
    }
    return std::nullopt;
}

}  // namespace

Route route(http::verb method, std::string_view target) {
    auto path = target.substr(0, target.find('?'));
    struct Entry {
        std::string_view path;
        http::verb verb;
        Route route;
    };
    static constexpr std::array<Entry, 5> kRoutes{{
        {"/webhooks/github", http::verb::post, Route::github},
        {"/webhooks/gitlab", http::verb::post, Route::gitlab},
        {"/healthz", http::verb::get, Route::healthz},
        {"/readyz", http::verb::get, Route::readyz},
        {"/metrics", http::verb::get, Route::metrics},
    }};
    for (const auto& e : kRoutes) {
        if (e.path == path) {
            bool ok = method == e.verb || (e.verb == http::verb::get && method == http::verb::head);
            return ok ? e.route : Route::method_not_allowed;
        }
    }
    return Route::not_found;
}

Response error_response(unsigned version, bool keep_alive, http::status status,
                        std::string_view reason) {
    Response res{status, version};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(keep_alive);
    res.body() = boost::json::serialize(boost::json::object{{"error", reason}});
    res.prepare_payload();
    return res;
}

Response text_response(const Request& req, http::status status, std::string body,
                       std::string_view content_type) {
    Response res{status, req.version()};
    res.set(http::field::content_type, content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

Response accepted(const Request& req, std::string_view delivery, std::string_view status,
                  std::size_t jobs) {
    boost::json::object o{{"delivery", delivery}, {"status", status}, {"jobs", jobs}};
    return text_response(req, http::status::accepted, boost::json::serialize(o),
                         "application/json");
}

Decision decide_webhook(Route which, const Request& req, const config::Config& cfg,
                        std::string_view config_fingerprint,
                        std::chrono::system_clock::time_point now, const FallbackId& fallback_id) {
    const bool github = which == Route::github;
    const config::Provider& provider = github ? cfg.providers.github : cfg.providers.gitlab;
    // Fail closed (SPEC 3): a forge with no secret has no endpoint; nothing is stored.
    if (!provider.configured()) {
        return reject(
            req, http::status::not_found,
            github ? "github webhooks are not configured" : "gitlab webhooks are not configured");
    }
    // Cheapest checks first: headers, then the signature, then parsing (STYLE 3).
    auto type = media_type(req);
    bool form = github && type == "application/x-www-form-urlencoded";
    if (type != "application/json" && !form) {
        return reject(req, http::status::unsupported_media_type,
                      github ? "Content-Type must be application/json or "
                               "application/x-www-form-urlencoded"
                             : "Content-Type must be application/json");
    }
    auto event_name = header(req, github ? "X-GitHub-Event" : "X-Gitlab-Event");
    if (!event_name || event_name->empty()) {
        return reject(req, http::status::bad_request,
                      github ? "missing X-GitHub-Event header" : "missing X-Gitlab-Event header");
    }
    // Both end up in the store, in log lines, in JSON answers and (the event) in metric labels.
    if (!is_event_name(*event_name)) {
        return reject(req, http::status::bad_request,
                      std::string(github ? "X-GitHub-Event" : "X-Gitlab-Event") +
                          " must be 1 to 64 letters, digits, spaces, '_', '-' or '.'");
    }
    const auto delivery_id = delivery_header(github, req);
    if (delivery_id && !delivery_id->empty() && !is_delivery_id(*delivery_id)) {
        return reject(req, http::status::bad_request,
                      "the delivery id header must be 1 to 128 printable ASCII characters");
    }
    const auto credential = header(req, github ? "X-Hub-Signature-256" : "X-Gitlab-Token");
    // allow_unsigned: a proxy in front verified it. A signature sent along is still checked
    // when there is a secret to check it with.
    const bool unverified =
        provider.allow_unsigned && (provider.secrets.empty() || !credential || credential->empty());
    if (unverified) {
        // accepted as is; counted with verified="false"
    } else if (github) {
        auto v = github::verify_signature(req.body(), credential, provider.secrets);
        if (v != github::Verdict::ok) {
            return reject(req, http::status::unauthorized,
                          v == github::Verdict::missing ? "missing X-Hub-Signature-256"
                          : v == github::Verdict::malformed
                              ? "malformed X-Hub-Signature-256 (expected sha256=<hex>)"
                              : "signature does not match any configured secret");
        }
    } else {
        auto v = gitlab::verify_token(credential, provider.secrets);
        if (v != gitlab::Verdict::ok) {
            return reject(req, http::status::unauthorized,
                          v == gitlab::Verdict::missing ? "missing X-Gitlab-Token"
                                                        : "X-Gitlab-Token does not match");
        }
    }

    std::string form_json;
    std::string_view json_text = req.body();
    if (form) {
        auto p = form_payload(req.body());
        if (!p) {
            return reject(req, http::status::bad_request, "form body has no payload= field");
        }
        form_json = std::move(*p);
        json_text = form_json;
    }
    boost::json::parse_options opts;
    opts.max_depth = kMaxJsonDepth;
    boost::system::error_code ec;
    // The tree lives only for this call (the event and the jobs copy what they keep): one
    // arena, freed at once, instead of a malloc and a free per string, array and object. The
    // first 32 KiB are on the stack, enough for a typical push; bigger payloads grow it.
    std::array<unsigned char, 32 * 1024> arena_buffer;
    boost::json::monotonic_resource arena(arena_buffer.data(), arena_buffer.size());
    auto value = boost::json::parse(json_text, ec, &arena, opts);
    if (ec) {
        return reject(req, http::status::bad_request,
                      ec == boost::json::error::too_deep ? "JSON nests deeper than 64 levels"
                                                         : "malformed JSON: " + ec.message());
    }
    if (!value.is_object()) {
        return reject(req, http::status::bad_request, "the payload must be a JSON object");
    }
    auto parsed = github ? github::parse(*event_name, value.get_object())
                         : gitlab::parse(*event_name, value.get_object());
    if (!parsed) {
        return reject(req, http::status::bad_request, parsed.error());
    }
    const events::Event& event = *parsed;

    auto evaluation = rules::evaluate(cfg.rules, event, &value, rules::Detail::reasons);

    ToStore out;
    out.verified = !unverified;
    auto& d = out.delivery;
    if (delivery_id && !delivery_id->empty()) {
        d.id = std::string(*delivery_id);
    } else if (auto drawn = fallback_id()) {
        d.id = std::move(*drawn);
    } else {
        return reject(req, http::status::service_unavailable,
                      "cannot draw a delivery id (the random generator failed); redeliver later, "
                      "or send a delivery id header");
    }
    d.provider = github ? "github" : "gitlab";
    d.event = std::string(*event_name);
    d.repo = event.repo;
    d.received_at = now;
    d.payload = std::string(json_text);
    d.event_json = boost::json::serialize(rules::event_to_json(event));
    d.verdicts_json = boost::json::serialize(rules::render_json(event, evaluation));
    d.config_fingerprint = std::string(config_fingerprint);
    for (const auto& a : evaluation.actions) {
        out.jobs.push_back(jobs::job_for(a));
    }
    d.status = out.jobs.empty() ? "ignored" : "queued";
    return out;
}

std::string claimed_delivery_id(Route which, const Request& req) {
    const auto id = delivery_header(which == Route::github, req);
    if (!id || id->empty()) {
        return "-";
    }
    std::string out;
    for (const char c : id->substr(0, 64)) {
        out += (c >= 0x21 && c <= 0x7e) ? c : '?';
    }
    return out;
}

}  // namespace linkpilot::ingress
