#include "daemon/pruner/sweeper.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "daemon/jobs/executor.hpp"
#include "daemon/jobs/job_args.hpp"
#include "daemon/store/group_commit.hpp"
#include "daemon/store/postgres_store.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "tests/support/coroutines.hpp"
#include "tests/support/fake_api.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/temp_dir.hpp"

// GCC 12 warns falsely on Asio coroutine frames at -O1 (see daemon/scalingo/CMakeLists.txt).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace linkpilot::pruner {
namespace {

namespace net = boost::asio;
using std::chrono::hours;

class PrunerSweeper : public ::testing::Test {
  protected:
    PrunerSweeper() {
        auto s = store::open_sqlite(store::SqliteOptions{dir_.path() / "state.db"});
        if (!s) {
            ADD_FAILURE() << s.error().message;
            return;
        }
        committer_ = std::make_unique<store::GroupCommitter>(std::move(*s), clock_);
        sweeper_ = std::make_unique<Sweeper>(api_, committer_.get(), clock_, metrics_, nullptr);
        cfg_.apps = {"shop-staging", "blog-staging"};
        cfg_.stale_after = hours(72);
        cfg_.closed_after = hours(1);
        cfg_.max_deletions_per_sweep = 5;
    }
    ~PrunerSweeper() override {
        executor_.reset();
        sweeper_.reset();
        if (committer_) {
            committer_->stop();
        }
    }
    PrunerSweeper(const PrunerSweeper&) = delete;
    PrunerSweeper& operator=(const PrunerSweeper&) = delete;

    template <class Pred>
    void run_until(Pred done) {
        testing::run_until(ioc_, std::move(done));
    }

    template <class T>
    T await(net::awaitable<T> a) {
        return testing::await(ioc_, std::move(a));
    }

    void await(net::awaitable<void> a) { testing::await(ioc_, std::move(a)); }

    std::vector<store::Job> jobs() {
        std::optional<store::Result<std::vector<store::Job>>> answer;
        committer_->run([](store::Store& s) { return s.list_jobs({}); },
                        net::bind_executor(ioc_, [&](auto r) { answer.emplace(std::move(r)); }));
        run_until([&] { return answer.has_value(); });
        EXPECT_TRUE(answer->has_value());
        return answer->has_value() ? std::move(answer->value()) : std::vector<store::Job>{};
    }

    // Runs the job executor until every job is done or failed.
    void run_jobs() {
        if (!executor_) {
            jobs::ExecutorOptions options;
            options.seed = 1;
            executor_ = std::make_unique<jobs::Executor>(*committer_, api_, clock_, options,
                                                         nullptr, ioc_.get_executor());
        }
        for (int round = 0; round < 20; ++round) {
            const auto started = await(executor_->poll());
            await(executor_->wait_idle());
            if (started == 0) {
                return;
            }
        }
    }

    scalingo::ReviewApp review_app(const std::string& parent, std::uint64_t pr, hours created_ago,
                                   std::optional<hours> closed_ago = {}) {
        scalingo::ReviewApp ra;
        ra.app_name = scalingo::review_app_name(parent, pr);
        ra.parent_app_name = parent;
        ra.created_at = clock_.now() - created_ago;
        ra.pull_request = scalingo::PullRequest{};
        ra.pull_request->number = pr;
        if (closed_ago) {
            ra.pull_request->closed_at = clock_.now() - *closed_ago;
        }
        return ra;
    }

    store::TempDir dir_;
    testing::FakeClock clock_;
    net::io_context ioc_;
    testing::FakeApi api_;
    Metrics metrics_;
    std::unique_ptr<store::GroupCommitter> committer_;
    std::unique_ptr<Sweeper> sweeper_;
    std::unique_ptr<jobs::Executor> executor_;
    config::Prune cfg_;
};

TEST_F(PrunerSweeper, DryRunStoresNoJobAndMakesNoDelete) {
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100)),
                                                  review_app("shop-staging", 2, hours(1))};
    const auto report = await(sweeper_->sweep(cfg_, true));
    EXPECT_TRUE(report.dry_run);
    EXPECT_TRUE(report.ok());
    EXPECT_EQ(report.deletions(), 1U);
    EXPECT_TRUE(jobs().empty());
    EXPECT_EQ(api_.count("delete_app"), 0U);
    EXPECT_EQ(api_.count("review_apps"), 2U);
    EXPECT_EQ(metrics_.skipped_dry_run(), 1U);
}

