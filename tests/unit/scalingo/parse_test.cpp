#include "daemon/scalingo/parse.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "daemon/scalingo/errors.hpp"
#include "daemon/scalingo/http.hpp"
#include "daemon/scalingo/jwt.hpp"

namespace linkpilot::scalingo {
namespace {

using std::chrono::seconds;

TimePoint at(std::int64_t unix_seconds) { return TimePoint(seconds(unix_seconds)); }

// --- error bodies ---------------------------------------------------------------------------

TEST(Scalingo_Errors, FormatsValidationErrors) {
    EXPECT_EQ(format_error(422, R"({"errors": {"branch": ["can't be blank"]}})"),
              "422 Unprocessable Entity: branch: can't be blank");
}

TEST(Scalingo_Errors, FormatsSeveralFieldsAndMessages) {
    EXPECT_EQ(format_error(422, R"({"errors": {"name": ["is taken", "is too short"],
                                             "region": ["is invalid"]}})"),
              "422 Unprocessable Entity: name: is taken, is too short; region: is invalid");
}

TEST(Scalingo_Errors, FormatsNotFoundWithResource) {
    EXPECT_EQ(format_error(404, R"({"resource": "app", "error": "not found"})"),
              "404 Not Found: app not found");
}

TEST(Scalingo_Errors, FormatsPlainErrorField) {
    EXPECT_EQ(format_error(400, R"({"error": "pull_request_id is missing"})"),
              "400 Bad Request: pull_request_id is missing");
}

TEST(Scalingo_Errors, KeepsPlainTextShortAndOnOneLine) {
    EXPECT_EQ(format_error(429, "Too Many Requests\n"), "429 Too Many Requests: Too Many Requests");
    const std::string long_body(5000, 'x');
    const auto message = format_error(429, long_body);
    EXPECT_LT(message.size(), 260u);
    EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(Scalingo_Errors, EmptyBodyGivesStatusOnly) {
    EXPECT_EQ(format_error(502, ""), "502 Bad Gateway");
}

TEST(Scalingo_Errors, AnswerErrorKeepsStatusAndRetryAfter) {
    const auto e = error_from_answer(429, "slow down", seconds(3));
    EXPECT_EQ(e.kind, ErrorKind::retryable);
    EXPECT_EQ(e.status, 429u);
    EXPECT_EQ(e.retry_after, seconds(3));
}

// --- JWT --------------------------------------------------------------------------------------

std::string jwt_with_payload(const std::string& payload_json) {
    auto b64url = [](std::string s) {
        s = base64_encode(s);
        for (auto& c : s) {
            c = c == '+' ? '-' : c == '/' ? '_' : c;
        }
        while (!s.empty() && s.back() == '=') {
            s.pop_back();
        }
        return s;
    };
    return b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(payload_json) + ".c2ln";
}

TEST(Scalingo_Jwt, ReadsExp) {
    EXPECT_EQ(jwt_expiry(jwt_with_payload(R"({"sub":"u","exp":1700003600})")), at(1700003600));
}

TEST(Scalingo_Jwt, ReadsExpWhatevertheBase64Padding) {
    // Payload lengths that need 0, 1 and 2 padding characters in standard base64.
    EXPECT_EQ(jwt_expiry(jwt_with_payload(R"({"exp":1700003600})")), at(1700003600));
    EXPECT_EQ(jwt_expiry(jwt_with_payload(R"({"exp":1700003600} )")), at(1700003600));
    EXPECT_EQ(jwt_expiry(jwt_with_payload(R"({"exp":1700003600}  )")), at(1700003600));
}

TEST(Scalingo_Jwt, MissingExpIsNullopt) {
    EXPECT_FALSE(jwt_expiry(jwt_with_payload(R"({"sub":"u"})")));
}

TEST(Scalingo_Jwt, NonNumericExpIsNullopt) {
    EXPECT_FALSE(jwt_expiry(jwt_with_payload(R"({"exp":"tomorrow"})")));
}

TEST(Scalingo_Jwt, GarbageIsNullopt) {
    EXPECT_FALSE(jwt_expiry(""));
    EXPECT_FALSE(jwt_expiry("not-a-jwt"));
    EXPECT_FALSE(jwt_expiry("a.!!!.c"));
    EXPECT_FALSE(jwt_expiry("a.bm90IGpzb24.c"));  // "not json"
}

TEST(Scalingo_Jwt, Base64RoundTrip) {
    EXPECT_EQ(base64_encode(":tk-us-secret"), "OnRrLXVzLXNlY3JldA==");
    EXPECT_EQ(base64url_decode("OnRrLXVzLXNlY3JldA"), std::optional<std::string>(":tk-us-secret"));
}

// --- dates ------------------------------------------------------------------------------------

TEST(Scalingo_Parse, ZeroDateIsUnset) { EXPECT_FALSE(parse_time("0001-01-01T00:00:00Z")); }

TEST(Scalingo_Parse, ParsesUtcAndOffsetDates) {
    EXPECT_EQ(parse_time("2023-11-14T22:13:20Z"), at(1700000000));
    EXPECT_EQ(parse_time("2023-11-14T23:13:20+01:00"), at(1700000000));
    const auto fractional = parse_time("2023-11-14T23:13:20.500+01:00");
    ASSERT_TRUE(fractional);
    EXPECT_EQ(*fractional - at(1700000000), std::chrono::milliseconds(500));
}

TEST(Scalingo_Parse, MalformedDateIsUnset) {
    EXPECT_FALSE(parse_time(""));
    EXPECT_FALSE(parse_time("yesterday"));
    EXPECT_FALSE(parse_time("2023-13-45T99:99:99Z"));
}

// --- answers ----------------------------------------------------------------------------------

constexpr const char* kReviewApps = R"({
  "review_apps": [
    {
      "id": "ra-1", "repo_link_id": "rl-1", "app_id": "app-10", "app_name": "shop-staging-pr12",
      "parent_app_id": "app-1", "parent_app_name": "shop-staging",
      "created_at": "2023-11-14T22:13:20Z",
      "stale_deletion_date": "0001-01-01T00:00:00Z",
      "on_close_deletion_date": "0001-01-01T00:00:00Z",
      "pull_request": {
        "number": 12, "branch_name": "feature/x", "title": "Add X",
        "url": "https://api.github.com/repos/acme/shop/pulls/12",
        "html_url": "https://github.com/acme/shop/pull/12", "ref": "feature/x", "base_ref": "main",
        "created_at": "2023-11-14T20:00:00Z", "closed_at": "0001-01-01T00:00:00Z"
      },
      "last_deployment": {"id": "dep-1", "app_id": "app-10", "status": "success",
                          "git_ref": "abc123", "created_at": "2023-11-15T10:00:00Z"}
    },
    {
      "id": "ra-2", "app_name": "shop-staging-pr9", "parent_app_name": "shop-staging",
      "created_at": "2023-11-01T00:00:00Z",
      "pull_request": {"number": 9, "closed_at": "2023-11-10T00:00:00Z"},
      "last_deployment": null
    }
  ],
  "meta": {"pagination": {"prev_page": null, "current_page": 1, "next_page": 2,
                          "total_pages": 2, "total_count": 3}}
})";

