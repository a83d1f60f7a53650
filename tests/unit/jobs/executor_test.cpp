#include "daemon/jobs/executor.hpp"

#include <date/date.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "daemon/store/group_commit.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "tests/support/coroutines.hpp"
#include "tests/support/counting_store.hpp"
#include "tests/support/fake_api.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/store_builders.hpp"
#include "tests/support/temp_dir.hpp"

// GCC 12 warns falsely on Asio coroutine frames at -O1 (see daemon/scalingo/CMakeLists.txt).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace linkpilot::jobs {
namespace {

namespace net = boost::asio;
using std::chrono::seconds;
using SysTime = std::chrono::system_clock::time_point;

using testing::utc;

class ExecutorTest : public ::testing::Test {
  protected:
    ExecutorTest() {
        auto s = store::open_sqlite(store::SqliteOptions{dir_.path() / "state.db"});
        if (!s) {
            ADD_FAILURE() << s.error().message;
            return;
        }
        committer_ = std::make_unique<store::GroupCommitter>(
            std::make_unique<testing::CountingStore>(std::move(*s), counts_), clock_);
        options_.max_concurrency = 4;
        options_.retry = scalingo::RetryPolicy{5, seconds(1), seconds(60)};
        options_.seed = 42;
    }
    ~ExecutorTest() override {
        executor_.reset();
        if (committer_) {
            committer_->stop();
        }
    }
    ExecutorTest(const ExecutorTest&) = delete;
    ExecutorTest& operator=(const ExecutorTest&) = delete;

    Executor& executor() {
        if (!executor_) {
            executor_ = std::make_unique<Executor>(*committer_, api_, clock_, options_, nullptr,
                                                   ioc_.get_executor());
        }
        return *executor_;
    }

    template <class Pred>
    void run_until(Pred done) {
        testing::run_until(ioc_, std::move(done));
    }

    template <class T>
    T await(net::awaitable<T> a) {
        return testing::await(ioc_, std::move(a));
    }

    void await(net::awaitable<void> a) { testing::await(ioc_, std::move(a)); }

    // A store call on the writer thread, answered on the test's io_context.
    template <class F>
    auto store_call(F f) {
        using R = std::invoke_result_t<F&, store::Store&>;
        std::optional<R> answer;
        committer_->run(std::move(f),
                        net::bind_executor(ioc_, [&answer](R r) { answer.emplace(std::move(r)); }));
        run_until([&] { return answer.has_value(); });
        EXPECT_TRUE(answer && answer->has_value())
            << (answer && !*answer ? answer->error().message : "");
        if constexpr (requires(R & r) { r.value(); }) {
            return std::move(answer->value());
        }
    }

    std::int64_t accept(const std::string& action, const std::string& app, const std::string& args,
                        std::optional<std::string> debounce_key = {},
                        std::optional<std::chrono::milliseconds> debounce = {}) {
        const auto d =
            testing::push_delivery("delivery-" + std::to_string(++deliveries_), clock_.now());
        auto j = testing::new_job("rule", action, app, args);
        j.debounce_key = std::move(debounce_key);
        j.debounce = debounce;
        auto r = store_call([d, j](store::Store& s) { return s.accept(d, {j}); });
        EXPECT_EQ(r.job_ids.size(), 1U);
        return r.job_ids.empty() ? 0 : r.job_ids.front();
    }

    store::Job job(std::int64_t id) {
        auto j = store_call([id](store::Store& s) { return s.get_job(id); });
        EXPECT_TRUE(j.has_value()) << "no job " << id;
        return j ? *j : store::Job{};
    }

    // executor().run() on the test's io_context, as `serve` runs it.
    void start_loop() {
        net::co_spawn(ioc_, executor().run(), [this](const std::exception_ptr& e) {
            EXPECT_FALSE(e);
            loop_returned_ = true;
        });
    }
    // Stops the loop and waits until run() has returned (after its drain).
    void stop_loop() {
        executor().stop();
        run_until([this] { return loop_returned_; });
    }
    // Runs what is ready for a while: time for a job that must not start to start wrongly.
    void spin() {
        for (int i = 0; i < 20; ++i) {
            ioc_.poll();
        }
    }
    // Queues a deploy of main for app-a, then one for app-b, appending their ids to `ids`.
    void accept_for_both_apps(std::vector<std::int64_t>& ids) {
        ids.push_back(accept("deploy", "app-a", R"({"branch":"main"})"));
        ids.push_back(accept("deploy", "app-b", R"({"branch":"main"})"));
    }

    // Claims what is due, starts it, and waits until every started job has finished.
    std::size_t poll_and_settle() {
        const auto started = await(executor().poll());
        await(executor().wait_idle());
        return started;
    }