TEST_F(PrunerSweeper, QueuesTheDeletionsOfOneAppAsOneDeliveryOfDeleteJobs) {
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100)),
                                                  review_app("shop-staging", 2, hours(2), hours(2)),
                                                  review_app("shop-staging", 3, hours(1))};
    const auto report = await(sweeper_->sweep(cfg_, false));
    ASSERT_EQ(report.apps.size(), 2U);
    ASSERT_EQ(report.apps[0].job_ids.size(), 2U);
    EXPECT_FALSE(report.apps[0].delivery_id.empty());
    const auto stored = jobs();
    ASSERT_EQ(stored.size(), 2U);
    for (const auto& j : stored) {
        EXPECT_EQ(j.action, "delete_review_app");
        EXPECT_EQ(j.app, "shop-staging");  // the parent: serialised with its review_app jobs
        EXPECT_EQ(j.rule, "prune");
        EXPECT_EQ(j.delivery_id, report.apps[0].delivery_id);
        EXPECT_EQ(j.provider, "linkpilot");
        EXPECT_EQ(j.state, "pending");
    }
    auto args = jobs::parse_args(stored[0].args_json);
    ASSERT_TRUE(args.has_value()) << args.error();
    EXPECT_EQ(args->review_app, "shop-staging-pr1");
    EXPECT_EQ(args->pr_number, 1U);
    EXPECT_EQ(args->activity_at, clock_.now() - hours(100));
    // Nothing is deleted by the sweep itself: the executor does it.
    EXPECT_EQ(api_.count("delete_app"), 0U);
    EXPECT_EQ(metrics_.deleted(Reason::stale), 1U);
    EXPECT_EQ(metrics_.deleted(Reason::closed), 1U);
    EXPECT_EQ(metrics_.skipped(Reason::active), 1U);
    EXPECT_EQ(metrics_.seen(), 3U);
}

TEST_F(PrunerSweeper, TheExecutorDeletesExactlyTheQueuedApps) {
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100)),
                                                  review_app("shop-staging", 2, hours(1))};
    (void)await(sweeper_->sweep(cfg_, false));
    run_jobs();
    ASSERT_EQ(api_.count("delete_app"), 1U);
    EXPECT_EQ(api_.calls.back(), (testing::FakeApi::Call{"delete_app", "shop-staging-pr1", {}}));
    const auto stored = jobs();
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].state, "done");
}

TEST_F(PrunerSweeper, AbortsOnlyTheAppWhoseListingFails) {
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100))};
    api_.review_apps_by_parent["blog-staging"] = {review_app("blog-staging", 5, hours(100))};
    api_.fail_next("review_apps", testing::FakeApi::http_error(500));
    const auto report = await(sweeper_->sweep(cfg_, false));
    EXPECT_FALSE(report.ok());
    ASSERT_EQ(report.apps.size(), 2U);
    EXPECT_TRUE(report.apps[0].error.has_value());
    EXPECT_TRUE(report.apps[0].plan.decisions.empty());
    EXPECT_FALSE(report.apps[1].error.has_value());
    const auto stored = jobs();
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].app, "blog-staging");
}

TEST_F(PrunerSweeper, SharesTheDeletionLimitAcrossApps) {
    cfg_.max_deletions_per_sweep = 3;
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100)),
                                                  review_app("shop-staging", 2, hours(90))};
    api_.review_apps_by_parent["blog-staging"] = {review_app("blog-staging", 1, hours(100)),
                                                  review_app("blog-staging", 2, hours(90))};
    const auto report = await(sweeper_->sweep(cfg_, false));
    EXPECT_EQ(report.deletions(), 3U);
    EXPECT_EQ(report.apps[0].plan.deletions(), 2U);
    EXPECT_EQ(report.apps[1].plan.deletions(), 1U);
    EXPECT_EQ(metrics_.skipped(Reason::limit_reached), 1U);
}

TEST_F(PrunerSweeper, DoesNotQueueTheSameDeletionTwice) {
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100))};
    (void)await(sweeper_->sweep(cfg_, false));
    clock_.advance(std::chrono::minutes(15));
    const auto second = await(sweeper_->sweep(cfg_, false));
    EXPECT_EQ(second.deletions(), 0U);
    EXPECT_EQ(second.apps[0].plan.decisions.at(0).reason, Reason::queued);
    EXPECT_EQ(jobs().size(), 1U);
}

