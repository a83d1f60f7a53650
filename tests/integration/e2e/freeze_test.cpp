// Issue 22 (point 5) with the real binaries: a freeze window that holds a deploy is lifted by
// a reload and the held job runs at once; and the operator controls on jobs a freeze holds while
// `serve` runs (`jobs cancel` unblocks the app's next job, `jobs run-now --ignore-freeze`
// deploys inside the window).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <string>

#include "tests/support/e2e/harness.hpp"
#include "tests/support/fixtures.hpp"

namespace linkpilot {
namespace {

using namespace std::chrono_literals;
using testing::Daemon;
using testing::eventually;
using testing::seed_linked;
using testing::Simulator;

// Every day, all day, in UTC: the window holds deploys whenever the test runs.
constexpr std::string_view kFreeze =
    "freeze:\n"
    "  - { from: \"00:00\", to: \"24:00\", tz: UTC, mode: defer }\n";
constexpr std::string_view kRules =
    "rules:\n"
    "  - { name: to-a, on: push, deploy: { app: shop-a } }\n";

class E2E_Freeze : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::make_temp_dir("linkpilot-e2e-freeze"); }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static std::size_t deploys(const Simulator& sim) {
        return testing::deploys_by_app(sim)["shop-a"].size();
    }

    static std::optional<store::Job> find(const Daemon& daemon, std::int64_t id) {
        const auto jobs = daemon.jobs();
        const auto it = std::find_if(jobs.begin(), jobs.end(),
                                     [id](const store::Job& j) { return j.id == id; });
        return it == jobs.end() ? std::nullopt : std::optional<store::Job>{*it};
    }

    std::filesystem::path dir_;
};

TEST_F(E2E_Freeze, ALiftedFreezeReleasesTheHeldJobOnReload) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    Simulator sim(dir_ / "sim", seed_linked({"shop-a"}));
    Daemon daemon(dir_ / "daemon", sim, std::string(kFreeze) + std::string(kRules));
    const auto push = testing::read_file(fx / "github/push/branch-updated.json");
    ASSERT_EQ(daemon.github("push", push, "freeze-1").status, 202);
    ASSERT_TRUE(eventually([&] {
        const auto jobs = daemon.jobs();
        return jobs.size() == 1 && jobs[0].freeze_deferred;
    })) << daemon.process().stderr_text();
    const auto held = daemon.jobs().at(0);
    EXPECT_EQ(held.state, "pending");
    EXPECT_TRUE(held.note.value_or("").starts_with(
        "deferred: freeze window every day 00:00-24:00 UTC until "))
        << held.note.value_or("");
    EXPECT_EQ(deploys(sim), 0U);

    // The window goes from the config; SIGHUP reloads it (the file watch may be first).
    auto text = testing::read_file(daemon.config());
    text.erase(text.find(kFreeze), kFreeze.size());
    std::ofstream(daemon.config(), std::ios::trunc) << text;
    ASSERT_EQ(::kill(daemon.process().pid(), SIGHUP), 0);

    // Long before the window's end (next midnight UTC), the simulator sees the deploy.
    EXPECT_TRUE(eventually([&] { return deploys(sim) == 1; }, 10s))
        << daemon.process().stderr_text();
    ASSERT_TRUE(daemon.wait_settled()) << daemon.process().stderr_text();
    const auto done = find(daemon, held.id);
    ASSERT_TRUE(done.has_value());
    EXPECT_EQ(done->state, "done");
    EXPECT_FALSE(done->freeze_deferred);
    EXPECT_FALSE(done->last_error.has_value());
    EXPECT_TRUE(daemon.process().wait_for_line("1 deferred job(s) released", 1s))
        << daemon.process().stderr_text();
    EXPECT_EQ(daemon.terminate(), 0) << daemon.process().stderr_text();
}

TEST_F(E2E_Freeze, CancelUnblocksTheAppAndRunNowIgnoringTheFreezeDeploysInsideIt) {
    LINKPILOT_FIXTURES_OR_SKIP(fx);
    Simulator sim(dir_ / "sim", seed_linked({"shop-a"}));
    Daemon daemon(dir_ / "daemon", sim, std::string(kFreeze) + std::string(kRules));
    const auto push = testing::read_file(fx / "github/push/branch-updated.json");
    ASSERT_EQ(daemon.github("push", push, "hold-1").status, 202);
    ASSERT_EQ(daemon.github("push", push, "hold-2").status, 202);
    // The first is deferred and holds the app's queue; the second waits behind it.
    ASSERT_TRUE(eventually([&] {
        const auto jobs = daemon.jobs();
        return jobs.size() == 2 && jobs[0].freeze_deferred;
    })) << daemon.process().stderr_text();
    const auto first = daemon.jobs().at(0).id;
    const auto second = daemon.jobs().at(1).id;
    ASSERT_TRUE(find(daemon, second).has_value());
    EXPECT_FALSE(find(daemon, second)->freeze_deferred);

    auto [cancel_code, cancel_out] = daemon.cli({"jobs", "cancel", std::to_string(first)});
    ASSERT_EQ(cancel_code, 0) << daemon.process().stderr_text();
    EXPECT_NE(cancel_out.find(") cancelled by "), std::string::npos) << cancel_out;
    EXPECT_EQ(find(daemon, first).value_or(store::Job{}).state, "cancelled");
    // No longer blocked: the daemon takes the second, and the window defers it in turn.
    ASSERT_TRUE(eventually(
        [&] {
            const auto j = find(daemon, second);
            return j && j->freeze_deferred;
        },
        10s))
        << daemon.process().stderr_text();
    EXPECT_EQ(deploys(sim), 0U);

    auto [run_code, run_out] =
        daemon.cli({"jobs", "run-now", std::to_string(second), "--ignore-freeze"});
    ASSERT_EQ(run_code, 0) << daemon.process().stderr_text();
    EXPECT_NE(run_out.find("freeze window every day 00:00-24:00 UTC is in force and ignored for "
                           "this job"),
              std::string::npos)
        << run_out;
    EXPECT_TRUE(eventually([&] { return deploys(sim) == 1; }, 10s))
        << daemon.process().stderr_text();
    ASSERT_TRUE(eventually(
        [&] {
            const auto j = find(daemon, second);
            return j && j->state == "done";
        },
        10s));
    EXPECT_TRUE(find(daemon, second).value_or(store::Job{}).ignore_freeze);
    EXPECT_TRUE(daemon.process().wait_for_line(
        "freeze window every day 00:00-24:00 UTC ignored (jobs run-now --ignore-freeze)", 1s));
    EXPECT_EQ(find(daemon, first).value_or(store::Job{}).state, "cancelled");
    EXPECT_EQ(deploys(sim), 1U);  // the cancelled one never ran
    EXPECT_EQ(daemon.terminate(), 0) << daemon.process().stderr_text();
}

}  // namespace
}  // namespace linkpilot
