#include "daemon/scalingo/client.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <random>
#include <sstream>

#include "daemon/scalingo/retry.hpp"
#include "linkpilot_version.hpp"
#include "tests/support/coroutines.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/unit/scalingo/client_fixture.hpp"

namespace linkpilot::scalingo {
namespace {

using namespace std::chrono_literals;
using linkpilot::testing::Attempts;
using linkpilot::testing::run;
using linkpilot::testing::with_retries;
using testing::ClientFixture;
using testing::kApiToken;
using testing::rendered;
namespace net = boost::asio;
namespace http = boost::beast::http;

constexpr const char* kDeployment =
    R"({"deployment": {"id": "dep-1", "app_id": "app-1", "status": "queued", "git_ref": "main",
                       "created_at": "2023-11-14T22:13:20Z"}})";

// What the job executor does with a failed attempt, minus the durable store: ask the policy,
// let the injected clock jump over the delay, attempt again.
// Between attempts, the fake clock moves by the policy's delay: no real waiting.
std::function<net::awaitable<void>(std::chrono::milliseconds)> advance(
    linkpilot::testing::FakeClock& clock) {
    return [&clock](std::chrono::milliseconds d) -> net::awaitable<void> {
        clock.advance(d);
        co_return;
    };
}

const RetryPolicy kPolicy{5, 1s, 10s};

TEST(Scalingo_Client, OneExchangeServesManyCalls) {
    ClientFixture f;
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy", http::status::ok,
              kDeployment);
    auto client = f.client(f.options());
    const int ok = run<int>(f.ioc, [&]() -> net::awaitable<int> {
        int n = 0;
        for (int i = 0; i < 5; ++i) {
            auto d = co_await client->manual_deploy("shop", "main");
            n += d.has_value() ? 1 : 0;
        }
        co_return n;
    });
    EXPECT_EQ(ok, 5);
    EXPECT_EQ(f.fake.exchanges(), 1);
    EXPECT_EQ(client->exchanges(), 1u);
    EXPECT_EQ(f.server.connections(), 1);  // keep-alive: auth and API share host:port here
}

TEST(Scalingo_Client, SendsScalingoShapedRequests) {
    ClientFixture f;
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy", http::status::ok,
              kDeployment);
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_review_app", http::status::ok,
              R"({"review_app": {"app_name": "shop-pr12", "parent_app_name": "shop"}})");
    f.fake.on(http::verb::delete_, "/v1/apps/shop-pr12?current_name=shop-pr12",
              http::status::no_content, "");
    auto client = f.client(f.options());
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        auto d = co_await client->manual_deploy("shop", "feature/x");
        EXPECT_TRUE(d) << d.error().message;
        auto ra = co_await client->manual_review_app("shop", 12);
        EXPECT_TRUE(ra) << ra.error().message;
        if (ra) {
            EXPECT_EQ(ra->app_name, "shop-pr12");
        }
        auto del = co_await client->delete_app("shop-pr12");
        EXPECT_TRUE(del) << del.error().message;
        co_return true;
    });
    const auto calls = f.fake.api_calls();
    ASSERT_EQ(calls.size(), 3u);
    EXPECT_EQ(calls[0].body, R"({"branch":"feature/x"})");
    EXPECT_EQ(calls[0].content_type, "application/json");
    EXPECT_EQ(calls[0].user_agent, std::string("linkpilot/") + linkpilot::kVersion);
    EXPECT_EQ(calls[0].authorization.rfind("Bearer ", 0), 0u);
    EXPECT_EQ(calls[1].body, R"({"pull_request_id":12})");  // a JSON number
    EXPECT_EQ(calls[2].method, http::verb::delete_);
    const auto& exchange = f.fake.seen().front();
    EXPECT_EQ(exchange.target, "/v1/tokens/exchange");
    EXPECT_EQ(exchange.authorization, "Basic " + base64_encode(std::string(":") + kApiToken));
}

