// The handler (daemon/ingress/handler.cpp): the route table for every path and method, and
// decide_webhook's outcomes on real forge payloads (the fail-closed endpoint, content types,
// headers, signatures and tokens, JSON, what a delivery to store carries, unsigned deliveries
// under allow_unsigned, a delivery id when the random generator fails: issue 22).
#include "daemon/ingress/handler.hpp"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "config/load.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot::ingress {
namespace {

namespace fs = std::filesystem;

config::Config load(const std::string& providers) {
    auto r = config::load_string(
        "version: 1\nscalingo: { dry_run: true }\n" + providers +
            "rules:\n  - { name: every-push, on: push, deploy: { app: app-aa } }\n",
        "t.yaml", [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
    if (!r) {
        ADD_FAILURE() << r.error().front().to_string();
        return {};
    }
    return std::move(*r);
}

Request gitlab_push(const fs::path& fixtures, std::optional<std::string> token,
                    std::optional<std::string> delivery = "a1b2c3") {
    Request req{http::verb::post, "/webhooks/gitlab", 11};
    req.set(http::field::content_type, "application/json");
    req.set("X-Gitlab-Event", "Push Hook");
    if (delivery) {
        req.set("X-Gitlab-Event-UUID", *delivery);
    }
    if (token) {
        req.set("X-Gitlab-Token", *token);
    }
    req.body() = testing::read_file(fixtures / "gitlab/push/push.json");
    req.prepare_payload();
    return req;
}

Request github_push(const fs::path& fixtures, std::optional<std::string> secret) {
    Request req{http::verb::post, "/webhooks/github", 11};
    req.set(http::field::content_type, "application/json");
    req.set("X-GitHub-Event", "push");
    req.set("X-GitHub-Delivery", "d-1");
    req.body() = testing::read_file(fixtures / "github/push/branch-updated.json");
    if (secret) {
        req.set("X-Hub-Signature-256", testing::github_signature(*secret, req.body()));
    }
    req.prepare_payload();
    return req;
}

Decision decide(
    Route which, const Request& req, const config::Config& cfg,
    const FallbackId& fallback = [] { return std::string("lp-drawn"); }) {
    return decide_webhook(which, req, cfg, "fp", std::chrono::system_clock::time_point{}, fallback);
}

const Response* answer(const Decision& d) { return std::get_if<Response>(&d); }

TEST(Ingress_Handler, ProviderWithoutTokenHasNoEndpoint) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = load("providers: { github: { secrets: [gh] } }\n");
    // Whatever the request carries: unsigned, with a token, even a non-JSON body.
    for (auto token : {std::optional<std::string>{}, std::optional<std::string>{"guess"}}) {
        auto d = decide(Route::gitlab, gitlab_push(fixtures, token), cfg);
        ASSERT_NE(answer(d), nullptr);
        EXPECT_EQ(answer(d)->result(), http::status::not_found);
        EXPECT_EQ(answer(d)->body(), R"({"error":"gitlab webhooks are not configured"})");
    }
}

TEST(Ingress_Handler, NoProvidersAtAllMeansNoEndpointForEither) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    auto r = config::load_string(
        "version: 1\nscalingo: { dry_run: true }\n", "t.yaml",
        [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
    ASSERT_TRUE(r.has_value());
    auto gh = decide(Route::github, github_push(fixtures, std::nullopt), *r);
    ASSERT_NE(answer(gh), nullptr);
    EXPECT_EQ(answer(gh)->result(), http::status::not_found);
    EXPECT_EQ(answer(gh)->body(), R"({"error":"github webhooks are not configured"})");
    auto gl = decide(Route::gitlab, gitlab_push(fixtures, std::nullopt), *r);
    ASSERT_NE(answer(gl), nullptr);
    EXPECT_EQ(answer(gl)->result(), http::status::not_found);
}

TEST(Ingress_Handler, AllowUnsignedAcceptsWithoutTokenAndMarksItUnverified) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = load("providers: { gitlab: { allow_unsigned: true } }\n");
    auto d = decide(Route::gitlab, gitlab_push(fixtures, std::nullopt), cfg);
    auto* stored = std::get_if<ToStore>(&d);
    ASSERT_NE(stored, nullptr) << answer(d)->body();
    EXPECT_FALSE(stored->verified);
    EXPECT_EQ(stored->delivery.id, "a1b2c3");
    EXPECT_EQ(stored->jobs.size(), 1u);
}

TEST(Ingress_Handler, AllowUnsignedStillChecksATokenItCanCheck) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = load("providers: { gitlab: { tokens: [gl], allow_unsigned: true } }\n");
    auto wrong = decide(Route::gitlab, gitlab_push(fixtures, "not-gl"), cfg);
    ASSERT_NE(answer(wrong), nullptr);
    EXPECT_EQ(answer(wrong)->result(), http::status::unauthorized);
    auto right = decide(Route::gitlab, gitlab_push(fixtures, "gl"), cfg);
    ASSERT_NE(std::get_if<ToStore>(&right), nullptr);
    EXPECT_TRUE(std::get<ToStore>(right).verified);
    auto unsigned_ = decide(Route::gitlab, gitlab_push(fixtures, std::nullopt), cfg);
    ASSERT_NE(std::get_if<ToStore>(&unsigned_), nullptr);
    EXPECT_FALSE(std::get<ToStore>(unsigned_).verified);
}

TEST(Ingress_Handler, WithoutAllowUnsignedAMissingSignatureIs401) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = load("providers: { github: { secrets: [gh] } }\n");
    auto d = decide(Route::github, github_push(fixtures, std::nullopt), cfg);
    ASSERT_NE(answer(d), nullptr);
    EXPECT_EQ(answer(d)->result(), http::status::unauthorized);
    auto ok = decide(Route::github, github_push(fixtures, "gh"), cfg);
    ASSERT_NE(std::get_if<ToStore>(&ok), nullptr);
    EXPECT_TRUE(std::get<ToStore>(ok).verified);
}

