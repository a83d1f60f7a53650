// Runs the real `linkpilot simulate-scalingo` on port 0 and talks to it over loopback.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

namespace linkpilot::testing {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

class Simulator {
  public:
    explicit Simulator(std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"simulate-scalingo", "--listen", "127.0.0.1:0"};
        args.insert(args.end(), extra.begin(), extra.end());
        process_ = std::make_unique<Process>(LINKPILOT_BINARY, args);
        port_ = process_->listening_port();
    }
    [[nodiscard]] unsigned short port() const { return port_; }
    Process& process() { return *process_; }

    HttpResult call(const std::string& method, const std::string& target,
                    const std::string& body = {}, std::map<std::string, std::string> headers = {}) {
        if (headers.count("Authorization") == 0 && !bearer_.empty()) {
            headers["Authorization"] = "Bearer " + bearer_;
        }
        return http_request("127.0.0.1", port_, method, target, body, headers);
    }
    // Exchanges API token ":tk" (base64 "OnRr") for a bearer.
    void login(const std::string& basic = "OnRr") {
        auto r = http_request("127.0.0.1", port_, "POST", "/v1/tokens/exchange", "",
                              {{"Authorization", "Basic " + basic}});
        ASSERT_EQ(r.status, 200) << r.body;
        bearer_ = std::string(json::parse(r.body).at("token").as_string());
    }
    void create_linked(const std::string& app) {
        ASSERT_EQ(call("POST", "/v1/apps", R"({"app":{"name":")" + app + R"("}})").status, 201);
        auto r =
            call("POST", "/v1/apps/" + app + "/scm_repo_link",
                 R"({"scm_repo_link":{"source":"https://github.com/acme/shop","branch":"main"}})");
        ASSERT_EQ(r.status, 201) << r.body;
    }

  private:
    std::unique_ptr<Process> process_;
    unsigned short port_ = 0;
    std::string bearer_;
};

json::value body_of(const HttpResult& r) { return json::parse(r.body); }

void expect_keys(const json::value& v, std::initializer_list<const char*> keys) {
    ASSERT_TRUE(v.is_object()) << json::serialize(v);
    for (const char* k : keys) {
        EXPECT_NE(v.as_object().if_contains(k), nullptr)
            << "missing " << k << " in " << json::serialize(v);
    }
}

TEST(Simulator_Integration, PrintsRealPortAndExitsZeroOnSigterm) {
    Simulator sim;
    ASSERT_NE(sim.port(), 0);
    EXPECT_EQ(sim.process().terminate(), 0);
}

TEST(Simulator_Integration, ExchangeAnswersJwtWithExpOneHourOut) {
    Simulator sim;
    for (const std::string body : {"", "{}"}) {
        auto r = http_request("127.0.0.1", sim.port(), "POST", "/v1/tokens/exchange", body,
                              {{"Authorization", "Basic OnRr"}});
        ASSERT_EQ(r.status, 200) << r.body;
        const std::string token(body_of(r).at("token").as_string());
        EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
    }
}

TEST(Simulator_Integration, TokenFlagAcceptsOnlyThatToken) {
    Simulator sim({"--token", "tk"});
    auto bad = http_request("127.0.0.1", sim.port(), "POST", "/v1/tokens/exchange", "",
                            {{"Authorization", "Basic Ondyb25n"}});  // ":wrong"
    EXPECT_EQ(bad.status, 401);
    sim.login("OnRr");
}

TEST(Simulator_Integration, CallsWithoutValidBearerAre401) {
    Simulator sim;
    EXPECT_EQ(sim.call("GET", "/v1/apps").status, 401);
    EXPECT_EQ(sim.call("GET", "/v1/apps", "", {{"Authorization", "Bearer x.y.z"}}).status, 401);
    sim.login();
    EXPECT_EQ(sim.call("GET", "/v1/apps").status, 200);
    EXPECT_EQ(sim.call("POST", "/_sim/expire-tokens").status, 204);
    EXPECT_EQ(sim.call("GET", "/v1/apps").status, 401);
}

TEST(Simulator_Integration, EndpointsAnswerScalingoFieldNames) {
    Simulator sim;
    sim.login();
    auto app = sim.call("POST", "/v1/apps", R"({"app":{"name":"shop-staging"}})");
    ASSERT_EQ(app.status, 201);
    expect_keys(body_of(app).at("app"), {"id", "name", "created_at", "parent_app_name", "url"});
    auto link = sim.call("POST", "/v1/apps/shop-staging/scm_repo_link",
                         R"({"scm_repo_link":{"source":"https://github.com/acme/shop"}})");
    ASSERT_EQ(link.status, 201) << link.body;
    expect_keys(
        body_of(link).at("scm_repo_link"),
        {"id", "app_id", "owner", "repo", "branch", "scm_type", "auto_deploy_enabled",
         "deploy_review_apps_enabled", "delete_on_close_enabled", "hours_before_delete_on_close",
         "delete_stale_enabled", "hours_before_delete_stale", "created_at", "updated_at"});
    auto get = sim.call("GET", "/v1/apps/shop-staging/scm_repo_link");
    ASSERT_EQ(get.status, 200);
    EXPECT_EQ(body_of(get).at("scm_repo_link").at("repo"), "shop");
    auto upd = sim.call("PATCH", "/v1/apps/shop-staging/scm_repo_link",
                        R"({"scm_repo_link":{"branch":"develop","auto_deploy_enabled":true}})");
    ASSERT_EQ(upd.status, 200);
    EXPECT_EQ(body_of(upd).at("scm_repo_link").at("branch"), "develop");

    auto dep = sim.call("POST", "/v1/apps/shop-staging/scm_repo_link/manual_deploy",
                        R"({"branch":"main"})");
    ASSERT_EQ(dep.status, 200) << dep.body;
    expect_keys(body_of(dep).at("deployment"),
                {"id", "app_id", "created_at", "status", "git_ref", "pusher", "links"});

    auto ra = sim.call("POST", "/v1/apps/shop-staging/scm_repo_link/manual_review_app",
                       R"({"pull_request_id":42})");
    ASSERT_EQ(ra.status, 200) << ra.body;
    const auto review = body_of(ra).at("review_app");
    expect_keys(review, {"id", "repo_link_id", "app_id", "app_name", "parent_app_id",
                         "parent_app_name", "created_at", "stale_deletion_date",
                         "on_close_deletion_date", "pull_request", "last_deployment"});
    EXPECT_EQ(review.at("app_name"), "shop-staging-pr42");
    EXPECT_EQ(review.at("stale_deletion_date"), "0001-01-01T00:00:00Z");
    expect_keys(review.at("pull_request"), {"number", "branch_name", "title", "url", "html_url",
                                            "ref", "base_ref", "created_at", "closed_at"});
    EXPECT_EQ(review.at("pull_request").at("closed_at"), "0001-01-01T00:00:00Z");

    auto list = sim.call("GET", "/v1/apps/shop-staging/scm_repo_link/review_apps");
    ASSERT_EQ(list.status, 200);
    ASSERT_EQ(body_of(list).at("review_apps").as_array().size(), 1U);
    auto pulls = sim.call("GET", "/v1/apps/shop-staging/scm_repo_link/pulls");
    ASSERT_EQ(pulls.status, 200);
    EXPECT_TRUE(body_of(pulls).at("pulls").is_array());

    auto child = sim.call("GET", "/v1/apps/shop-staging-pr42");
    ASSERT_EQ(child.status, 200);
    EXPECT_EQ(body_of(child).at("app").at("parent_app_name"), "shop-staging");

    EXPECT_EQ(sim.call("DELETE", "/v1/apps/shop-staging/scm_repo_link").status, 204);
    EXPECT_EQ(sim.call("GET", "/v1/apps/shop-staging/scm_repo_link").status, 404);
}

TEST(Simulator_Integration, UnknownAppIs404WithResource) {
    Simulator sim;
    sim.login();
    auto r = sim.call("POST", "/v1/apps/ghost/scm_repo_link/manual_deploy", R"({"branch":"x"})");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(body_of(r), json::parse(R"({"resource":"app","error":"not found"})"));
}

TEST(Simulator_Integration, BadBodiesAre400Or422) {
    Simulator sim;
    sim.login();
    sim.create_linked("shop-staging");
    EXPECT_EQ(sim.call("POST", "/v1/apps", "{oops").status, 400);
    auto r = sim.call("POST", "/v1/apps/shop-staging/scm_repo_link/manual_review_app",
                      R"({"pull_request_id":"abc"})");
    EXPECT_EQ(r.status, 422);
    EXPECT_TRUE(body_of(r).at("errors").at("pull_request_id").is_array());
    EXPECT_EQ(sim.call("POST", "/v1/apps", R"({"app":{"name":"shop-staging"}})").status, 422);
}

TEST(Simulator_Integration, DeleteWithWrongCurrentNameIs422ThenRightOneIs204) {
    Simulator sim;
    sim.login();
    sim.create_linked("shop-staging");
    ASSERT_EQ(sim.call("POST", "/v1/apps/shop-staging/scm_repo_link/manual_review_app",
                       R"({"pull_request_id":"5"})")
                  .status,
              200);
    auto wrong = sim.call("DELETE", "/v1/apps/shop-staging-pr5?current_name=shop-staging");
    EXPECT_EQ(wrong.status, 422);
    EXPECT_TRUE(body_of(wrong).at("errors").is_object());
    EXPECT_EQ(sim.call("DELETE", "/v1/apps/shop-staging-pr5?current_name=shop-staging-pr5").status,
              204);
    auto list = sim.call("GET", "/v1/apps/shop-staging/scm_repo_link/review_apps");
    EXPECT_TRUE(body_of(list).at("review_apps").as_array().empty());
}

TEST(Simulator_Integration, PaginationWalksEveryLink) {
    Simulator sim;
    sim.login();
    for (int i = 0; i < 7; ++i) {
        sim.create_linked("app-" + std::to_string(i));
    }
    std::set<std::string> seen;
    std::optional<std::int64_t> page = 1;
    int pages = 0;
    while (page) {
        auto r = sim.call("GET", "/v1/scm_repo_links?per_page=3&page=" + std::to_string(*page));
        ASSERT_EQ(r.status, 200);
        const auto v = body_of(r);
        const auto& meta = v.at("meta").at("pagination");
        EXPECT_EQ(meta.at("total_count"), 7);
        EXPECT_EQ(meta.at("total_pages"), 3);
        EXPECT_EQ(meta.at("current_page"), *page);
        for (const auto& l : v.at("scm_repo_links").as_array()) {
            seen.insert(std::string(l.at("app_id").as_string()));
        }
        page = meta.at("next_page").is_null() ? std::nullopt
                                              : std::optional(meta.at("next_page").as_int64());
        ++pages;
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seen.size(), 7U);
}

TEST(Simulator_Integration, StateSurvivesRestart) {
    const auto dir = make_temp_dir("sim-it");
    const std::string state = (dir / "state.json").string();
    {
        Simulator sim({"--state", state});
        sim.login();
        sim.create_linked("shop-staging");
        ASSERT_EQ(sim.call("POST", "/v1/apps/shop-staging/scm_repo_link/manual_review_app",
                           R"({"pull_request_id":3})")
                      .status,
                  200);
        EXPECT_EQ(sim.process().terminate(), 0);
    }
    Simulator again({"--state", state});
    again.login();  // the signing key is new: old bearers are rightly gone
    auto list = again.call("GET", "/v1/apps/shop-staging/scm_repo_link/review_apps");
    ASSERT_EQ(list.status, 200);
    ASSERT_EQ(body_of(list).at("review_apps").as_array().size(), 1U);
    EXPECT_EQ(body_of(list).at("review_apps").at(0).at("app_name"), "shop-staging-pr3");
    std::filesystem::remove_all(dir);
}

TEST(Simulator_Integration, SeedFileLoadsReviewAppsWithDates) {
    const auto dir = make_temp_dir("sim-it");
    const auto seed = dir / "seed.json";
    std::ofstream(seed) << R"({"apps": ["shop-staging"],
        "links": [{"app": "shop-staging", "source": "https://github.com/acme/shop"}],
        "review_apps": [{"parent": "shop-staging", "number": 9,
                         "created_at": "2025-01-01T00:00:00Z"}]})";
    Simulator sim({"--seed", seed.string()});
    sim.login();
    auto list = sim.call("GET", "/v1/apps/shop-staging/scm_repo_link/review_apps");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(body_of(list).at("review_apps").at(0).at("created_at"), "2025-01-01T00:00:00Z");
    std::filesystem::remove_all(dir);
}

