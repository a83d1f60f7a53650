// Issue 22, point 6, with the real binaries: `/metrics` of a running `serve` counts every
// Scalingo request (the token exchange and the pruner's listing included) and shows the time
// the client's pacing held them apart from the calls' own latency.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/e2e/harness.hpp"
#include "tests/support/fixtures.hpp"

namespace linkpilot {
namespace {

using testing::Daemon;
using testing::http_request;
using testing::seed_linked;
using testing::Simulator;

class E2E_Metrics : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::make_temp_dir("linkpilot-e2e-metrics"); }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

TEST_F(E2E_Metrics, ScrapeShowsTheExchangeThePrunersListingTheDeployAndThePacing) {
    Simulator sim(dir_ / "sim", seed_linked({"shop-a"}));
    // The sweep at start lists shop-a's review apps (and deletes none: there are none).
    Daemon daemon(dir_ / "daemon", sim, R"(rules:
  - { name: to-a, on: push, deploy: { app: shop-a } }
prune: { every: 1h, apps: [shop-a], stale_after: 720h }
)",
                  "  rate_limit: 2/s\n");
    auto scrape = [&] { return http_request("127.0.0.1", daemon.port(), "GET", "/metrics").body; };
    ASSERT_TRUE(testing::eventually([&] {
        return scrape().find("linkpilot_prune_sweeps_total{result=\"ok\"} 1\n") !=
               std::string::npos;
    })) << scrape();
    ASSERT_EQ(daemon.github("push", testing::sample_push(), "metrics-1").status, 202);
    ASSERT_TRUE(daemon.wait_settled()) << daemon.process().stderr_text();

    const auto metrics = scrape();
    for (const std::string line : {
             "linkpilot_scalingo_calls_total{call=\"token_exchange\",status=\"200\"} 1\n",
             "linkpilot_scalingo_calls_total{call=\"review_apps\",status=\"200\"} 1\n",
             "linkpilot_scalingo_calls_total{call=\"manual_deploy\",status=\"200\"} 1\n",
             "# TYPE linkpilot_scalingo_call_seconds histogram\n",
             "linkpilot_scalingo_call_seconds_count 3\n",
             // The listing and the deploy went through the pacing; the exchange does not.
             "# TYPE linkpilot_scalingo_pacing_seconds histogram\n",
             "linkpilot_scalingo_pacing_seconds_count 2\n",
         }) {
        EXPECT_NE(metrics.find(line), std::string::npos) << line << metrics;
    }
    EXPECT_EQ(daemon.terminate(), 0);
}

}  // namespace
}  // namespace linkpilot