// Issue 22: when RAND_bytes fails, every delivery without an id header used to get the same id
// and all but the first were dropped as duplicates. Now: 503, so the forge redelivers.
TEST(Ingress_Handler, NoRandomIdMeans503NotAFixedId) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = load("providers: { gitlab: { tokens: [gl] } }\n");
    int drawn = 0;
    const FallbackId failing = [&]() -> std::optional<std::string> {
        ++drawn;
        return std::nullopt;
    };
    auto d = decide(Route::gitlab, gitlab_push(fixtures, "gl", std::nullopt), cfg, failing);
    ASSERT_NE(answer(d), nullptr);
    EXPECT_EQ(answer(d)->result(), http::status::service_unavailable);
    EXPECT_NE(answer(d)->body().find("cannot draw a delivery id"), std::string::npos);
    EXPECT_EQ(drawn, 1);
    // A delivery that names itself never asks for a random id.
    auto named = decide(Route::gitlab, gitlab_push(fixtures, "gl", "uuid-7"), cfg, failing);
    ASSERT_NE(std::get_if<ToStore>(&named), nullptr);
    EXPECT_EQ(std::get<ToStore>(named).delivery.id, "uuid-7");
    EXPECT_EQ(drawn, 1);
}

// --- route ------------------------------------------------------------------------------------

TEST(Ingress_Route, EveryEndpointAnswersItsMethod) {
    EXPECT_EQ(route(http::verb::post, "/webhooks/github"), Route::github);
    EXPECT_EQ(route(http::verb::post, "/webhooks/gitlab"), Route::gitlab);
    EXPECT_EQ(route(http::verb::get, "/healthz"), Route::healthz);
    EXPECT_EQ(route(http::verb::get, "/readyz"), Route::readyz);
    EXPECT_EQ(route(http::verb::get, "/metrics"), Route::metrics);
    // HEAD goes wherever GET goes.
    EXPECT_EQ(route(http::verb::head, "/healthz"), Route::healthz);
    EXPECT_EQ(route(http::verb::head, "/readyz"), Route::readyz);
    EXPECT_EQ(route(http::verb::head, "/metrics"), Route::metrics);
}