TEST(Scalingo_Client, RefreshesOnceOn401ThenSucceeds) {
    ClientFixture f;
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link", http::status::ok,
              R"({"scm_repo_link": {"id": "l1", "branch": "main"}})");
    auto client = f.client(f.options());
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        auto first = co_await client->link("shop");
        EXPECT_TRUE(first);
        f.fake.revoke_all_bearers();
        auto second = co_await client->link("shop");
        EXPECT_TRUE(second) << second.error().message;
        co_return true;
    });
    EXPECT_EQ(f.fake.exchanges(), 2);
    EXPECT_EQ(f.fake.api_calls().size(), 3u);  // ok, 401, ok
}

TEST(Scalingo_Client, RefreshesOnlyOnceWhenEveryBearerIsRefused) {
    ClientFixture f;
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link", http::status::ok,
              R"({"scm_repo_link": {"id": "l1"}})");
    f.fake.refuse_all_bearers();
    auto client = f.client(f.options());
    auto r = run<Expected<ScmRepoLink, CallError>>(
        f.ioc, [&]() -> Call<ScmRepoLink> { co_return co_await client->link("shop"); });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::fatal);
    EXPECT_EQ(r.error().status, 401U);
    EXPECT_EQ(r.error().message, "401 Unauthorized: You are not authorized to do this operation");
    EXPECT_EQ(f.fake.exchanges(), 2);          // the first bearer, then one refresh
    EXPECT_EQ(f.fake.api_calls().size(), 2U);  // one call per bearer, no loop
}

TEST(Scalingo_Client, WrongApiTokenIsFatalAfterExactlyOneExchange) {
    ClientFixture f;
    auto client = f.client(f.options("tk-us-wrong"));
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        auto d = co_await client->manual_deploy("shop", "main");
        EXPECT_FALSE(d);
        if (!d) {
            EXPECT_EQ(d.error().kind, ErrorKind::fatal);
            EXPECT_EQ(d.error().status, 401u);
            EXPECT_EQ(d.error().message, "Scalingo rejected the API token (401)");
        }
        co_return true;
    });
    EXPECT_EQ(f.fake.exchanges(), 1);
    EXPECT_TRUE(f.fake.api_calls().empty());
    // The refused exchange is a call of its own; the deploy never went out.
    EXPECT_EQ(client->metrics().calls(ApiCall::token_exchange, 401), 1U);
    EXPECT_EQ(rendered(*client).find("call=\"manual_deploy\""), std::string::npos);
}

TEST(Scalingo_Client, ConcurrentCallsShareOneExchange) {
    ClientFixture f;
    auto client = f.client(f.options("tk-us-wrong"));
    int failed = 0;
    int done = 0;
    for (int i = 0; i < 3; ++i) {
        net::co_spawn(
            f.ioc,
            [&]() -> net::awaitable<void> {
                auto r = co_await client->review_apps("shop");
                failed += r ? 0 : 1;
                if (++done == 3) {
                    f.ioc.stop();
                }
            },
            net::detached);
    }
    f.ioc.run();
    EXPECT_EQ(failed, 3);
    EXPECT_EQ(f.fake.exchanges(), 1);  // no retry storm
}

// The daemon runs up to jobs.max_concurrency calls at once: the keep-alive pool must hold that
// many connections, or every round re-opens the ones it could not keep (TCP and TLS handshakes).
TEST(Scalingo_Client, KeepsAsManyIdleConnectionsAsCallsInFlight) {
    ClientFixture f;
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy", http::status::ok,
              kDeployment);
    auto o = f.options();
    constexpr int kParallel = 12;
    o.idle_connections = kParallel;
    auto client = f.client(o);
    auto round = [&] {
        int ok = 0;
        int done = 0;
        for (int i = 0; i < kParallel; ++i) {
            net::co_spawn(
                f.ioc,
                [&]() -> net::awaitable<void> {
                    auto d = co_await client->manual_deploy("shop", "main");
                    ok += d ? 1 : 0;
                    if (++done == kParallel) {
                        f.ioc.stop();
                    }
                },
                net::detached);
        }
        f.ioc.restart();
        f.ioc.run();
        return ok;
    };
    ASSERT_EQ(round(), kParallel);
    const auto opened = f.server.connections();
    ASSERT_GT(opened, 4) << "the calls of one round must overlap for this test to mean anything";
    ASSERT_EQ(round(), kParallel);
    EXPECT_EQ(f.server.connections(), opened);  // the second round reused every connection
}