    store::TempDir dir_;
    std::shared_ptr<testing::CountingStore::Counts> counts_ =
        std::make_shared<testing::CountingStore::Counts>();
    testing::FakeClock clock_{utc("2026-01-07T10:00:00Z")};  // a Wednesday
    std::unique_ptr<store::GroupCommitter> committer_;
    testing::FakeApi api_;
    ExecutorOptions options_;
    net::io_context ioc_;
    std::unique_ptr<Executor> executor_;
    int deliveries_ = 0;
    bool loop_returned_ = false;
};

using FakeCall = testing::FakeApi::Call;

TEST_F(ExecutorTest, DeployCallsManualDeployWithTheBranchAndEndsDone) {
    const auto id = accept("deploy", "shop-staging", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 1U);
    ASSERT_EQ(api_.calls.size(), 1U);
    EXPECT_EQ(api_.calls[0], (FakeCall{"manual_deploy", "shop-staging", "main"}));
    const auto j = job(id);
    EXPECT_EQ(j.state, "done");
    EXPECT_EQ(j.attempts, 1);
    EXPECT_EQ(j.note, "deployment dep-1 queued");
    EXPECT_EQ(executor().metrics().jobs(rules::ActionKind::deploy, Outcome::done), 1U);
}

TEST_F(ExecutorTest, ReviewAppCallsManualReviewAppWithThePrNumber) {
    const auto id = accept("review_app", "shop-staging", R"({"branch":"feature","pr_number":12})");
    EXPECT_EQ(poll_and_settle(), 1U);
    ASSERT_EQ(api_.calls.size(), 1U);
    EXPECT_EQ(api_.calls[0], (FakeCall{"manual_review_app", "shop-staging", "12"}));
    const auto j = job(id);
    EXPECT_EQ(j.state, "done");
    EXPECT_EQ(j.note, "review app shop-staging-pr12 requested for PR #12");
}

TEST_F(ExecutorTest, DeleteReviewAppDeletesThePrsReviewApp) {
    scalingo::ReviewApp other;
    other.app_name = "shop-staging-pr3";
    other.pull_request = scalingo::PullRequest{};
    other.pull_request->number = 3;
    scalingo::ReviewApp target;
    target.app_name = "shop-staging-pr7";
    target.pull_request = scalingo::PullRequest{};
    target.pull_request->number = 7;
    api_.review_apps_by_parent["shop-staging"] = {other, target};

    const auto id = accept("delete_review_app", "shop-staging", R"({"pr_number":7})");
    EXPECT_EQ(poll_and_settle(), 1U);
    ASSERT_EQ(api_.calls.size(), 2U);
    EXPECT_EQ(api_.calls[0], (FakeCall{"review_apps", "shop-staging", ""}));
    EXPECT_EQ(api_.calls[1], (FakeCall{"delete_app", "shop-staging-pr7", ""}));
    ASSERT_EQ(api_.review_apps_by_parent["shop-staging"].size(), 1U);
    EXPECT_EQ(api_.review_apps_by_parent["shop-staging"][0].app_name, "shop-staging-pr3");
    const auto j = job(id);
    EXPECT_EQ(j.state, "done");
    EXPECT_EQ(j.note, "deleted review app shop-staging-pr7 (PR #7)");
}

TEST_F(ExecutorTest, DeleteReviewAppFindsTheAppByNameWithoutPullRequestData) {
    scalingo::ReviewApp target;
    target.app_name = "shop-staging-pr9";
    api_.review_apps_by_parent["shop-staging"] = {target};
    const auto id = accept("delete_review_app", "shop-staging", R"({"pr_number":9})");
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(api_.count("delete_app"), 1U);
    EXPECT_EQ(job(id).state, "done");
}

TEST_F(ExecutorTest, DeleteReviewAppWithNoneFoundIsDoneWithANote) {
    const auto id = accept("delete_review_app", "shop-staging", R"({"pr_number":5})");
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(api_.count("review_apps"), 1U);
    EXPECT_EQ(api_.count("delete_app"), 0U);
    const auto j = job(id);
    EXPECT_EQ(j.state, "done");
    EXPECT_EQ(j.note, "no review app for PR #5; nothing to delete");
}

TEST_F(ExecutorTest, RunsOneJobPerAppAtATimeAndAppsInParallel) {
    const auto a1 = accept("deploy", "app-a", R"({"branch":"one"})");
    const auto a2 = accept("deploy", "app-a", R"({"branch":"two"})");
    const auto b1 = accept("deploy", "app-b", R"({"branch":"main"})");
    api_.hold();

    EXPECT_EQ(await(executor().poll()), 2U);
    run_until([&] { return api_.held() == 2; });
    // Both apps are in flight together; app-a's second job waits for its first.
    EXPECT_EQ(api_.calls, (std::vector<FakeCall>{{"manual_deploy", "app-a", "one"},
                                                 {"manual_deploy", "app-b", "main"}}));
    EXPECT_EQ(await(executor().poll()), 0U);
    EXPECT_EQ(job(a2).state, "pending");
    EXPECT_EQ(job(a1).state, "running");

    api_.release();
    await(executor().wait_idle());
    EXPECT_EQ(job(a1).state, "done");
    EXPECT_EQ(job(b1).state, "done");
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(api_.calls.back(), (FakeCall{"manual_deploy", "app-a", "two"}));
    EXPECT_EQ(job(a2).state, "done");
}

TEST_F(ExecutorTest, ClaimsNoMoreThanMaxConcurrency) {
    options_.max_concurrency = 2;
    accept("deploy", "app-a", R"({"branch":"main"})");
    accept("deploy", "app-b", R"({"branch":"main"})");
    accept("deploy", "app-c", R"({"branch":"main"})");
    api_.hold();
    EXPECT_EQ(await(executor().poll()), 2U);
    EXPECT_EQ(await(executor().poll()), 0U);
    run_until([&] { return api_.held() == 2; });
    api_.release();
    await(executor().wait_idle());
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(api_.count("manual_deploy"), 3U);
}

TEST_F(ExecutorTest, ServerErrorIsRescheduledWithBackoffThenSucceeds) {
    api_.fail_next("manual_deploy", testing::FakeApi::http_error(500, "500 Internal Server Error"));
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    const auto t0 = clock_.now();
    EXPECT_EQ(poll_and_settle(), 1U);
    auto j = job(id);
    EXPECT_EQ(j.state, "pending");
    EXPECT_EQ(j.attempts, 1);
    EXPECT_EQ(j.last_error, "500 Internal Server Error");
    EXPECT_GE(j.next_attempt_at, t0);
    EXPECT_LE(j.next_attempt_at, t0 + seconds(1));  // initial_backoff caps the first jitter
    if (j.next_attempt_at > clock_.now()) {
        EXPECT_EQ(poll_and_settle(), 0U);
    }
    clock_.set_wall(j.next_attempt_at);
    EXPECT_EQ(poll_and_settle(), 1U);
    j = job(id);
    EXPECT_EQ(j.state, "done");
    EXPECT_EQ(j.attempts, 2);
    EXPECT_EQ(api_.count("manual_deploy"), 2U);
    EXPECT_EQ(executor().metrics().jobs(rules::ActionKind::deploy, Outcome::rescheduled), 1U);
}

TEST_F(ExecutorTest, TooManyRequestsHonoursRetryAfter) {
    auto e = testing::FakeApi::http_error(429, "429 Too Many Requests");
    e.retry_after = seconds(30);
    api_.fail_next("manual_deploy", e);
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    const auto t0 = clock_.now();
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(job(id).next_attempt_at, t0 + seconds(30));
    clock_.advance(seconds(29));
    EXPECT_EQ(poll_and_settle(), 0U);
    clock_.advance(seconds(1));
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(job(id).state, "done");
}

TEST_F(ExecutorTest, NotFoundFailsAfterOneAttemptAndRetrySucceeds) {
    api_.fail_next("manual_deploy", testing::FakeApi::http_error(404, "404 Not Found: app"));
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 1U);
    auto j = job(id);
    EXPECT_EQ(j.state, "failed");
    EXPECT_EQ(j.attempts, 1);
    EXPECT_EQ(j.last_error, "404 Not Found: app");
    EXPECT_EQ(poll_and_settle(), 0U);  // dead letter: not picked up again