TEST(Simulator_Integration, FaultsFailTwiceThenSucceed) {
    Simulator sim;
    sim.login();
    sim.create_linked("shop-staging");
    ASSERT_EQ(sim.call("POST", "/_sim/faults",
                       R"({"path":"/v1/apps/*/manual_deploy","status":500,"times":2})")
                  .status,
              201);
    const std::string target = "/v1/apps/shop-staging/scm_repo_link/manual_deploy";
    EXPECT_EQ(sim.call("POST", target, R"({"branch":"main"})").status, 500);
    EXPECT_EQ(sim.call("POST", target, R"({"branch":"main"})").status, 500);
    EXPECT_EQ(sim.call("POST", target, R"({"branch":"main"})").status, 200);
}

TEST(Simulator_Integration, ResetFaultServesTheCallThenCutsTheAnswer) {
    Simulator sim;
    sim.login();
    sim.create_linked("shop-staging");
    ASSERT_EQ(
        sim.call("POST", "/_sim/faults", R"({"path":"/v1/apps/*/manual_deploy","reset":true})")
            .status,
        201);
    EXPECT_EQ(
        sim.call("POST", "/_sim/faults", R"({"path":"/v1","reset":true,"status":500})").status,
        422);
    const std::string target = "/v1/apps/shop-staging/scm_repo_link/manual_deploy";
    const auto cut = sim.call("POST", target, R"({"branch":"main"})");
    EXPECT_EQ(cut.status, 0) << "the client got no whole answer";
    EXPECT_FALSE(cut.error.empty());
    EXPECT_EQ(sim.call("POST", target, R"({"branch":"main"})").status, 200);
    // Both calls took effect: the log shows two served deploys.
    int served = 0;
    const auto calls = body_of(sim.call("GET", "/_sim/calls"));
    for (const auto& c : calls.as_array()) {
        served += c.at("path").as_string() == target && c.at("status").as_int64() == 200 ? 1 : 0;
    }
    EXPECT_EQ(served, 2);
}