TEST(Scalingo_Client, RefreshesBearerWhenUnderFiveMinutesRemain) {
    ClientFixture f;
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link", http::status::ok,
              R"({"scm_repo_link": {"id": "l1"}})");
    auto client = f.client(f.options());
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        (void)co_await client->link("shop");
        f.clock.advance(54min);  // 6 minutes left: keep it
        (void)co_await client->link("shop");
        EXPECT_EQ(f.fake.exchanges(), 1);
        f.clock.advance(2min);  // 4 minutes left: refresh
        (void)co_await client->link("shop");
        EXPECT_EQ(f.fake.exchanges(), 2);
        co_return true;
    });
}

TEST(Scalingo_Client, ServerErrorTwiceThenOkSucceedsOnTheThirdAttempt) {
    ClientFixture f;
    int answered = 0;
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy",
              [&](const testing::Request&) -> net::awaitable<testing::Response> {
                  if (++answered <= 2) {
                      co_return testing::json_response(http::status::internal_server_error,
                                                       R"({"error": "boom"})");
                  }
                  co_return testing::json_response(http::status::ok, kDeployment);
              });
    auto client = f.client(f.options());
    auto out = run<Attempts<Deployment>>(f.ioc, [&]() -> net::awaitable<Attempts<Deployment>> {
        co_return co_await with_retries<Deployment>(
            [&]() -> Call<Deployment> { return client->manual_deploy("shop", "main"); }, kPolicy,
            advance(f.clock));
    });
    ASSERT_TRUE(out.result && *out.result) << out.result->error().message;
    EXPECT_EQ((*out.result)->id, "dep-1");
    EXPECT_EQ(out.count, 3U);
    ASSERT_EQ(out.delays.size(), 2U);
    EXPECT_LE(out.delays[0], backoff_cap(kPolicy, 1));
    EXPECT_LE(out.delays[1], backoff_cap(kPolicy, 2));
    EXPECT_EQ(f.fake.api_calls().size(), 3U);
    EXPECT_EQ(f.fake.exchanges(), 1);  // a 500 says nothing about the bearer
}

TEST(Scalingo_Client, ServerErrorMessageIsScalingos) {
    ClientFixture f;
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy",
              http::status::service_unavailable, R"({"error": "maintenance"})");
    auto client = f.client(f.options());
    auto d = run<Expected<Deployment, CallError>>(f.ioc, [&]() -> Call<Deployment> {
        co_return co_await client->manual_deploy("shop", "main");
    });
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().kind, ErrorKind::retryable);
    EXPECT_EQ(d.error().status, 503U);
    EXPECT_EQ(d.error().message, "503 Service Unavailable: maintenance");
}

// Scalingo's 429: Retry-After (when sent) and a plain-text body.
testing::FakeScalingo::Route too_many_then_ok(int& answered, std::string retry_after) {
    return [&answered, retry_after](const testing::Request&) -> net::awaitable<testing::Response> {
        if (++answered == 1) {
            testing::Response res{http::status::too_many_requests, 11};
            res.set(http::field::retry_after, retry_after);
            res.set(http::field::content_type, "text/plain");
            res.body() = "Too Many Requests";
            co_return res;
        }
        co_return testing::json_response(http::status::ok, kDeployment);
    };
}

TEST(Scalingo_Client, TooManyRequestsWaitsRetryAfterOnTheInjectedClock) {
    ClientFixture f;
    int answered = 0;
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy",
              too_many_then_ok(answered, "2"));
    auto client = f.client(f.options());
    // A backoff far below 2 s: only Retry-After can explain the wait.
    const RetryPolicy policy{5, 10ms, 100ms};
    auto out = run<Attempts<Deployment>>(f.ioc, [&]() -> net::awaitable<Attempts<Deployment>> {
        co_return co_await with_retries<Deployment>(
            [&]() -> Call<Deployment> { return client->manual_deploy("shop", "main"); }, policy,
            advance(f.clock));
    });
    ASSERT_TRUE(out.result && *out.result) << out.result->error().message;
    EXPECT_EQ(out.count, 2U);
    ASSERT_EQ(out.delays.size(), 1U);
    EXPECT_EQ(out.delays[0], 2s);
    const auto calls = f.fake.api_calls();
    ASSERT_EQ(calls.size(), 2U);
    EXPECT_GE(calls[1].at - calls[0].at, 2s);
}