    const auto now = clock_.now();
    store_call([id, now](store::Store& s) { return s.retry(id, now); });
    EXPECT_EQ(poll_and_settle(), 1U);
    j = job(id);
    EXPECT_EQ(j.state, "done");
    EXPECT_EQ(api_.count("manual_deploy"), 2U);
}

TEST_F(ExecutorTest, ExhaustedAttemptsFailWithTheLastError) {
    options_.retry.max_attempts = 3;
    api_.fail_next("manual_deploy", testing::FakeApi::http_error(502, "first"));
    api_.fail_next("manual_deploy", testing::FakeApi::http_error(500, "second"));
    api_.fail_next("manual_deploy", testing::FakeApi::http_error(503, "third"));
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    for (int attempt = 1; attempt <= 3; ++attempt) {
        clock_.set_wall(std::max(clock_.now(), job(id).next_attempt_at));
        EXPECT_EQ(poll_and_settle(), 1U) << "attempt " << attempt;
    }
    const auto j = job(id);
    EXPECT_EQ(j.state, "failed");
    EXPECT_EQ(j.attempts, 3);
    EXPECT_EQ(j.last_error, "third");
    EXPECT_EQ(executor().metrics().jobs(rules::ActionKind::deploy, Outcome::failed), 1U);
}

TEST_F(ExecutorTest, DebounceRunsOnlyTheLastJobAfterTheQuietPeriod) {
    const auto key = std::string("deploy:shop:main");
    const std::chrono::milliseconds quiet = seconds(30);
    const auto first = accept("deploy", "shop", R"({"branch":"main"})", key, quiet);
    clock_.advance(seconds(5));
    const auto second = accept("deploy", "shop", R"({"branch":"main"})", key, quiet);
    clock_.advance(seconds(5));
    const auto last = accept("deploy", "shop", R"({"branch":"main"})", key, quiet);

    clock_.advance(seconds(29));
    EXPECT_EQ(poll_and_settle(), 0U);
    clock_.advance(seconds(1));
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(api_.count("manual_deploy"), 1U);
    EXPECT_EQ(job(last).state, "done");
    EXPECT_EQ(job(last).attempts, 1);
    EXPECT_EQ(job(first).attempts, 0);
    EXPECT_EQ(job(second).attempts, 0);
    EXPECT_EQ(job(first).note, "superseded by job " + std::to_string(second));
    EXPECT_EQ(job(second).note, "superseded by job " + std::to_string(last));
}