TEST(Simulator_Integration, Fault429CarriesRetryAfter) {
    Simulator sim;
    sim.login();
    ASSERT_EQ(
        sim.call("POST", "/_sim/faults", R"({"path":"/v1/apps","status":429,"retry_after":7})")
            .status,
        201);
    auto r = sim.call("GET", "/v1/apps");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.headers["retry-after"], "7");
    EXPECT_EQ(sim.call("GET", "/v1/apps").status, 200);
}

TEST(Simulator_Integration, DelayFaultIsVisibleInCallTimes) {
    Simulator sim;
    sim.login();
    ASSERT_EQ(sim.call("POST", "/_sim/faults", R"({"path":"/v1/apps","delay_ms":300})").status,
              201);
    ASSERT_EQ(sim.call("DELETE", "/_sim/calls").status, 204);
    EXPECT_EQ(sim.call("GET", "/v1/apps").status, 200);  // a delay alone still answers
    const auto calls = body_of(sim.call("GET", "/_sim/calls")).as_array();
    ASSERT_EQ(calls.size(), 1U);
    EXPECT_GE(calls[0].at("finished_at_ms").as_int64() - calls[0].at("started_at_ms").as_int64(),
              300);
}

TEST(Simulator_Integration, CallsLogKeepsOrderAndApp) {
    Simulator sim;
    sim.login();
    sim.create_linked("shop-staging");
    sim.call("GET", "/v1/apps/shop-staging/scm_repo_link/review_apps");
    const auto calls = body_of(sim.call("GET", "/_sim/calls")).as_array();
    ASSERT_EQ(calls.size(), 4U);  // exchange, create app, create link, review_apps
    EXPECT_EQ(calls[0].at("path"), "/v1/tokens/exchange");
    EXPECT_EQ(calls[1].at("method"), "POST");
    EXPECT_EQ(calls[1].at("path"), "/v1/apps");
    EXPECT_EQ(calls[2].at("status"), 201);
    EXPECT_EQ(calls[3].at("app"), "shop-staging");
    for (std::size_t i = 1; i < calls.size(); ++i) {
        EXPECT_GT(calls[i].at("seq").as_int64(), calls[i - 1].at("seq").as_int64());
        EXPECT_GE(calls[i].at("started_at_ms").as_int64(),
                  calls[i - 1].at("finished_at_ms").as_int64());
    }
}

TEST(Simulator_Integration, RateLimitAnswers429InPlainText) {
    Simulator sim({"--rate-limit", "3/min"});
    sim.login();  // counts as one
    EXPECT_EQ(sim.call("GET", "/v1/apps").status, 200);
    EXPECT_EQ(sim.call("GET", "/v1/apps").status, 200);
    auto r = sim.call("GET", "/v1/apps");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.headers.count("retry-after"), 0U);
    EXPECT_NE(r.headers["content-type"].find("text/plain"), std::string::npos);
    EXPECT_THROW((void)json::parse(r.body), std::exception);
}

TEST(Simulator_Integration, OversizedBodyIs413AndGarbageDoesNotCrash) {
    Simulator sim;
    sim.login();
    EXPECT_EQ(sim.call("POST", "/v1/apps", std::string(2 * 1024 * 1024, 'x')).status, 413);
    EXPECT_EQ(sim.call("POST", "/v1/apps", "[1,2]").status, 400);
    EXPECT_EQ(sim.call("GET", "/v1/apps").status, 200);
}

}  // namespace
}  // namespace linkpilot::testing