TEST_F(PrunerSweeper, KeepsAnAppRedeployedBetweenTheSweepAndItsDeletion) {
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100))};
    (void)await(sweeper_->sweep(cfg_, false));
    // A review_app job of the same parent ran first and redeployed it.
    auto& ra = api_.review_apps_by_parent["shop-staging"][0];
    ra.last_deployment = scalingo::Deployment{};
    ra.last_deployment->created_at = clock_.now();
    run_jobs();
    EXPECT_EQ(api_.count("delete_app"), 0U);
    const auto stored = jobs();
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].state, "done");
    EXPECT_NE(stored[0].note.value_or("").find("active again"), std::string::npos)
        << stored[0].note.value_or("");
}

TEST_F(PrunerSweeper, TheExecutorNeverDeletesAnotherAppThanTheNamedOne) {
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100))};
    (void)await(sweeper_->sweep(cfg_, false));
    // Before the job runs, the named app is gone and another app carries the same PR number.
    auto other = review_app("shop-staging", 1, hours(1));
    other.app_name = "shop-staging-pr1-new";
    api_.review_apps_by_parent["shop-staging"] = {other};
    run_jobs();
    EXPECT_EQ(api_.count("delete_app"), 0U);
    const auto stored = jobs();
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].state, "done");
    EXPECT_NE(stored[0].note.value_or("").find("no longer listed"), std::string::npos);
}

TEST_F(PrunerSweeper, WithoutAStoreOnlyReports) {
    Sweeper dry(api_, nullptr, clock_, metrics_, nullptr);
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100))};
    const auto report = await(dry.sweep(cfg_, false));
    EXPECT_TRUE(report.dry_run);
    EXPECT_EQ(report.deletions(), 1U);
    EXPECT_TRUE(jobs().empty());
}

TEST_F(PrunerSweeper, RendersItsMetrics) {
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100))};
    (void)await(sweeper_->sweep(cfg_, false));
    std::string out;
    metrics_.render_prometheus(out);
    EXPECT_NE(out.find("linkpilot_prune_sweeps_total{result=\"ok\"} 1\n"), std::string::npos)
        << out;
    EXPECT_NE(out.find("linkpilot_prune_review_apps_seen_total 1\n"), std::string::npos);
    EXPECT_NE(out.find("linkpilot_prune_review_apps_deleted_total{reason=\"stale\"} 1\n"),
              std::string::npos);
    EXPECT_NE(out.find("linkpilot_prune_last_sweep_timestamp_seconds 1700000000.000\n"),
              std::string::npos)
        << out;
}

// Replicas sharing a PostgreSQL state (issue 11): while another process holds the sweep lock,
// a sweep lists nothing and queues nothing; once it is free, the next sweep runs.
TEST_F(PrunerSweeper, SkipsItsSweepWhileAnotherProcessHoldsTheSweepLock) {
    const auto server = testing::test_postgres_url();
    if (!server) {
        GTEST_SKIP() << testing::kNoPostgres;
    }
    testing::PgSchema schema(*server);
    ASSERT_TRUE(schema.ok()) << schema.error();
    auto other = store::open_postgres({.url = schema.url()});
    auto mine = store::open_postgres({.url = schema.url()});
    ASSERT_TRUE(other.has_value() && mine.has_value());
    // The other replica is sweeping.
    ASSERT_TRUE((*other)->try_lock_sweep(store::this_process("serve", clock_.now()))->taken);

    store::GroupCommitter committer(std::move(*mine), clock_);
    Sweeper sweeper(api_, &committer, clock_, metrics_, nullptr);
    api_.review_apps_by_parent["shop-staging"] = {review_app("shop-staging", 1, hours(100))};
    const auto skipped = await(sweeper.sweep(cfg_, false));
    EXPECT_TRUE(skipped.skipped);
    EXPECT_NE(skipped.held_by.find("linkpilot serve (pid "), std::string::npos) << skipped.held_by;
    EXPECT_TRUE(skipped.apps.empty());
    EXPECT_EQ(api_.count("review_apps"), 0U);

    ASSERT_TRUE((*other)->unlock_sweep().has_value());
    const auto swept = await(sweeper.sweep(cfg_, false));
    EXPECT_FALSE(swept.skipped);
    EXPECT_EQ(swept.deletions(), 1U);
    EXPECT_EQ(api_.count("review_apps"), 2U);
    // And the lock was given back: the other replica can take it again.
    EXPECT_TRUE((*other)->try_lock_sweep(store::this_process("serve", clock_.now()))->taken);
    committer.stop();
}

}  // namespace
}  // namespace linkpilot::pruner
