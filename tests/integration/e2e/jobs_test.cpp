// Issue 7, must show 2, 4 and 5 with the real binaries: per-app serialisation read from the
// simulator's call log, the dead letter and `linkpilot retry`, and a SIGKILL mid-stream.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "tests/support/e2e/harness.hpp"
#include "tests/support/fixtures.hpp"

namespace linkpilot {
namespace {

namespace json = boost::json;
using testing::Daemon;
using testing::deploys_by_app;
using testing::seed_linked;
using testing::Simulator;
using testing::slow_deploys;

class E2E_Jobs : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::make_temp_dir("linkpilot-e2e-jobs"); }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

TEST_F(E2E_Jobs, OneCallInFlightPerAppWhileTwoAppsProgressInParallel) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    Simulator sim(dir_ / "sim", seed_linked({"shop-a", "shop-b"}));
    slow_deploys(sim, 150, 100);
    Daemon daemon(dir_ / "daemon", sim, R"(rules:
  - { name: to-a, on: push, deploy: { app: shop-a } }
  - { name: to-b, on: push, deploy: { app: shop-b } }
)",
                  "  rate_limit: 1000/s\n");
    const auto push = testing::read_file(fx / "github/push/branch-updated.json");
    constexpr int kDeliveries = 4;
    for (int i = 0; i < kDeliveries; ++i) {
        ASSERT_EQ(daemon.github("push", push, "serial-" + std::to_string(i)).status, 202);
    }
    ASSERT_TRUE(daemon.wait_settled()) << daemon.process().stderr_text();

    auto by_app = deploys_by_app(sim);
    ASSERT_EQ(by_app["shop-a"].size(), static_cast<std::size_t>(kDeliveries));
    ASSERT_EQ(by_app["shop-b"].size(), static_cast<std::size_t>(kDeliveries));
    testing::expect_serial_per_app(by_app);
    // In parallel: some call of shop-a overlaps some call of shop-b.
    bool overlap = false;
    for (const auto& a : by_app["shop-a"]) {
        for (const auto& b : by_app["shop-b"]) {
            overlap = overlap || (a.start < b.end && b.start < a.end);
        }
    }
    EXPECT_TRUE(overlap) << "shop-a and shop-b never had calls in flight at the same time";
}

TEST_F(E2E_Jobs, NotFoundIsADeadLetterThatRetrySucceedsOnceTheAppExists) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    Simulator sim(dir_ / "sim", seed_linked({"other-app"}));
    Daemon daemon(dir_ / "daemon", sim, R"(rules:
  - { name: to-ghost-app, on: push, deploy: { app: ghost-app } }
)",
                  "  retry: { max_attempts: 5, initial_backoff: 100ms, max_backoff: 200ms }\n");
    ASSERT_EQ(
        daemon.github("push", testing::read_file(fx / "github/push/branch-updated.json"), "ghost-1")
            .status,
        202);
    ASSERT_TRUE(daemon.wait_settled());
    auto jobs = daemon.jobs();
    ASSERT_EQ(jobs.size(), 1U);
    EXPECT_EQ(jobs[0].state, "failed");
    EXPECT_EQ(jobs[0].attempts, 1);  // a 404 is not retried
    ASSERT_TRUE(jobs[0].last_error.has_value());
    EXPECT_NE(jobs[0].last_error->find("not found"), std::string::npos) << *jobs[0].last_error;
    EXPECT_EQ(sim.api_calls().size(), 1U);

    auto [code, listing] = daemon.cli({"jobs", "--state", "failed"});
    EXPECT_EQ(code, 0);
    EXPECT_NE(listing.find("ghost-app"), std::string::npos) << listing;
    EXPECT_NE(listing.find("not found"), std::string::npos) << listing;

    // The operator creates the app and its link, then requeues the job.
    ASSERT_EQ(sim.api("POST", "/v1/apps", R"({"app":{"name":"ghost-app"}})").status, 201);
    ASSERT_EQ(sim.api("POST", "/v1/apps/ghost-app/scm_repo_link",
                      R"({"scm_repo_link":{"source":"https://github.com/acme/shop"}})")
                  .status,
              201);
    auto [retry_code, retry_out] = daemon.cli({"retry", std::to_string(jobs[0].id)});
    EXPECT_EQ(retry_code, 0) << retry_out;
    ASSERT_TRUE(testing::eventually([&] {
        auto now = daemon.jobs();
        return now.size() == 1 && now[0].state == "done";
    })) << daemon.process().stderr_text();
    EXPECT_EQ(sim.state().at("deployments").at("ghost-app").as_array().size(), 1U);
}

TEST_F(E2E_Jobs, SigkillMidStreamLosesNoAcceptedDeploy) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    Simulator sim(dir_ / "sim", seed_linked({"crash-app"}));
    slow_deploys(sim, 100, 1000);
    Daemon daemon(dir_ / "daemon", sim, R"(rules:
  - { name: deploy-all, on: push, deploy: { app: crash-app } }
)",
                  "  rate_limit: 1000/s\n"
                  "  retry: { max_attempts: 5, initial_backoff: 100ms, max_backoff: 200ms }\n");
    const auto push = testing::read_file(fx / "github/push/branch-updated.json");
    constexpr int kDeliveries = 20;
    constexpr int kKillAfter = 8;
    int accepted = 0;
    for (int i = 0; i < kDeliveries; ++i) {
        if (i == kKillAfter) {
            // A deploy is in flight (the simulator answers slowly) and more are queued.
            ASSERT_TRUE(testing::eventually([&] {
                for (const auto& c : sim.api_calls()) {
                    if (c.at("status").as_int64() == 0) {
                        return true;
                    }
                }
                return false;
            }));
            daemon.kill();
            daemon.start();
        }
        const auto r = daemon.github("push", push, "crash-" + std::to_string(i));
        ASSERT_EQ(r.status, 202) << r.body << r.error;
        ++accepted;
    }
    ASSERT_TRUE(daemon.wait_settled(std::chrono::seconds(60))) << daemon.process().stderr_text();

    const auto jobs = daemon.jobs();
    ASSERT_EQ(jobs.size(), static_cast<std::size_t>(accepted));
    for (const auto& j : jobs) {
        EXPECT_EQ(j.state, "done") << "job " << j.id << ": " << j.last_error.value_or("");
    }
    // At least once: every accepted job reached Scalingo; the one in flight at the kill may
    // have reached it twice.
    int answered = 0;
    for (const auto& c : sim.api_calls()) {
        if (c.at("path").as_string().ends_with("/manual_deploy") &&
            c.at("status").as_int64() == 200) {
            ++answered;
        }
    }
    EXPECT_GE(answered, accepted);
    EXPECT_LE(answered, accepted + 1);
    EXPECT_GE(sim.state().at("deployments").at("crash-app").as_array().size(),
              static_cast<std::size_t>(accepted));
}

}  // namespace
}  // namespace linkpilot