TEST(Ingress_Route, AKnownPathWithAnotherMethodIsMethodNotAllowed) {
    for (auto verb : {http::verb::get, http::verb::head, http::verb::put, http::verb::delete_,
                      http::verb::patch, http::verb::options}) {
        EXPECT_EQ(route(verb, "/webhooks/github"), Route::method_not_allowed) << verb;
        EXPECT_EQ(route(verb, "/webhooks/gitlab"), Route::method_not_allowed) << verb;
    }
    for (auto path : {"/healthz", "/readyz", "/metrics"}) {
        for (auto verb : {http::verb::post, http::verb::put, http::verb::delete_, http::verb::patch,
                          http::verb::options}) {
            EXPECT_EQ(route(verb, path), Route::method_not_allowed) << path << " " << verb;
        }
    }
}

TEST(Ingress_Route, TheQueryIsIgnoredAndPathsMatchExactly) {
    EXPECT_EQ(route(http::verb::get, "/healthz?verbose=1"), Route::healthz);
    EXPECT_EQ(route(http::verb::post, "/webhooks/github?source=proxy"), Route::github);
    EXPECT_EQ(route(http::verb::put, "/metrics?x"), Route::method_not_allowed);
    for (auto path :
         {"", "/", "/healthz/", "/HEALTHZ", "/webhooks", "/webhooks/", "/webhooks/github/",
          "/webhooks/bitbucket", "/webhooks/github/extra", "//healthz", "healthz"}) {
        EXPECT_EQ(route(http::verb::get, path), Route::not_found) << path;
        EXPECT_EQ(route(http::verb::post, path), Route::not_found) << path;
    }
}

// --- decide_webhook ---------------------------------------------------------------------------

config::Config both_forges() {
    return load("providers: { github: { secrets: [gh] }, gitlab: { tokens: [gl] } }\n");
}

const ToStore* stored(const Decision& d) { return std::get_if<ToStore>(&d); }

// The request's status and {"error": reason}.
void expect_rejected(const Decision& d, http::status status, std::string_view reason) {
    const auto* res = answer(d);
    ASSERT_NE(res, nullptr) << "accepted, not rejected";
    EXPECT_EQ(res->result(), status) << res->body();
    EXPECT_EQ(res->body(), boost::json::serialize(boost::json::object{{"error", reason}}));
}

// Percent-encodes everything but the unreserved characters, as a form post does.
std::string form_encode(std::string_view in) {
    static constexpr std::string_view kHex = "0123456789ABCDEF";
    std::string out;
    for (const char c : in) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 0xF];
        }
    }
    return out;
}

TEST(Ingress_Handler, AGithubPushBecomesADeliveryCarryingWhatWasReceived) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = both_forges();
    const auto req = github_push(fixtures, "gh");
    const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1'750'000'000}};
    auto d = decide_webhook(Route::github, req, cfg, "fp-42", now,
                            []() -> std::optional<std::string> { return "never-drawn"; });
    const auto* out = stored(d);
    ASSERT_NE(out, nullptr) << answer(d)->body();
    EXPECT_TRUE(out->verified);
    EXPECT_EQ(out->delivery.id, "d-1");
    EXPECT_EQ(out->delivery.provider, "github");
    EXPECT_EQ(out->delivery.event, "push");
    EXPECT_EQ(out->delivery.repo, "woodpecker-ci/woodpecker");
    EXPECT_EQ(out->delivery.received_at, now);
    EXPECT_EQ(out->delivery.payload, req.body());
    EXPECT_EQ(out->delivery.config_fingerprint, "fp-42");
    EXPECT_EQ(out->delivery.status, "queued");
    EXPECT_TRUE(boost::json::parse(out->delivery.event_json).is_object());
    EXPECT_TRUE(boost::json::parse(out->delivery.verdicts_json).is_array() ||
                boost::json::parse(out->delivery.verdicts_json).is_object());
    ASSERT_EQ(out->jobs.size(), 1u);
    EXPECT_EQ(out->jobs[0].rule, "every-push");
    EXPECT_EQ(out->jobs[0].action, "deploy");
    EXPECT_EQ(out->jobs[0].app, "app-aa");
    EXPECT_EQ(out->jobs[0].args_json, R"({"branch":"main"})");
}