config::FreezeWindow friday_evening(config::FreezeMode mode) {
    config::FreezeWindow w;
    w.days = {5};
    w.from = std::chrono::hours(16);
    w.to = std::chrono::hours(23) + std::chrono::minutes(59);
    w.tz = "Europe/Paris";
    w.mode = mode;
    return w;
}

TEST_F(ExecutorTest, FreezeDeferHoldsTheDeployUntilTheWindowEnds) {
    options_.freeze = {friday_evening(config::FreezeMode::defer)};
    clock_.set_wall(utc("2026-01-09T15:30:00Z"));  // Friday 16:30 in Paris
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_TRUE(api_.calls.empty());
    auto j = job(id);
    EXPECT_EQ(j.state, "pending");
    EXPECT_EQ(j.attempts, 0);
    EXPECT_EQ(j.next_attempt_at, utc("2026-01-09T22:59:00Z"));
    EXPECT_EQ(j.note,
              "deferred: freeze window fri 16:00-23:59 Europe/Paris until 2026-01-09T22:59:00Z");

    clock_.set_wall(utc("2026-01-09T22:58:59Z"));
    EXPECT_EQ(poll_and_settle(), 0U);
    clock_.set_wall(utc("2026-01-09T22:59:00Z"));
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(api_.count("manual_deploy"), 1U);
    EXPECT_EQ(job(id).state, "done");
    EXPECT_EQ(executor().metrics().jobs(rules::ActionKind::deploy, Outcome::deferred), 1U);
}

TEST_F(ExecutorTest, FreezeSkipIsDoneWithANoteAndNoCall) {
    options_.freeze = {friday_evening(config::FreezeMode::skip)};
    clock_.set_wall(utc("2026-01-09T15:30:00Z"));
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_TRUE(api_.calls.empty());
    const auto j = job(id);
    EXPECT_EQ(j.state, "done");
    EXPECT_EQ(j.attempts, 0);
    EXPECT_EQ(j.note, "skipped: freeze window fri 16:00-23:59 Europe/Paris");
}

TEST_F(ExecutorTest, FreezeOnDeploysLeavesReviewAppsAlone) {
    options_.freeze = {friday_evening(config::FreezeMode::skip)};
    clock_.set_wall(utc("2026-01-09T15:30:00Z"));
    const auto id = accept("review_app", "shop", R"({"pr_number":4})");
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(api_.count("manual_review_app"), 1U);
    EXPECT_EQ(job(id).state, "done");
}

// Every day, all day, in UTC: whatever the fake clock says, a window holds deploys.
config::FreezeWindow all_day(config::FreezeMode mode) {
    config::FreezeWindow w;
    w.from = std::chrono::hours(0);
    w.to = std::chrono::hours(24);
    w.tz = "UTC";
    w.mode = mode;
    return w;
}

// A reloaded config: only its freeze windows differ from the defaults.
config::Config config_with(std::vector<config::FreezeWindow> freeze) {
    config::Config c;
    c.freeze = std::move(freeze);
    return c;
}

TEST_F(ExecutorTest, AReloadWithoutTheWindowRunsTheDeferredJobAtOnce) {
    options_.idle_poll = std::chrono::hours(1);  // only a wake-up can start it
    options_.freeze = {friday_evening(config::FreezeMode::defer)};
    clock_.set_wall(utc("2026-01-09T15:30:00Z"));  // Friday 16:30 in Paris
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    start_loop();
    run_until([&] { return job(id).freeze_deferred; });
    spin();
    EXPECT_TRUE(api_.calls.empty());

    executor().reconfigure(config_with({}));
    run_until([&] { return job(id).state == "done"; });
    EXPECT_EQ(api_.calls, (std::vector<FakeCall>{{"manual_deploy", "shop", "main"}}));
    EXPECT_EQ(clock_.now(), utc("2026-01-09T15:30:00Z"));  // long before the window's end
    const auto j = job(id);
    EXPECT_FALSE(j.freeze_deferred);
    EXPECT_EQ(j.note, "deployment dep-1 queued");
    stop_loop();
}

