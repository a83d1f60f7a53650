#include "daemon/scalingo/dry_run.hpp"

#include <gtest/gtest.h>

#include "tests/support/coroutines.hpp"
#include "tests/unit/scalingo/client_fixture.hpp"

namespace linkpilot::scalingo {
namespace {

using linkpilot::testing::run;
using testing::ClientFixture;
using testing::kApiToken;
using testing::rendered;
namespace net = boost::asio;
namespace http = boost::beast::http;

TEST(Scalingo_DryRun, LogsWritesAndSendsNothing) {
    ClientFixture f;
    auto client = f.client(f.options());
    DryRunApi api(*client, client->api_base_url(), f.clock, f.logger);
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        auto d = co_await api.manual_deploy("shop", "main");
        EXPECT_TRUE(d);
        if (d) {
            EXPECT_EQ(d->status, "queued");
            EXPECT_EQ(d->git_ref, "main");
        }
        auto ra = co_await api.manual_review_app("shop", 4);
        EXPECT_TRUE(ra);
        if (ra) {
            EXPECT_EQ(ra->app_name, "shop-pr4");
            EXPECT_EQ(ra->parent_app_name, "shop");
        }
        auto del = co_await api.delete_app("shop-pr4");
        EXPECT_TRUE(del);
        co_return true;
    });
    EXPECT_TRUE(f.fake.seen().empty());
    // A call logged instead of made is not a call.
    EXPECT_NE(rendered(*client).find("linkpilot_scalingo_call_seconds_count 0\n"),
              std::string::npos);
    const auto log = f.log.str();
    EXPECT_NE(log.find("dry run: would call POST " + f.server.url() +
                       "/v1/apps/shop/scm_repo_link/manual_deploy "
                       R"({"branch":"main"})"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("POST " + f.server.url() + "/v1/apps/shop/scm_repo_link/manual_review_app " +
                       R"({"pull_request_id":4})"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("DELETE " + f.server.url() + "/v1/apps/shop-pr4?current_name=shop-pr4"),
              std::string::npos)
        << log;
}

TEST(Scalingo_DryRun, StillReadsUnlessToldNot) {
    ClientFixture f;
    f.fake.on(http::verb::get, "/v1/apps/shop/scm_repo_link/review_apps", http::status::ok,
              R"({"review_apps": [{"app_name": "shop-pr1"}]})");
    auto client = f.client(f.options());
    DryRunApi reading(*client, client->api_base_url(), f.clock, f.logger);
    DryRunApi silent(*client, client->api_base_url(), f.clock, f.logger, /*reads=*/false);
    run<bool>(f.ioc, [&]() -> net::awaitable<bool> {
        auto r = co_await reading.review_apps("shop");
        EXPECT_TRUE(r && r->size() == 1);
        auto s = co_await silent.review_apps("shop");
        EXPECT_TRUE(s && s->empty());
        co_return true;
    });
    EXPECT_EQ(f.fake.api_calls().size(), 1u);
    EXPECT_NE(f.log.str().find("dry run: would call GET " + f.server.url() +
                               "/v1/apps/shop/scm_repo_link/review_apps"),
              std::string::npos)
        << f.log.str();
}

TEST(Scalingo_DryRun, MakeApiPutsItInFrontOfTheClientWhenTheConfigSaysSo) {
    ClientFixture f;
    config::Scalingo cfg;
    cfg.api_url = f.server.url() + "/base";
    cfg.auth_url = f.server.url();
    cfg.token = config::Secret(kApiToken);
    cfg.dry_run = true;
    auto made = make_api(cfg, f.clock, f.ioc.get_executor(), f.logger);
    ASSERT_TRUE(made) << made.error();
    ASSERT_NE(made->dry_run, nullptr);
    EXPECT_EQ(&made->api(), made->dry_run.get());
    auto d = run<Result<Deployment>>(f.ioc, [&]() -> Call<Deployment> {
        co_return co_await made->api().manual_deploy("shop", "main");
    });
    EXPECT_TRUE(d);
    EXPECT_TRUE(f.fake.seen().empty());  // dry_run came from the config
    EXPECT_NE(f.log.str().find("POST " + f.server.url() + "/base/v1/apps/shop"), std::string::npos)
        << f.log.str();

    cfg.dry_run = false;
    auto real = make_api(cfg, f.clock, f.ioc.get_executor(), f.logger);
    ASSERT_TRUE(real) << real.error();
    EXPECT_EQ(real->dry_run, nullptr);
    EXPECT_EQ(&real->api(), real->client.get());

    cfg.ca_file = "/nonexistent/ca.pem";
    const auto bad = make_api(cfg, f.clock, f.ioc.get_executor(), f.logger);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("/nonexistent/ca.pem"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace linkpilot::scalingo
