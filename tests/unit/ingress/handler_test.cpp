// decide_webhook (daemon/ingress/handler.cpp) on real forge payloads: the fail-closed endpoint,
// unsigned deliveries under allow_unsigned, and a delivery id when the random generator fails
// (issue 22).
#include "daemon/ingress/handler.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

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

}  // namespace
}  // namespace linkpilot::ingress