TEST_F(ExecutorTest, AReloadWithAnotherWindowHoldsTheDeferredJobUntilThatWindowEnds) {
    options_.freeze = {friday_evening(config::FreezeMode::defer)};
    clock_.set_wall(utc("2026-01-09T15:30:00Z"));
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 1U);
    ASSERT_EQ(job(id).next_attempt_at, utc("2026-01-09T22:59:00Z"));

    auto shorter = friday_evening(config::FreezeMode::defer);
    shorter.to = std::chrono::hours(20);
    executor().reconfigure(config_with({shorter}));
    run_until([&] { return job(id).next_attempt_at == utc("2026-01-09T19:00:00Z"); });
    auto j = job(id);
    EXPECT_EQ(j.state, "pending");
    EXPECT_TRUE(j.freeze_deferred);
    EXPECT_EQ(j.note,
              "deferred: freeze window fri 16:00-20:00 Europe/Paris until 2026-01-09T19:00:00Z");

    // The same windows again: nothing to change, nothing rewritten.
    const auto unchanged = await(executor().recheck_deferred());
    EXPECT_EQ(unchanged.released, 0);
    EXPECT_EQ(unchanged.moved, 0);

    EXPECT_EQ(poll_and_settle(), 0U);
    clock_.set_wall(utc("2026-01-09T19:00:00Z"));
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(api_.count("manual_deploy"), 1U);
    EXPECT_EQ(job(id).state, "done");
}

TEST_F(ExecutorTest, TheRecheckReleasesOnlyFreezeDeferredJobs) {
    auto busy = testing::FakeApi::http_error(429, "429 Too Many Requests");
    busy.retry_after = seconds(30);
    api_.fail_next("manual_deploy", busy);
    const auto backing_off = accept("deploy", "api", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 1U);
    ASSERT_EQ(job(backing_off).next_attempt_at, clock_.now() + seconds(30));
    executor().reconfigure(config_with({all_day(config::FreezeMode::defer)}));
    const auto held = accept("deploy", "shop", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 1U);
    ASSERT_TRUE(job(held).freeze_deferred);

    const auto r = await(executor().recheck_deferred());
    EXPECT_EQ(r.released, 0);
    EXPECT_EQ(r.moved, 0);
    executor().reconfigure(config_with({}));
    run_until([&] { return !job(held).freeze_deferred; });
    EXPECT_EQ(job(held).next_attempt_at, clock_.now());
    EXPECT_EQ(job(held).note,
              "released at 2026-01-07T10:00:00Z: no freeze window holds it any more");
    EXPECT_EQ(job(backing_off).next_attempt_at, clock_.now() + seconds(30));
    EXPECT_EQ(job(backing_off).last_error, "429 Too Many Requests");
}

TEST_F(ExecutorTest, RunLoopAtStartReleasesJobsAWindowNoLongerConfiguredDeferred) {
    // Deferred by an earlier process whose config had a window this one does not.
    options_.idle_poll = std::chrono::hours(1);
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    const auto now = clock_.now();
    store_call([now](store::Store& s) { return s.claim_runnable(now, 10); });
    store_call([id, now](store::Store& s) {
        return s.defer(id, now + std::chrono::hours(6), "deferred: freeze window gone", now);
    });
    start_loop();
    run_until([&] { return job(id).state == "done"; });
    EXPECT_EQ(api_.count("manual_deploy"), 1U);
    EXPECT_EQ(clock_.now(), now);
    stop_loop();
}

TEST_F(ExecutorTest, ARunNowJobIgnoringTheFreezeRunsInsideTheWindow) {
    options_.freeze = {all_day(config::FreezeMode::defer)};
    const auto held = accept("deploy", "shop", R"({"branch":"main"})");
    const auto other = accept("deploy", "web", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 2U);
    ASSERT_TRUE(job(held).freeze_deferred);
    ASSERT_TRUE(job(other).freeze_deferred);

    const auto now = clock_.now();
    store_call([held, now](store::Store& s) { return s.run_now(held, true, "run now", now); });
    store_call([other, now](store::Store& s) { return s.run_now(other, false, "run now", now); });
    EXPECT_EQ(poll_and_settle(), 2U);
    // Only the overridden one deploys; the other is simply deferred again.
    EXPECT_EQ(api_.calls, (std::vector<FakeCall>{{"manual_deploy", "shop", "main"}}));
    EXPECT_EQ(job(held).state, "done");
    const auto j = job(other);
    EXPECT_EQ(j.state, "pending");
    EXPECT_TRUE(j.freeze_deferred);
    EXPECT_EQ(j.next_attempt_at, utc("2026-01-08T00:00:00Z"));
    EXPECT_EQ(j.note,
              "deferred: freeze window every day 00:00-24:00 UTC until 2026-01-08T00:00:00Z");
}