TEST(Scalingo_Client, TooManyRequestsCarriesRetryAfterAsHttpDate) {
    ClientFixture f;
    int answered = 0;
    // FakeClock starts at 1700000000 = Tue, 14 Nov 2023 22:13:20 GMT.
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy",
              too_many_then_ok(answered, "Tue, 14 Nov 2023 22:13:22 GMT"));
    auto client = f.client(f.options());
    auto d = run<Expected<Deployment, CallError>>(f.ioc, [&]() -> Call<Deployment> {
        co_return co_await client->manual_deploy("shop", "main");
    });
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().kind, ErrorKind::retryable);
    EXPECT_EQ(d.error().status, 429U);
    EXPECT_EQ(d.error().retry_after, std::chrono::milliseconds(2s));
    EXPECT_EQ(d.error().message, "429 Too Many Requests: Too Many Requests");
}

TEST(Scalingo_Client, UnprocessableEntityFailsAtOnceWithScalingosMessage) {
    ClientFixture f;
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy",
              http::status::unprocessable_entity, R"({"errors": {"branch": ["can't be blank"]}})");
    auto client = f.client(f.options());
    auto out = run<Attempts<Deployment>>(f.ioc, [&]() -> net::awaitable<Attempts<Deployment>> {
        co_return co_await with_retries<Deployment>(
            [&]() -> Call<Deployment> { return client->manual_deploy("shop", ""); }, kPolicy,
            advance(f.clock));
    });
    ASSERT_TRUE(out.result && !*out.result);
    EXPECT_EQ(out.count, 1U);
    EXPECT_EQ(out.result->error().kind, ErrorKind::fatal);
    EXPECT_EQ(out.result->error().status, 422U);
    EXPECT_EQ(out.result->error().message, "422 Unprocessable Entity: branch: can't be blank");
    EXPECT_EQ(f.fake.api_calls().size(), 1U);
}

TEST(Scalingo_Client, NotFoundFailsAtOnceWithScalingosMessage) {
    ClientFixture f;
    auto client = f.client(f.options());
    auto out = run<Attempts<ScmRepoLink>>(f.ioc, [&]() -> net::awaitable<Attempts<ScmRepoLink>> {
        co_return co_await with_retries<ScmRepoLink>(
            [&]() -> Call<ScmRepoLink> { return client->link("nope"); }, kPolicy, advance(f.clock));
    });
    ASSERT_TRUE(out.result && !*out.result);
    EXPECT_EQ(out.count, 1U);
    EXPECT_EQ(out.result->error().kind, ErrorKind::fatal);
    EXPECT_EQ(out.result->error().status, 404U);
    EXPECT_EQ(out.result->error().message, "404 Not Found: app not found");
    EXPECT_EQ(f.fake.api_calls().size(), 1U);
}

TEST(Scalingo_Client, ReviewAppsFollowsPagination) {
    ClientFixture f;
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link/review_apps", http::status::ok,
              R"({"review_apps": [{"app_name": "shop-pr1"}, {"app_name": "shop-pr2"}],
                  "meta": {"pagination": {"current_page": 1, "next_page": 2, "prev_page": null,
                                          "total_pages": 2, "total_count": 3}}})");
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link/review_apps?page=2", http::status::ok,
              R"({"review_apps": [{"app_name": "shop-pr3"}],
                  "meta": {"pagination": {"current_page": 2, "next_page": null, "prev_page": 1,
                                          "total_pages": 2, "total_count": 3}}})");
    auto client = f.client(f.options());
    const auto names =
        run<std::vector<std::string>>(f.ioc, [&]() -> net::awaitable<std::vector<std::string>> {
            std::vector<std::string> out;
            auto r = co_await client->review_apps("shop");
            EXPECT_TRUE(r) << r.error().message;
            if (r) {
                for (const auto& ra : *r) {
                    out.push_back(ra.app_name);
                }
            }
            co_return out;
        });
    EXPECT_EQ(names, (std::vector<std::string>{"shop-pr1", "shop-pr2", "shop-pr3"}));
}