TEST(Scalingo_Parse, ParsesReviewApps) {
    const auto page = parse_review_apps_answer(kReviewApps);
    ASSERT_TRUE(page) << page.error();
    ASSERT_EQ(page->items.size(), 2u);
    const auto& first = page->items[0];
    EXPECT_EQ(first.app_name, "shop-staging-pr12");
    EXPECT_EQ(first.parent_app_name, "shop-staging");
    EXPECT_EQ(first.created_at, at(1700000000));
    EXPECT_FALSE(first.stale_deletion_date);
    ASSERT_TRUE(first.pull_request);
    EXPECT_EQ(first.pull_request->number, 12u);
    EXPECT_EQ(first.pull_request->base_ref, "main");
    EXPECT_FALSE(first.pull_request->closed_at);
    ASSERT_TRUE(first.last_deployment);
    EXPECT_EQ(first.last_deployment->status, "success");
    EXPECT_EQ(first.last_deployment->created_at, at(1700042400));

    const auto& second = page->items[1];
    EXPECT_FALSE(second.last_deployment);
    ASSERT_TRUE(second.pull_request);
    EXPECT_EQ(second.pull_request->closed_at, at(1699574400));
}

TEST(Scalingo_Parse, ParsesPaginationMeta) {
    const auto page = parse_review_apps_answer(kReviewApps);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->pagination.current_page, 1u);
    EXPECT_FALSE(page->pagination.prev_page);
    EXPECT_EQ(page->pagination.next_page, 2u);
    EXPECT_EQ(page->pagination.total_pages, 2u);
    EXPECT_EQ(page->pagination.total_count, 3u);
}