TEST_F(ExecutorTest, ACancelledDeferredJobNoLongerBlocksItsAppsNextJob) {
    options_.freeze = {all_day(config::FreezeMode::defer)};  // deploys only
    const auto held = accept("deploy", "shop", R"({"branch":"main"})");
    const auto review = accept("review_app", "shop", R"({"pr_number":4})");
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(poll_and_settle(), 0U);  // the review app waits behind the deferred deploy
    EXPECT_TRUE(api_.calls.empty());

    const auto now = clock_.now();
    store_call([held, now](store::Store& s) { return s.cancel(held, "cancelled by ops", now); });
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(api_.calls, (std::vector<FakeCall>{{"manual_review_app", "shop", "4"}}));
    EXPECT_EQ(job(review).state, "done");
    EXPECT_EQ(job(held).state, "cancelled");
}

TEST_F(ExecutorTest, ARetriedJobThatSucceedsNoLongerShowsItsOldError) {
    api_.fail_next("manual_deploy", testing::FakeApi::http_error(404, "404 Not Found: app"));
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 1U);
    ASSERT_EQ(job(id).state, "failed");
    const auto now = clock_.now();
    store_call([id, now](store::Store& s) { return s.retry(id, now); });
    EXPECT_EQ(poll_and_settle(), 1U);
    const auto j = job(id);
    EXPECT_EQ(j.state, "done");
    EXPECT_FALSE(j.last_error.has_value());
    const auto history = store_call([](store::Store& s) { return s.list_attempts({}); });
    ASSERT_EQ(history.size(), 2U);
    EXPECT_EQ(history[0].outcome, "failed");
    EXPECT_EQ(history[0].detail, "404 Not Found: app");
    EXPECT_EQ(history[1].outcome, "done");
    EXPECT_EQ(history[1].detail, "deployment dep-1 queued");
}

TEST_F(ExecutorTest, JobLeftRunningByACrashRunsAfterRecovery) {
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    // The previous process claimed it and died before recording anything.
    const auto now = clock_.now();
    const auto claimed = store_call([now](store::Store& s) { return s.claim_runnable(now, 10); });
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(job(id).state, "running");
    EXPECT_EQ(poll_and_settle(), 0U);

    EXPECT_EQ(await(executor().recover()), 1);
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_EQ(job(id).state, "done");
    EXPECT_EQ(api_.count("manual_deploy"), 1U);
}

TEST_F(ExecutorTest, BadArgumentsFailWithoutCallingScalingo) {
    const auto id = accept("deploy", "shop", R"({"pr_number":3})");
    EXPECT_EQ(poll_and_settle(), 1U);
    EXPECT_TRUE(api_.calls.empty());
    const auto j = job(id);
    EXPECT_EQ(j.state, "failed");
    EXPECT_EQ(j.last_error, "deploy job without a branch");
}