// Issue 22: a call the pacing (scalingo.rate_limit) held back used to show the wait as its own
// latency. Here the API answers in 17 ms of the injected clock and the pacing allows one call
// every 100 ms, so the second deploy waits 83 ms and still takes 17 ms. Both histograms are
// read off the injected clock: exact sums.
TEST(Scalingo_Client, PacingWaitIsMeasuredApartFromTheCall) {
    ClientFixture f;
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy",
              [&](const testing::Request&) -> net::awaitable<testing::Response> {
                  f.clock.advance(17ms);
                  co_return testing::json_response(http::status::ok, kDeployment);
              });
    auto options = f.options();
    options.rate_limit.requests = 10;
    options.rate_limit.per = 1s;
    auto client = f.client(options);
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        for (int i = 0; i < 2; ++i) {
            auto d = co_await client->manual_deploy("shop", "main");
            EXPECT_TRUE(d) << d.error().message;
        }
        co_return true;
    });
    const auto out = rendered(*client);
    for (const std::string line : {
             "linkpilot_scalingo_calls_total{call=\"token_exchange\",status=\"200\"} 1\n",
             "linkpilot_scalingo_calls_total{call=\"manual_deploy\",status=\"200\"} 2\n",
             // The exchange (instant here) and the two deploys, 17 ms each.
             "linkpilot_scalingo_call_seconds_bucket{le=\"0.05\"} 3\n",
             "linkpilot_scalingo_call_seconds_sum 0.034\n",
             "linkpilot_scalingo_call_seconds_count 3\n",
             // The first deploy went at once; the second waited 100 ms minus the first's 17.
             "linkpilot_scalingo_pacing_seconds_bucket{le=\"0\"} 1\n",
             "linkpilot_scalingo_pacing_seconds_bucket{le=\"0.05\"} 1\n",
             "linkpilot_scalingo_pacing_seconds_bucket{le=\"0.1\"} 2\n",
             "linkpilot_scalingo_pacing_seconds_sum 0.083\n",
             "linkpilot_scalingo_pacing_seconds_count 2\n",
         }) {
        EXPECT_NE(out.find(line), std::string::npos) << line << out;
    }
}

// Issue 22: every request is counted by call and status: the token exchange, each page of the
// listing the pruner sweeps with, and both requests of a refresh on 401.
TEST(Scalingo_Client, CountsEveryRequestTheTokenExchangeAndEachListingPageIncluded) {
    ClientFixture f;
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link/review_apps", http::status::ok,
              R"({"review_apps": [{"app_name": "shop-pr1"}],
                  "meta": {"pagination": {"current_page": 1, "next_page": 2}}})");
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link/review_apps?page=2", http::status::ok,
              R"({"review_apps": [{"app_name": "shop-pr2"}],
                  "meta": {"pagination": {"current_page": 2, "next_page": null}}})");
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link", http::status::ok,
              R"({"scm_repo_link": {"id": "l1"}})");
    auto client = f.client(f.options());
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        auto listed = co_await client->review_apps("shop");
        EXPECT_TRUE(listed && listed->size() == 2);
        f.fake.revoke_all_bearers();
        auto linked = co_await client->link("shop");
        EXPECT_TRUE(linked) << linked.error().message;
        co_return true;
    });
    const auto& m = client->metrics();
    EXPECT_EQ(m.calls(ApiCall::token_exchange, 200), 2U);  // the first bearer and the refresh
    EXPECT_EQ(m.calls(ApiCall::review_apps, 200), 2U);     // one per page
    EXPECT_EQ(m.calls(ApiCall::link, 401), 1U);
    EXPECT_EQ(m.calls(ApiCall::link, 200), 1U);
    const auto out = rendered(*client);
    for (const std::string line : {
             "linkpilot_scalingo_calls_total{call=\"token_exchange\",status=\"200\"} 2\n",
             "linkpilot_scalingo_calls_total{call=\"review_apps\",status=\"200\"} 2\n",
             "linkpilot_scalingo_calls_total{call=\"link\",status=\"401\"} 1\n",
             "linkpilot_scalingo_calls_total{call=\"link\",status=\"200\"} 1\n",
             "linkpilot_scalingo_call_seconds_count 6\n",
             // Only API requests are paced (the exchange goes to auth_url); none waited here.
             "linkpilot_scalingo_pacing_seconds_bucket{le=\"0\"} 4\n",
             "linkpilot_scalingo_pacing_seconds_count 4\n",
         }) {
        EXPECT_NE(out.find(line), std::string::npos) << line << out;
    }
}