TEST(Ingress_Handler, AnEventNoRuleWantsIsStoredAsIgnored) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = both_forges();
    for (const auto& [event, file] : {std::pair{"pull_request", "github/pull_request/opened.json"},
                                      std::pair{"ping", "github/ping/ping.json"},
                                      std::pair{"release", "github/release/published.json"}}) {
        Request req{http::verb::post, "/webhooks/github", 11};
        req.set(http::field::content_type, "application/json");
        req.set("X-GitHub-Event", event);
        req.set("X-GitHub-Delivery", std::string("d-") + event);
        req.body() = testing::read_file(fixtures / file);
        req.set("X-Hub-Signature-256", testing::github_signature("gh", req.body()));
        req.prepare_payload();
        auto d = decide(Route::github, req, cfg);
        const auto* out = stored(d);
        ASSERT_NE(out, nullptr) << file << ": " << answer(d)->body();
        EXPECT_EQ(out->delivery.status, "ignored") << file;
        EXPECT_TRUE(out->jobs.empty()) << file;
        EXPECT_EQ(out->delivery.event, event);
    }
}

TEST(Ingress_Handler, AGitlabPushBecomesADelivery) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    auto d = decide(Route::gitlab, gitlab_push(fixtures, "gl"), both_forges());
    const auto* out = stored(d);
    ASSERT_NE(out, nullptr) << answer(d)->body();
    EXPECT_EQ(out->delivery.provider, "gitlab");
    EXPECT_EQ(out->delivery.event, "Push Hook");
    EXPECT_EQ(out->delivery.repo, "mike/diaspora");
    EXPECT_EQ(out->delivery.id, "a1b2c3");
    ASSERT_EQ(out->jobs.size(), 1u);
    EXPECT_EQ(out->jobs[0].args_json, R"({"branch":"master"})");
}

TEST(Ingress_Handler, GitlabIdempotencyKeyNamesTheDeliveryBeforeTheEventUuid) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = both_forges();
    auto req = gitlab_push(fixtures, "gl", "uuid-1");
    req.set("Idempotency-Key", "key-1");
    auto d = decide(Route::gitlab, req, cfg);
    ASSERT_NE(stored(d), nullptr);
    EXPECT_EQ(stored(d)->delivery.id, "key-1");
    req.set("Idempotency-Key", "");  // empty: the event UUID names it
    auto e = decide(Route::gitlab, req, cfg);
    ASSERT_NE(stored(e), nullptr);
    EXPECT_EQ(stored(e)->delivery.id, "uuid-1");
    // Neither: a drawn id.
    auto f = decide(Route::gitlab, gitlab_push(fixtures, "gl", std::nullopt), cfg);
    ASSERT_NE(stored(f), nullptr);
    EXPECT_EQ(stored(f)->delivery.id, "lp-drawn");
}