TEST_F(ExecutorTest, RendersPrometheusLines) {
    accept("deploy", "shop", R"({"branch":"main"})");
    EXPECT_EQ(poll_and_settle(), 1U);
    std::string out;
    executor().metrics().render_prometheus(out);
    EXPECT_NE(out.find("linkpilot_jobs_total{action=\"deploy\",outcome=\"done\"} 1\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("linkpilot_job_attempts_total{action=\"deploy\"} 1\n"), std::string::npos)
        << out;
    // The client counts the Scalingo calls (tests/unit/scalingo): one source for those names.
    EXPECT_EQ(out.find("linkpilot_scalingo_"), std::string::npos) << out;

    const auto stats = store_call([](store::Store& s) { return s.stats(); });
    std::string st;
    render_store_stats(stats, clock_.now(), st);
    EXPECT_NE(st.find("linkpilot_jobs{state=\"done\",action=\"deploy\"} 1\n"), std::string::npos)
        << st;
    EXPECT_NE(st.find("linkpilot_jobs_oldest_pending_seconds 0\n"), std::string::npos) << st;
}

TEST_F(ExecutorTest, RunLoopRunsJobsWhenNotifiedAndReturnsAfterStop) {
    // A long idle sleep: only notify(), finished jobs and stop() wake the loop here.
    options_.idle_poll = std::chrono::hours(1);
    const auto first = accept("deploy", "shop", R"({"branch":"main"})");
    start_loop();
    run_until([&] { return api_.count("manual_deploy") == 1 && job(first).state == "done"; });

    const auto second = accept("review_app", "shop", R"({"pr_number":3})");
    executor().notify();
    run_until([&] { return job(second).state == "done"; });
    EXPECT_EQ(api_.count("manual_review_app"), 1U);

    stop_loop();
    EXPECT_EQ(executor().in_flight(), 0U);
}

TEST_F(ExecutorTest, RunLoopChainsAnAppsJobsInOrderWithoutNotify) {
    options_.idle_poll = std::chrono::hours(1);  // only finished jobs wake the loop
    const auto a1 = accept("deploy", "app-a", R"({"branch":"one"})");
    const auto a2 = accept("deploy", "app-a", R"({"branch":"two"})");
    const auto a3 = accept("deploy", "app-a", R"({"branch":"three"})");
    start_loop();
    run_until([&] { return job(a3).state == "done"; });
    EXPECT_EQ(job(a1).state, "done");
    EXPECT_EQ(job(a2).state, "done");
    EXPECT_EQ(api_.calls, (std::vector<FakeCall>{{"manual_deploy", "app-a", "one"},
                                                 {"manual_deploy", "app-a", "two"},
                                                 {"manual_deploy", "app-a", "three"}}));
    stop_loop();
}

TEST_F(ExecutorTest, RunLoopGivesAFreedSlotToTheOldestWaitingJobOfAnyApp) {
    // One slot: app-a's second job must not overtake app-b's job, accepted before it.
    options_.max_concurrency = 1;
    options_.idle_poll = std::chrono::hours(1);
    accept("deploy", "app-a", R"({"branch":"a1"})");
    accept("deploy", "app-b", R"({"branch":"b1"})");
    const auto a2 = accept("deploy", "app-a", R"({"branch":"a2"})");
    start_loop();
    run_until([&] { return job(a2).state == "done"; });
    EXPECT_EQ(api_.calls, (std::vector<FakeCall>{{"manual_deploy", "app-a", "a1"},
                                                 {"manual_deploy", "app-b", "b1"},
                                                 {"manual_deploy", "app-a", "a2"}}));
    stop_loop();
}

TEST_F(ExecutorTest, RunLoopWithEveryAppBusyClaimsFreedAppsWithoutScanningTheQueue) {
    // As many apps as slots, each with a queue: a finished job frees exactly its app, whose
    // next job is claimed by name. Only the first settle scans every pending job (bench/dispatch:
    // a scan after every outcome cost more than the calls themselves with 10,000 queued).
    options_.max_concurrency = 2;
    options_.idle_poll = std::chrono::hours(1);
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 4; ++i) {
        accept_for_both_apps(ids);
    }
    start_loop();
    run_until([&] { return job(ids.back()).state == "done"; });
    for (const auto id : ids) {
        EXPECT_EQ(job(id).state, "done") << "job " << id;
    }
    EXPECT_EQ(api_.count("manual_deploy"), 8U);
    EXPECT_EQ(counts_->settles_scanning_all.load(), 1);
    // Each chained job was started by a claim of its app or by a handover from the job before.
    EXPECT_GE(counts_->settles_by_app.load() + counts_->handovers.load(), 3);
    stop_loop();
}

TEST_F(ExecutorTest, RunLoopStartsAnAppsNextJobWithoutWaitingForTheStore) {
    // The store stalls once `one` is running: `two`, named by the claim of `one`, starts as
    // soon as `one` answers; `three` (named only by the stalled settle) waits for the store.
    options_.idle_poll = std::chrono::hours(1);
    const auto one = accept("deploy", "shop", R"({"branch":"one"})");
    const auto two = accept("deploy", "shop", R"({"branch":"two"})");
    const auto three = accept("deploy", "shop", R"({"branch":"three"})");
    api_.hold();
    start_loop();
    run_until([&] { return api_.held() == 1; });
    counts_->hold_settles = true;
    api_.release();
    run_until([&] { return api_.count("manual_deploy") == 2 && counts_->settles_held >= 1; });
    spin();
    EXPECT_EQ(api_.count("manual_deploy"), 2U);  // `three` waits for the store's answer

    counts_->hold_settles = false;
    run_until([&] { return job(three).state == "done"; });
    EXPECT_EQ(job(one).state, "done");
    EXPECT_EQ(job(two).state, "done");
    EXPECT_EQ(api_.calls, (std::vector<FakeCall>{{"manual_deploy", "shop", "one"},
                                                 {"manual_deploy", "shop", "two"},
                                                 {"manual_deploy", "shop", "three"}}));
    EXPECT_GE(counts_->handovers.load(), 1);
    stop_loop();
    EXPECT_EQ(executor().in_flight(), 0U);
}

