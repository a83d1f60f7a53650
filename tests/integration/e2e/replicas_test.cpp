// Issue 11, must show 2: two real `linkpilot serve` replicas on one PostgreSQL database,
// behind the test's own round-robin sender, against the real simulator. Every delivery is
// deployed once (a delivery sent to both replicas is stored once), an app never has two
// Scalingo calls in flight across replicas (the simulator's call log), and a replica killed
// with SIGKILL under load loses nothing: the jobs it held finish on the other one once their
// lease (3 s here) expires. Skips with a message without LINKPILOT_TEST_PG_URL.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/e2e/harness.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Daemon;
using testing::deploys_by_app;
using testing::expect_serial_per_app;
using testing::Simulator;

constexpr std::array<const char*, 2> kApps{"replica-a", "replica-b"};
constexpr const char* kRules = R"(rules:
  - { name: to-a, on: push, deploy: { app: replica-a } }
  - { name: to-b, on: push, deploy: { app: replica-b } }
)";
constexpr const char* kScalingo =
    "  rate_limit: 1000/s\n"
    "  retry: { max_attempts: 8, initial_backoff: 50ms, max_backoff: 200ms }\n";

// "3,7,9" -> 3
int count_ids(const std::string& csv) {
    return csv.empty() ? 0 : static_cast<int>(std::count(csv.begin(), csv.end(), ',')) + 1;
}

class E2E_Replicas : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto url = testing::test_postgres_url();
        if (!url) {
            GTEST_SKIP() << testing::kNoPostgres;
        }
        schema_ = std::make_unique<testing::PgSchema>(*url);
        ASSERT_TRUE(schema_->ok()) << schema_->error();
        dir_ = testing::make_temp_dir("linkpilot-e2e-replicas");
        push_ = testing::sample_push();
    }
    void TearDown() override {
        if (!dir_.empty()) {
            fs::remove_all(dir_);
        }
    }

    std::unique_ptr<testing::PgSchema> schema_;
    fs::path dir_;
    std::string push_;
};

TEST_F(E2E_Replicas, EveryDeliveryDeploysOnceAndAppsStaySerialAcrossReplicas) {
    Simulator sim(dir_ / "sim", testing::seed_linked({kApps[0], kApps[1]}));
    testing::slow_deploys(sim, 40, 1'000'000);
    std::array<std::unique_ptr<Daemon>, 2> replicas;
    replicas[0] = std::make_unique<Daemon>(dir_ / "r0", sim, kRules, kScalingo, schema_->url());
    replicas[1] = std::make_unique<Daemon>(dir_ / "r1", sim, kRules, kScalingo, schema_->url());

    // Round robin; every third delivery is also sent to the other replica at the same moment
    // (a sender retrying through another node): exactly one of the two stores it.
    constexpr int kDeliveries = 24;
    int duplicates_answered = 0;
    for (int i = 0; i < kDeliveries; ++i) {
        const auto id = "rr-" + std::to_string(i);
        auto& first = *replicas[static_cast<std::size_t>(i % 2)];
        if (i % 3 != 0) {
            ASSERT_EQ(first.github("push", push_, id).status, 202);
            continue;
        }
        auto& second = *replicas[static_cast<std::size_t>((i + 1) % 2)];
        testing::HttpResult r1;
        testing::HttpResult r2;
        std::thread t1([&] { r1 = first.github("push", push_, id); });
        std::thread t2([&] { r2 = second.github("push", push_, id); });
        t1.join();
        t2.join();
        ASSERT_EQ(r1.status, 202) << r1.body;
        ASSERT_EQ(r2.status, 202) << r2.body;
        const int dup = (r1.body.find("duplicate") != std::string::npos ? 1 : 0) +
                        (r2.body.find("duplicate") != std::string::npos ? 1 : 0);
        EXPECT_EQ(dup, 1) << id << ": " << r1.body << " / " << r2.body;
        duplicates_answered += dup;
    }
    EXPECT_EQ(duplicates_answered, kDeliveries / 3);
    ASSERT_TRUE(replicas[0]->wait_settled(60s)) << replicas[0]->process().stderr_text();

    const auto jobs = replicas[0]->jobs();
    std::map<std::string, int> jobs_per_delivery;
    for (const auto& j : jobs) {
        EXPECT_EQ(j.state, "done") << "job " << j.id << ": " << j.last_error.value_or("");
        ++jobs_per_delivery[j.delivery_id];
    }
    EXPECT_EQ(jobs_per_delivery.size(), static_cast<std::size_t>(kDeliveries));
    for (const auto& [id, n] : jobs_per_delivery) {
        EXPECT_EQ(n, 2) << id;
    }
    const auto by_app = deploys_by_app(sim);
    for (const auto* app : kApps) {
        ASSERT_TRUE(by_app.count(app)) << app;
        EXPECT_EQ(by_app.at(app).size(), static_cast<std::size_t>(kDeliveries))
            << app << ": every delivery deployed exactly once";
    }
    expect_serial_per_app(by_app);
}

