// Issue 10, crash loop: a steady stream of signed deliveries while `linkpilot serve` is killed
// with SIGKILL at random points and restarted on the same state, the simulator answering
// slowly so deploys are in flight at every kill, and itself killed and restarted (same port,
// same state file) at every other kill. The sender behaves like GitHub: a delivery that
// got no 202 (connection refused, reset, or cut mid-answer) is sent again with the same id.
// Afterwards: every acknowledged delivery has its jobs, every job is done, every job reached
// Scalingo (counted from the simulator's persisted deployments), and the extra calls stay within
// at-least-once (per app, at most two at each kill of serve and one at each simulator restart:
// see the bound below). Short mode (ctest): 3 kills.
// Long mode (scripts/reliability): LINKPILOT_CRASH_KILLS, e.g. 20. Figures go to stdout and, when
// set, to the file $LINKPILOT_RELIABILITY_REPORT.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "tests/reliability/env.hpp"
#include "tests/support/e2e/harness.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Daemon;
using testing::Simulator;

using testing::env_int;

constexpr std::array<const char*, 2> kApps{"crash-loop-a", "crash-loop-b"};

// One line per run, `key=value`, for docs/reliability.md.
std::string fmt_figures(int kills, int sim_restarts, std::size_t acked, int resends, int done,
                        int lost, int duplicates, unsigned seed) {
    return "crash_loop kills=" + std::to_string(kills) +
           " simulator_restarts=" + std::to_string(sim_restarts) +
           " acked=" + std::to_string(acked) + " resent=" + std::to_string(resends) +
           " jobs_done=" + std::to_string(done) + " lost=" + std::to_string(lost) +
           " duplicate_calls=" + std::to_string(duplicates) + " seed=" + std::to_string(seed);
}

class Reliability_CrashLoop : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::make_temp_dir("linkpilot-crash-loop"); }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(Reliability_CrashLoop, NoAcknowledgedDeliveryIsLostAcrossSigkills) {
    const int kills = env_int("LINKPILOT_CRASH_KILLS", 3);
    const auto seed = static_cast<unsigned>(env_int("LINKPILOT_CRASH_SEED", 20261126));
    std::mt19937 rng(seed);

    Simulator sim(dir_ / "sim", testing::seed_linked({kApps[0], kApps[1]}), /*persistent=*/true);
    testing::slow_deploys(sim, 60, 1'000'000);  // every deploy in flight for 60 ms
    Daemon daemon(dir_ / "daemon", sim, R"(rules:
  - { name: to-a, on: push, deploy: { app: crash-loop-a } }
  - { name: to-b, on: push, deploy: { app: crash-loop-b } }
)",
                  "  rate_limit: 1000/s\n"
                  // Enough attempts to outlast a simulator restart on a loaded machine.
                  "  retry: { max_attempts: 20, initial_backoff: 50ms, max_backoff: 200ms }\n");
    const auto push = testing::sample_push();

    // The sender: one delivery every ~10 ms, each resent until acknowledged.
    std::atomic<unsigned short> port{daemon.port()};
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::set<std::string> acked;
    int resends = 0;
    std::thread sender([&] {
        for (int i = 0; !stop; ++i) {
            const auto id = "loop-" + std::to_string(i);
            for (;;) {
                const auto r = testing::send_github(port, "push", push, id, testing::kGithubSecret);
                if (r.status == 202) {
                    const std::lock_guard lock(mutex);
                    acked.insert(id);
                    break;
                }
                // Refused (daemon down), reset, or 503: the forge redelivers.
                {
                    const std::lock_guard lock(mutex);
                    ++resends;
                }
                std::this_thread::sleep_for(20ms);
            }
            std::this_thread::sleep_for(10ms);
        }
    });
    auto acked_count = [&] {
        const std::lock_guard lock(mutex);
        return acked.size();
    };

    // The killer: SIGKILL at a random point 150-600 ms apart, while deploys are in flight,
    // then restart on the same state file. Every other time, the simulator is killed and
    // restarted first, under the running daemon (its calls in flight are cut, its bearer token
    // no longer valid; the queued slowness is queued again).
    std::uniform_int_distribution<int> pause_ms(150, 600);
    int sim_restarts = 0;
    for (int k = 0; k < kills; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
        if (k % 2 == 1) {
            sim.restart();
            testing::slow_deploys(sim, 60, 1'000'000);
            ++sim_restarts;
            std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
        }
        daemon.kill();
        daemon.start();
        port = daemon.port();
    }
    // Some traffic after the last restart, then stop sending.
    const auto before = acked_count();
    ASSERT_TRUE(testing::eventually([&] { return acked_count() >= before + 10; }))
        << daemon.process().stderr_text();
    stop = true;
    sender.join();
    ASSERT_TRUE(daemon.wait_settled(120s)) << daemon.process().stderr_text();

    // Every acknowledged delivery has exactly one job per app, and every job is done.
    std::map<std::string, int> jobs_per_delivery;
    std::map<std::string, int> jobs_per_app;
    int done = 0;
    for (const auto& j : daemon.jobs()) {
        ++jobs_per_delivery[j.delivery_id];
        ++jobs_per_app[j.app];
        done += j.state == "done" ? 1 : 0;
        EXPECT_EQ(j.state, "done") << "job " << j.id << ": " << j.last_error.value_or("");
    }
    int lost = 0;
    for (const auto& id : acked) {
        const auto it = jobs_per_delivery.find(id);
        if (it == jobs_per_delivery.end()) {
            ++lost;
            ADD_FAILURE() << "delivery " << id << " was acknowledged but is not in the store";
        } else {
            EXPECT_EQ(it->second, static_cast<int>(kApps.size()))
                << "delivery " << id << ": a redelivery must not add jobs";
        }
    }

    // Scalingo made every job's deploy, and few extra: a deploy made but its answer lost (or not
    // yet recorded) runs again. Per app, a kill of serve repeats the call in flight and, if it
    // lands in the millisecond between an answer and the write of its outcome (the app's next
    // call already started: README, "At least once"), the call just answered; a restart of the
    // simulator repeats the call it cut.
    int duplicates = 0;
    for (const auto* app : kApps) {
        const auto deploys = static_cast<int>(sim.deployments(app));
        EXPECT_GE(deploys, jobs_per_app[app]) << app << ": a deploy was lost";
        duplicates += deploys - jobs_per_app[app];
    }
    EXPECT_LE(duplicates, (2 * kills + sim_restarts) * static_cast<int>(kApps.size()));

    const auto figures =
        fmt_figures(kills, sim_restarts, acked.size(), resends, done, lost, duplicates, seed);
    std::cout << figures << "\n";
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the sender has stopped
    if (const char* report = std::getenv("LINKPILOT_RELIABILITY_REPORT")) {
        std::ofstream(report, std::ios::app) << figures << "\n";
    }
    EXPECT_EQ(lost, 0);
    EXPECT_GE(acked.size(), 10u);
}

}  // namespace
}  // namespace linkpilot