TEST(Scalingo_Client, SlowAnswerPastReadTimeoutIsRetryable) {
    ClientFixture f;
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link",
              [&](const testing::Request&) -> net::awaitable<testing::Response> {
                  net::steady_timer t(f.ioc);
                  t.expires_after(30s);  // abandoned when the test stops the loop
                  co_await t.async_wait(testing::kUse);
                  co_return testing::json_response(http::status::ok, "{}");
              });
    auto options = f.options();
    options.timeouts.read = 200ms;
    auto client = f.client(options);
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        auto r = co_await client->link("shop");
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_EQ(r.error().kind, ErrorKind::retryable);
            EXPECT_EQ(r.error().status, 0u);
            EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
            std::mt19937_64 rng(1);
            EXPECT_TRUE(decide(kPolicy, r.error(), 1, rng).retry);
        }
        co_return true;
    });
}

TEST(Scalingo_Client, RefusedConnectionIsRetryable) {
    ClientFixture f;
    std::uint16_t closed_port = 0;
    {
        net::ip::tcp::acceptor a(f.ioc, {net::ip::make_address("127.0.0.1"), 0});
        closed_port = a.local_endpoint().port();
    }
    auto options = f.options();
    const auto url = "http://127.0.0.1:" + std::to_string(closed_port);
    options.endpoint = Endpoint{url, url};
    auto client = f.client(options);
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        auto r = co_await client->manual_deploy("shop", "main");
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_EQ(r.error().kind, ErrorKind::retryable);
            EXPECT_EQ(r.error().status, 0u);
            EXPECT_NE(r.error().message.find("connecting to 127.0.0.1"), std::string::npos)
                << r.error().message;
            std::mt19937_64 rng(1);
            EXPECT_TRUE(decide(kPolicy, r.error(), 1, rng).retry);
        }
        co_return true;
    });
    EXPECT_EQ(client->metrics().calls(ApiCall::token_exchange, 0), 1U);  // 0: no answer
}

TEST(Scalingo_Client, NeverLogsTokens) {
    ClientFixture f;
    f.fake.on(http::verb::post, "/v1/apps/shop/scm_repo_link/manual_deploy", http::status::ok,
              kDeployment);
    auto client = f.client(f.options());
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        (void)co_await client->manual_deploy("shop", "main");
        co_return true;
    });
    const auto log = f.log.str();
    EXPECT_FALSE(log.empty());                          // debug lines were written...
    EXPECT_EQ(log.find(kApiToken), std::string::npos);  // ...without the API token
    EXPECT_EQ(log.find("Bearer"), std::string::npos);
    EXPECT_EQ(log.find(testing::b64url(R"({"alg":"HS256","typ":"JWT"})")), std::string::npos);
}

TEST(Scalingo_Client, RejectsBadConfiguration) {
    linkpilot::testing::FakeClock clock;
    net::io_context ioc;
    ClientOptions o;
    o.endpoint.api_url = "ftp://nope";
    EXPECT_FALSE(Client::create(o, clock, ioc.get_executor(), nullptr));
    o.endpoint.api_url = "https://api.example.com";
    o.ca_file = "/nonexistent/ca.pem";
    const auto c = Client::create(o, clock, ioc.get_executor(), nullptr);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().find("ca_file"), std::string::npos);
}

}  // namespace
}  // namespace linkpilot::scalingo