TEST_F(E2E_Replicas, AReplicaKilledUnderLoadLosesNothingItsJobsFinishOnTheOther) {
    Simulator sim(dir_ / "sim", testing::seed_linked({kApps[0], kApps[1]}));
    testing::slow_deploys(sim, 300, 1'000'000);  // deploys in flight at the kill
    Daemon a(dir_ / "a", sim, kRules, kScalingo, schema_->url());

    // The load balancer: round robin while both live, then only B.
    std::set<std::string> acked;
    int i = 0;
    auto send = [&](Daemon& d) {
        const auto id = "kill-" + std::to_string(i++);
        const auto r = d.github("push", push_, id);
        if (r.status == 202) {
            acked.insert(id);
        }
    };
    const auto a_pid = std::to_string(a.process().pid());
    const auto held_by_a = [&] {
        return schema_->query(
            "SELECT string_agg(id::text, ',') FROM jobs WHERE state = "
            "'running' AND lease_owner LIKE '%/" +
            a_pid + "/%'");
    };
    // A starts first and is running a job when B joins: B then accepts its share but cannot
    // run an app's jobs while A runs that app, so A surely holds jobs at the kill (with both
    // replicas racing from the start, B could win every claim and leave A nothing to lose).
    for (; i < 8;) {  // 2.4 s of deploys per app: A stays busy past B's start
        send(a);
    }
    ASSERT_TRUE(testing::eventually([&] { return !held_by_a().empty(); }, 20s))
        << "replica A never ran a job";
    Daemon b(dir_ / "b", sim, kRules, kScalingo, schema_->url());
    for (; i < 14;) {
        send(i % 2 == 0 ? a : b);
    }
    a.kill();
    // A's leases outlive it: the jobs it held are still `running` under its name.
    const std::string a_jobs = held_by_a();
    ASSERT_FALSE(a_jobs.empty()) << "replica A held no job at the kill";
    while (i < 20) {
        send(b);
    }
    ASSERT_TRUE(b.wait_settled(60s)) << b.process().stderr_text();

    // Every acknowledged delivery has its two jobs, all done, including those A held.
    std::map<std::string, int> jobs_per_delivery;
    std::map<std::string, int> jobs_per_app;
    for (const auto& j : b.jobs()) {
        EXPECT_EQ(j.state, "done") << "job " << j.id << ": " << j.last_error.value_or("");
        ++jobs_per_delivery[j.delivery_id];
        ++jobs_per_app[j.app];
    }
    for (const auto& id : acked) {
        EXPECT_EQ(jobs_per_delivery[id], 2) << "delivery " << id << " lost jobs";
    }
    EXPECT_EQ(acked.size(), 20U);
    EXPECT_EQ(
        schema_->query("SELECT COUNT(*) FROM jobs WHERE id IN (" + a_jobs + ") AND state = 'done'"),
        std::to_string(count_ids(a_jobs)))
        << "jobs " << a_jobs << " held by the killed replica did not finish";

    // Scalingo saw every job's deploy; at most one extra per job A had in flight.
    const auto by_app = deploys_by_app(sim);
    int extra = 0;
    for (const auto* app : kApps) {
        const auto calls = by_app.count(app) ? static_cast<int>(by_app.at(app).size()) : 0;
        EXPECT_GE(calls, jobs_per_app[app]) << app << ": a deploy was lost";
        extra += calls - jobs_per_app[app];
    }
    EXPECT_LE(extra, count_ids(a_jobs));
    expect_serial_per_app(by_app);
}

}  // namespace
}  // namespace linkpilot