TEST_F(ExecutorTest, RunLoopKeepsHandingOverWhileDeliveriesNameBusyApps) {
    // Every slot taken, and a delivery names both apps (as the ingress does): they hold their
    // slots, so nobody waits for one, and each app's next job still starts without a claim.
    options_.max_concurrency = 2;
    options_.idle_poll = std::chrono::hours(1);
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 2; ++i) {
        accept_for_both_apps(ids);
    }
    api_.hold();
    start_loop();
    run_until([&] { return api_.held() == 2; });
    accept_for_both_apps(ids);
    executor().notify({"app-a", "app-b"});
    api_.release();
    run_until([&] { return job(ids[4]).state == "done" && job(ids[5]).state == "done"; });
    for (const auto id : ids) {
        EXPECT_EQ(job(id).state, "done") << "job " << id;
    }
    EXPECT_GE(counts_->handovers.load(), 2);  // the first jobs' successors, named by the scan
    stop_loop();
}

TEST_F(ExecutorTest, RunLoopNeverStartsADebouncedJobBeforeItsClaim) {
    // A debounced job may be superseded while the job before it runs: only a claim, in the
    // store, may start it (SPEC 2.4: a burst gives one deploy of the latest state).
    options_.idle_poll = std::chrono::hours(1);
    const auto first = accept("deploy", "shop", R"({"branch":"one"})");
    const auto stale = accept("deploy", "shop", R"({"branch":"two"})", "shop:main", seconds(1));
    clock_.advance(seconds(2));  // `stale` is due
    api_.hold();
    start_loop();
    run_until([&] { return api_.held() == 1; });
    const auto latest = accept("deploy", "shop", R"({"branch":"three"})", "shop:main", seconds(1));
    EXPECT_EQ(job(stale).state, "done");  // superseded
    api_.release();
    run_until([&] { return job(first).state == "done"; });
    spin();
    EXPECT_EQ(api_.count("manual_deploy"), 1U);
    EXPECT_EQ(job(latest).state, "pending");  // its quiet period runs

    clock_.advance(seconds(2));
    executor().notify();
    run_until([&] { return job(latest).state == "done"; });
    EXPECT_EQ(api_.calls, (std::vector<FakeCall>{{"manual_deploy", "shop", "one"},
                                                 {"manual_deploy", "shop", "three"}}));
    EXPECT_EQ(counts_->handovers.load(), 0);
    stop_loop();
}

TEST_F(ExecutorTest, StopDoesNotWaitOutTheDrainForOutcomesTheStoreRefuses) {
    // A job returned but the store (read-only, full) refuses its outcome: stop() tries once
    // more and returns, instead of waiting the whole drain for a write that nothing retries.
    options_.idle_poll = std::chrono::hours(1);
    options_.drain_timeout = std::chrono::hours(1);
    const auto id = accept("deploy", "shop", R"({"branch":"main"})");
    api_.hold();
    start_loop();
    run_until([&] { return api_.held() == 1; });
    counts_->refuse_settles = true;
    api_.release();
    run_until([&] { return counts_->settles_refused.load() >= 1; });
    stop_loop();
    EXPECT_GE(counts_->settles_refused.load(), 2);  // the stop's own try
    counts_->refuse_settles = false;
    // Still running in the store: the next start recovers it and runs it again (at least once).
    EXPECT_EQ(job(id).state, "running");
}

TEST_F(ExecutorTest, RunLoopHoldsABackingOffJobAndItsSuccessorUntilDue) {
    options_.idle_poll = std::chrono::hours(1);
    api_.fail_next("manual_deploy", testing::FakeApi::http_error(500, "500 Internal Server Error"));
    const auto first = accept("deploy", "shop", R"({"branch":"one"})");
    const auto second = accept("deploy", "shop", R"({"branch":"two"})");
    start_loop();
    run_until([&] { return job(first).attempts == 1; });
    // The retry of `first` is not due yet; `second` waits behind it (SPEC 5 order).
    spin();
    EXPECT_EQ(job(first).state, "pending");
    EXPECT_EQ(job(second).state, "pending");
    EXPECT_EQ(api_.count("manual_deploy"), 1U);

    clock_.advance(seconds(2));  // past the first backoff (at most initial_backoff = 1 s)
    executor().notify();         // the fake clock does not fire the loop's real timer
    run_until([&] { return job(second).state == "done"; });
    EXPECT_EQ(job(first).state, "done");
    EXPECT_EQ(api_.calls.back(), (FakeCall{"manual_deploy", "shop", "two"}));
    stop_loop();
}

TEST(Metrics_Unit, OldestPendingAgeIsNowMinusCreation) {
    store::Stats stats;
    const SysTime now{seconds(1000)};
    stats.oldest_pending_created_at = now - std::chrono::milliseconds(12500);
    std::string out;
    render_store_stats(stats, now, out);
    EXPECT_NE(out.find("linkpilot_jobs_oldest_pending_seconds 12.5\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace linkpilot::jobs