TEST(Ingress_Handler, ContentTypeIsCheckedFirstAndItsParametersIgnored) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = both_forges();
    auto gh = github_push(fixtures, "gh");
    gh.set(http::field::content_type, "text/plain");
    expect_rejected(decide(Route::github, gh, cfg), http::status::unsupported_media_type,
                    "Content-Type must be application/json or application/x-www-form-urlencoded");
    gh.erase(http::field::content_type);
    expect_rejected(decide(Route::github, gh, cfg), http::status::unsupported_media_type,
                    "Content-Type must be application/json or application/x-www-form-urlencoded");
    auto gl = gitlab_push(fixtures, "gl");
    gl.set(http::field::content_type, "application/x-www-form-urlencoded");
    expect_rejected(decide(Route::gitlab, gl, cfg), http::status::unsupported_media_type,
                    "Content-Type must be application/json");
    gl.set(http::field::content_type, "Application/JSON ; charset=utf-8");
    EXPECT_NE(stored(decide(Route::gitlab, gl, cfg)), nullptr);
}

TEST(Ingress_Handler, AGithubFormPostCarriesTheSameJson) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = both_forges();
    const auto json = testing::read_file(fixtures / "github/push/branch-updated.json");
    Request req{http::verb::post, "/webhooks/github", 11};
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.set("X-GitHub-Event", "push");
    req.set("X-GitHub-Delivery", "form-1");
    req.body() = "payload=" + form_encode(json);
    req.set("X-Hub-Signature-256", testing::github_signature("gh", req.body()));
    req.prepare_payload();
    auto d = decide(Route::github, req, cfg);
    const auto* out = stored(d);
    ASSERT_NE(out, nullptr) << answer(d)->body();
    EXPECT_EQ(out->delivery.payload, json) << "the decoded JSON is stored, not the form";
    EXPECT_EQ(out->jobs.size(), 1u);

    req.body() = "other=" + form_encode(json);
    req.set("X-Hub-Signature-256", testing::github_signature("gh", req.body()));
    req.prepare_payload();
    expect_rejected(decide(Route::github, req, cfg), http::status::bad_request,
                    "form body has no payload= field");
}

TEST(Ingress_Handler, EventAndDeliveryHeadersAreChecked) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = both_forges();
    auto gh = github_push(fixtures, "gh");
    gh.erase("X-GitHub-Event");
    expect_rejected(decide(Route::github, gh, cfg), http::status::bad_request,
                    "missing X-GitHub-Event header");
    auto gl = gitlab_push(fixtures, "gl");
    gl.set("X-Gitlab-Event", "");
    expect_rejected(decide(Route::gitlab, gl, cfg), http::status::bad_request,
                    "missing X-Gitlab-Event header");
    for (const std::string& bad :
         {std::string("push/../x"), std::string("push\"x"), std::string(65, 'p')}) {
        auto req = github_push(fixtures, "gh");
        req.set("X-GitHub-Event", bad);
        expect_rejected(decide(Route::github, req, cfg), http::status::bad_request,
                        "X-GitHub-Event must be 1 to 64 letters, digits, spaces, '_', '-' or '.'");
    }
    for (const std::string& bad : {std::string("has space"), std::string(129, 'd')}) {
        auto req = github_push(fixtures, "gh");
        req.set("X-GitHub-Delivery", bad);
        expect_rejected(decide(Route::github, req, cfg), http::status::bad_request,
                        "the delivery id header must be 1 to 128 printable ASCII characters");
    }
}

TEST(Ingress_Handler, SignaturesAndTokensAreChecked) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto cfg = both_forges();
    expect_rejected(decide(Route::github, github_push(fixtures, std::nullopt), cfg),
                    http::status::unauthorized, "missing X-Hub-Signature-256");
    auto wrong = github_push(fixtures, "not-gh");
    expect_rejected(decide(Route::github, wrong, cfg), http::status::unauthorized,
                    "signature does not match any configured secret");
    auto malformed = github_push(fixtures, std::nullopt);
    malformed.set("X-Hub-Signature-256", "sha1=0123456789abcdef0123456789abcdef01234567");
    expect_rejected(decide(Route::github, malformed, cfg), http::status::unauthorized,
                    "malformed X-Hub-Signature-256 (expected sha256=<hex>)");
    // The body is what is signed: one byte changed after signing is refused.
    auto tampered = github_push(fixtures, "gh");
    tampered.body().back() = tampered.body().back() == ' ' ? '\n' : ' ';
    expect_rejected(decide(Route::github, tampered, cfg), http::status::unauthorized,
                    "signature does not match any configured secret");
    expect_rejected(decide(Route::gitlab, gitlab_push(fixtures, std::nullopt), cfg),
                    http::status::unauthorized, "missing X-Gitlab-Token");
    expect_rejected(decide(Route::gitlab, gitlab_push(fixtures, "GL"), cfg),
                    http::status::unauthorized, "X-Gitlab-Token does not match");
}