TEST(Scalingo_Parse, AnswerWithoutMetaIsOneCompletePage) {
    const auto page = parse_review_apps_answer(R"({"review_apps": []})");
    ASSERT_TRUE(page);
    EXPECT_TRUE(page->items.empty());
    EXPECT_FALSE(page->pagination.next_page);
}

TEST(Scalingo_Parse, ReviewAppWithoutNameIsAnError) {
    EXPECT_FALSE(parse_review_apps_answer(R"({"review_apps": [{"id": "x"}]})"));
}

TEST(Scalingo_Parse, ParsesDeployment) {
    const auto d = parse_deployment_answer(
        R"({"deployment": {"id": "d1", "app_id": "a1", "status": "queued", "git_ref": "main",
                          "created_at": "2023-11-14T22:13:20Z", "pusher": {"username": "x"}}})");
    ASSERT_TRUE(d) << d.error();
    EXPECT_EQ(d->id, "d1");
    EXPECT_EQ(d->status, "queued");
    EXPECT_EQ(d->git_ref, "main");
    EXPECT_EQ(d->created_at, at(1700000000));
}

TEST(Scalingo_Parse, ParsesReviewAppAnswer) {
    const auto ra = parse_review_app_answer(
        R"({"review_app": {"app_name": "shop-pr3", "parent_app_name": "shop",
                           "pull_request": {"number": 3}}})");
    ASSERT_TRUE(ra) << ra.error();
    EXPECT_EQ(ra->app_name, "shop-pr3");
    EXPECT_EQ(ra->pull_request->number, 3u);
}

TEST(Scalingo_Parse, ParsesLinksPage) {
    const auto page = parse_links_answer(R"({
      "scm_repo_links": [{"id": "l1", "app_id": "a1", "scm_type": "github", "owner": "acme",
                          "repo": "shop", "branch": "main", "auto_deploy_enabled": true,
                          "deploy_review_apps_enabled": true, "hours_before_delete_stale": 72,
                          "last_auto_deploy_at": "0001-01-01T00:00:00Z"}],
      "meta": {"pagination": {"prev_page": 1, "current_page": 2, "next_page": null,
                              "total_pages": 2, "total_count": 31}}})");
    ASSERT_TRUE(page) << page.error();
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].owner, "acme");
    EXPECT_TRUE(page->items[0].auto_deploy_enabled);
    EXPECT_FALSE(page->items[0].delete_stale_enabled);
    EXPECT_EQ(page->items[0].hours_before_delete_stale, 72u);
    EXPECT_FALSE(page->items[0].last_auto_deploy_at);
    EXPECT_EQ(page->pagination.prev_page, 1u);
    EXPECT_FALSE(page->pagination.next_page);
    EXPECT_EQ(page->pagination.total_count, 31u);
}

TEST(Scalingo_Parse, ParsesLink) {
    const auto l = parse_link_answer(R"({"scm_repo_link": {"id": "l1", "branch": "main"}})");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->branch, "main");
}

TEST(Scalingo_Parse, RejectsWrongShapes) {
    EXPECT_FALSE(parse_deployment_answer("not json"));
    EXPECT_FALSE(parse_deployment_answer("[]"));
    EXPECT_FALSE(parse_deployment_answer(R"({"app": {}})"));
    EXPECT_FALSE(parse_links_answer(R"({"scm_repo_links": {}})"));
}

TEST(Scalingo_Parse, ParsesExchangeAnswer) {
    EXPECT_EQ(parse_exchange_answer(R"({"token": "a.b.c"})").value(), "a.b.c");
    EXPECT_FALSE(parse_exchange_answer(R"({"token": ""})"));
    EXPECT_FALSE(parse_exchange_answer(R"({})"));
}

// --- URLs and proxies -------------------------------------------------------------------------

TEST(Scalingo_Http, ParsesOrigins) {
    const auto a = parse_origin("https://api.osc-fr1.scalingo.com");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->tls);
    EXPECT_EQ(a->host, "api.osc-fr1.scalingo.com");
    EXPECT_EQ(a->port, 443);
    EXPECT_EQ(a->base_path, "");
    const auto b = parse_origin("http://127.0.0.1:8080/prefix/");
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->tls);
    EXPECT_EQ(b->port, 8080);
    EXPECT_EQ(b->base_path, "/prefix");
    const auto c = parse_origin("http://[::1]:9000");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host, "::1");
    EXPECT_EQ(c->authority(), "[::1]:9000");
    EXPECT_FALSE(parse_origin("ftp://example.com"));
    EXPECT_FALSE(parse_origin("not a url"));
}

TEST(Scalingo_Http, ReadsProxyEnvironment) {
    std::map<std::string, std::string> env{{"HTTPS_PROXY", "http://user:pw@proxy.corp:8080"},
                                           {"NO_PROXY", "localhost, .internal,10.0.0.1"}};
    const auto settings = proxy_from_environment([&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
    ASSERT_TRUE(settings) << settings.error();
    ASSERT_TRUE(settings->https_proxy);
    EXPECT_EQ(settings->https_proxy->host, "proxy.corp");
    EXPECT_EQ(settings->https_proxy->port, 8080);
    EXPECT_EQ(settings->proxy_authorization, "Basic " + base64_encode("user:pw"));
    EXPECT_EQ(settings->no_proxy, (std::vector<std::string>{"localhost", ".internal", "10.0.0.1"}));
}

TEST(Scalingo_Http, LowerCaseProxyVariablesWin) {
    std::map<std::string, std::string> env{{"HTTPS_PROXY", "http://upper:1"},
                                           {"https_proxy", "lower:2"}};
    const auto settings = proxy_from_environment([&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
    ASSERT_TRUE(settings);
    EXPECT_EQ(settings->https_proxy->host, "lower");
    EXPECT_EQ(settings->https_proxy->port, 2);
}

TEST(Scalingo_Http, NoProxyMatchesHostsAndDomains) {
    const std::vector<std::string> no_proxy{"localhost", ".internal", "example.com:443",
                                            "10.0.0.1"};
    EXPECT_TRUE(bypasses_proxy(no_proxy, "localhost"));
    EXPECT_TRUE(bypasses_proxy(no_proxy, "api.internal"));
    EXPECT_TRUE(bypasses_proxy(no_proxy, "example.com"));
    EXPECT_TRUE(bypasses_proxy(no_proxy, "API.Example.com"));
    EXPECT_TRUE(bypasses_proxy(no_proxy, "10.0.0.1"));
    EXPECT_FALSE(bypasses_proxy(no_proxy, "notexample.com"));
    EXPECT_FALSE(bypasses_proxy(no_proxy, "api.osc-fr1.scalingo.com"));
    EXPECT_TRUE(bypasses_proxy({"*"}, "anything"));
}

}  // namespace
}  // namespace linkpilot::scalingo