TEST(Ingress_Handler, TheBodyMustBeAJsonObjectOfBoundedDepth) {
    const auto cfg = both_forges();
    auto with_body = [](std::string body) {
        Request req{http::verb::post, "/webhooks/gitlab", 11};
        req.set(http::field::content_type, "application/json");
        req.set("X-Gitlab-Event", "Push Hook");
        req.set("X-Gitlab-Token", "gl");
        req.body() = std::move(body);
        req.prepare_payload();
        return req;
    };
    const auto bad = decide(Route::gitlab, with_body("{\"object_kind\": "), cfg);
    ASSERT_NE(answer(bad), nullptr);
    EXPECT_EQ(answer(bad)->result(), http::status::bad_request);
    EXPECT_TRUE(answer(bad)->body().starts_with(R"({"error":"malformed JSON: )"))
        << answer(bad)->body();
    expect_rejected(decide(Route::gitlab, with_body("[1, 2]"), cfg), http::status::bad_request,
                    "the payload must be a JSON object");
    expect_rejected(
        decide(Route::gitlab, with_body(std::string(65, '[') + std::string(65, ']')), cfg),
        http::status::bad_request, "JSON nests deeper than 64 levels");
}

TEST(Ingress_Handler, AnswersCarryTheRequestsVersionAndKeepAlive) {
    Request req{http::verb::post, "/webhooks/github", 10};
    req.keep_alive(true);
    const auto ok = accepted(req, "d-9", "queued", 2);
    EXPECT_EQ(ok.result(), http::status::accepted);
    EXPECT_EQ(ok.version(), 10u);
    EXPECT_TRUE(ok.keep_alive());
    EXPECT_EQ(ok.body(), R"({"delivery":"d-9","status":"queued","jobs":2})");
    EXPECT_EQ(ok[http::field::content_type], "application/json");
    EXPECT_EQ(ok[http::field::content_length], std::to_string(ok.body().size()));
    const auto err = error_response(11, false, http::status::bad_request, "say \"why\"");
    EXPECT_EQ(err.body(), R"({"error":"say \"why\""})");
    EXPECT_FALSE(err.keep_alive());
    EXPECT_EQ(err[http::field::content_type], "application/json");
}

TEST(Ingress_Handler, TheClaimedDeliveryIdIsCutAndPrintable) {
    Request req{http::verb::post, "/webhooks/github", 11};
    EXPECT_EQ(claimed_delivery_id(Route::github, req), "-");
    req.set("X-GitHub-Delivery", "abc\x7f" + std::string(80, 'z'));
    const auto id = claimed_delivery_id(Route::github, req);
    EXPECT_EQ(id.size(), 64u);
    EXPECT_TRUE(id.starts_with("abc?zz"));
    Request gl{http::verb::post, "/webhooks/gitlab", 11};
    gl.set("X-Gitlab-Event-UUID", "uuid-3");
    EXPECT_EQ(claimed_delivery_id(Route::gitlab, gl), "uuid-3");
    gl.set("Idempotency-Key", "key-3");
    EXPECT_EQ(claimed_delivery_id(Route::gitlab, gl), "key-3");
}

}  // namespace
}  // namespace linkpilot::ingress
