// PostgreSQL-only behaviour: what several replicas sharing one database need (issue 11). Each
// "replica" is its own Store (its own connection and lease owner) on the same schema. The
// contract both backends share is in store_test.cpp.
#include "daemon/store/postgres_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fake_clock.hpp"
#include "tests/support/postgres.hpp"

namespace linkpilot::store {
namespace {

using namespace std::chrono_literals;

constexpr auto kLease = 10s;

class PostgresStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto url = linkpilot::testing::test_postgres_url();
        if (!url) {
            GTEST_SKIP() << linkpilot::testing::kNoPostgres;
        }
        schema_ = std::make_unique<linkpilot::testing::PgSchema>(*url);
        ASSERT_TRUE(schema_->ok()) << schema_->error();
        a_ = open();
        b_ = open();
        ASSERT_NE(a_, nullptr);
        ASSERT_NE(b_, nullptr);
    }

    [[nodiscard]] std::unique_ptr<Store> open(const std::string& extra = "") const {
        auto s = open_postgres(PostgresOptions{.url = schema_->url() + extra, .lease = kLease});
        EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
        return s ? std::move(*s) : nullptr;
    }

    [[nodiscard]] NewDelivery delivery(const std::string& id) const {
        NewDelivery d;
        d.id = id;
        d.provider = "github";
        d.event = "push";
        d.repo = "acme/web";
        d.received_at = clock_.now();
        d.status = "queued";
        d.payload = "{}";
        return d;
    }

    static NewJob job(const std::string& app, std::optional<std::string> key = std::nullopt) {
        NewJob j;
        j.rule = "deploy-main";
        j.action = "deploy";
        j.app = app;
        j.args_json = R"({"branch":"main"})";
        j.debounce_key = std::move(key);
        return j;
    }

    std::int64_t accept(Store& s, const std::string& id, const NewJob& j) {
        auto r = s.accept(delivery(id), {j});
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        return r && !r->job_ids.empty() ? r->job_ids.front() : -1;
    }

    // A sweep lock holder with fixed fields, to compare what a refused store reads.
    [[nodiscard]] SweepHolder holder(const std::string& command) const {
        return SweepHolder{.pid = 4242, .host = "web-1", .command = command, .since = clock_.now()};
    }

    std::vector<std::int64_t> claim(Store& s, std::size_t limit = 10) {
        auto r = s.claim_runnable(clock_.now(), limit);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        std::vector<std::int64_t> ids;
        if (r) {
            for (const auto& j : *r) {
                ids.push_back(j.id);
            }
        }
        return ids;
    }

    Job get(std::int64_t id) {
        auto j = b_->get_job(id);
        EXPECT_TRUE(j.has_value() && j->has_value());
        return j && *j ? **j : Job{};
    }

    std::unique_ptr<linkpilot::testing::PgSchema> schema_;
    linkpilot::testing::FakeClock clock_;
    std::unique_ptr<Store> a_;  // replica A
    std::unique_ptr<Store> b_;  // replica B
};

TEST_F(PostgresStoreTest, ADeliverySentToBothReplicasIsStoredOnce) {
    ASSERT_GT(accept(*a_, "d1", job("web")), 0);
    auto again = b_->accept(delivery("d1"), {job("web")});
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_TRUE(again->duplicate);

    // At the same moment: the unique key decides, whichever commits first wins.
    for (int round = 0; round < 20; ++round) {
        const auto id = "race-" + std::to_string(round);
        Result<AcceptResult> ra = Unexpected{StoreError{}};
        Result<AcceptResult> rb = Unexpected{StoreError{}};
        std::thread ta([&] { ra = a_->accept(delivery(id), {job("web")}); });
        std::thread tb([&] { rb = b_->accept(delivery(id), {job("web")}); });
        ta.join();
        tb.join();
        ASSERT_TRUE(ra.has_value()) << ra.error().message;
        ASSERT_TRUE(rb.has_value()) << rb.error().message;
        EXPECT_NE(ra->duplicate, rb->duplicate) << id;
    }
    auto jobs = a_->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_EQ(jobs->size(), 21U);
}

TEST_F(PostgresStoreTest, AnAppsNextJobWaitsWhileAnotherReplicaRunsOne) {
    const auto web1 = accept(*a_, "d1", job("web"));
    const auto web2 = accept(*b_, "d2", job("web"));
    const auto api1 = accept(*b_, "d3", job("api"));
    EXPECT_EQ(claim(*a_, 1), std::vector<std::int64_t>{web1});
    EXPECT_EQ(claim(*b_), std::vector<std::int64_t>{api1});  // not web2: web1 runs on A
    ASSERT_TRUE(a_->complete(web1, "", clock_.now()).has_value());
    EXPECT_EQ(claim(*b_), std::vector<std::int64_t>{web2});
}

TEST_F(PostgresStoreTest, TwoReplicasClaimingConcurrentlyNeverOverlapOnAnApp) {
    constexpr int kApps = 5;
    constexpr int kPerApp = 30;
    for (int i = 0; i < kPerApp; ++i) {
        for (int app = 0; app < kApps; ++app) {
            accept(*a_, "d" + std::to_string(i) + "-" + std::to_string(app),
                   job("app-" + std::to_string(app)));
        }
    }
    std::array<std::atomic<int>, kApps> running{};
    std::atomic<int> overlaps{0};
    std::mutex mu;
    std::multiset<std::int64_t> done;  // every job id, as many times as it ran
    auto replica = [&](Store& s) {
        for (int idle = 0; idle < 50;) {
            auto claimed = s.claim_runnable(clock_.now(), 3);
            ASSERT_TRUE(claimed.has_value()) << claimed.error().message;
            if (claimed->empty()) {
                ++idle;
                std::this_thread::yield();
                continue;
            }
            idle = 0;
            for (const auto& j : *claimed) {
                auto& slot = running.at(static_cast<std::size_t>(std::stoi(j.app.substr(4))));
                if (slot.fetch_add(1) != 0) {
                    ++overlaps;
                }
            }
            for (const auto& j : *claimed) {
                {
                    std::lock_guard lock(mu);
                    done.insert(j.id);
                }
                // Off the books before the commit that lets the other replica claim the next.
                running.at(static_cast<std::size_t>(std::stoi(j.app.substr(4)))).fetch_sub(1);
                auto r = s.complete(j.id, "ok", clock_.now());
                ASSERT_TRUE(r.has_value()) << r.error().message;
            }
        }
    };
    std::thread ta([&] { replica(*a_); });
    std::thread tb([&] { replica(*b_); });
    ta.join();
    tb.join();
    EXPECT_EQ(overlaps.load(), 0);
    EXPECT_EQ(done.size(), static_cast<std::size_t>(kApps * kPerApp));
    EXPECT_EQ(std::set<std::int64_t>(done.begin(), done.end()).size(), done.size())
        << "a job ran twice";
    auto left = a_->list_jobs(JobFilter{std::string{kStatePending}, std::nullopt});
    ASSERT_TRUE(left.has_value());
    EXPECT_TRUE(left->empty());
}

TEST_F(PostgresStoreTest, ADeadReplicasJobIsTakenOverWhenItsLeaseExpires) {
    const auto web1 = accept(*a_, "d1", job("web"));
    ASSERT_EQ(claim(*a_), std::vector<std::int64_t>{web1});
    EXPECT_TRUE(claim(*b_).empty());  // leased to A

    clock_.advance(kLease);  // A stopped renewing (dead)
    EXPECT_EQ(claim(*b_), std::vector<std::int64_t>{web1});
    const Job j = get(web1);
    EXPECT_EQ(j.state, "running");
    ASSERT_TRUE(j.note.has_value());
    EXPECT_NE(j.note->find("expired"), std::string::npos) << *j.note;

    // A comes back too late: its outcome is refused, B's lands.
    auto late = a_->complete(web1, "deployed", clock_.now());
    ASSERT_FALSE(late.has_value());
    EXPECT_EQ(late.error().kind, StoreError::Kind::invalid_state) << late.error().message;
    ASSERT_TRUE(b_->complete(web1, "deployed", clock_.now()).has_value());
    EXPECT_EQ(get(web1).state, "done");
    EXPECT_EQ(get(web1).attempts, 1);
}

TEST_F(PostgresStoreTest, EverySettleRenewsTheLeasesOfItsRunningJobs) {
    const auto web1 = accept(*a_, "d1", job("web"));
    ASSERT_EQ(claim(*a_), std::vector<std::int64_t>{web1});
    clock_.advance(kLease - 1s);
    // The executor's loop settles at least every second, with or without outcomes.
    ASSERT_TRUE(a_->settle({}, {}, clock_.now(), 1, ClaimScope::all).has_value());
    clock_.advance(5s);  // past the first lease, within the renewed one
    EXPECT_TRUE(claim(*b_).empty());
    EXPECT_EQ(get(web1).state, "running");
    ASSERT_TRUE(a_->complete(web1, "", clock_.now()).has_value());
}

TEST_F(PostgresStoreTest, RecoveryAtStartLeavesLiveReplicasJobsAlone) {
    const auto web1 = accept(*a_, "d1", job("web"));
    ASSERT_EQ(claim(*a_), std::vector<std::int64_t>{web1});
    auto restarted = open();  // another replica (re)starting
    ASSERT_NE(restarted, nullptr);
    auto n = restarted->recover_running(clock_.now());
    ASSERT_TRUE(n.has_value()) << n.error().message;
    EXPECT_EQ(*n, 0);
    EXPECT_EQ(get(web1).state, "running");

    a_.reset();  // A dies; after its lease the job is pending again
    clock_.advance(kLease);
    n = restarted->recover_running(clock_.now());
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(get(web1).state, "pending");
}

TEST_F(PostgresStoreTest, DebounceAcrossReplicasKeepsOneWaitingJob) {
    auto j = job("web", "deploy/web/main");
    j.debounce = 30s;
    constexpr int kEach = 40;
    std::atomic<int> errors{0};
    auto sender = [&](Store& s, const std::string& prefix) {
        for (int i = 0; i < kEach; ++i) {
            if (!s.accept(delivery(prefix + std::to_string(i)), {j})) {
                ++errors;
            }
        }
    };
    std::thread ta([&] { sender(*a_, "a"); });
    std::thread tb([&] { sender(*b_, "b"); });
    ta.join();
    tb.join();
    EXPECT_EQ(errors.load(), 0);
    auto pending = a_->list_jobs(JobFilter{std::string{kStatePending}, std::nullopt});
    ASSERT_TRUE(pending.has_value());
    ASSERT_EQ(pending->size(), 1U) << "two replicas both kept a job for one debounce key";
    auto all = a_->list_jobs({});
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(all->size(), 2U * kEach);
    EXPECT_EQ(pending->front().id, all->back().id);  // the newest one waits
}

// The sweep lock's contract (take, refuse naming the holder, release) is in store_test.cpp;
// here what rests on PostgreSQL itself. The holder's host is the test's schema name, so the
// tests find its session among those of tests running in parallel.
TEST_F(PostgresStoreTest, TheSweepLockHoldersSessionSaysWhoItIsUntilItLetsGo) {
    auto s = open("&application_name=" + schema_->name());
    ASSERT_NE(s, nullptr);
    auto me = holder("serve");
    me.host = schema_->name();
    auto taken = s->try_lock_sweep(me);
    ASSERT_TRUE(taken.has_value()) << taken.error().message;
    ASSERT_TRUE(taken->taken);
    // What a refused replica reads, and an operator sees in pg_stat_activity.
    EXPECT_EQ(schema_->query("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = "
                             "'linkpilot serve 4242 1700000000 " +
                             schema_->name() + "'"),
              "1");
    ASSERT_TRUE(s->unlock_sweep().has_value());
    // The connection's own application_name is back.
    EXPECT_EQ(schema_->query("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '" +
                             schema_->name() + "'"),
              "1");
}

TEST_F(PostgresStoreTest, ALongHostNameIsCutButTheHolderIsStillNamed) {
    auto me = holder("prune");
    me.host = std::string(100, 'h');  // PostgreSQL keeps 63 bytes of an application_name
    ASSERT_TRUE(a_->try_lock_sweep(me)->taken);
    auto refused = b_->try_lock_sweep(holder("serve"));
    ASSERT_TRUE(refused.has_value()) << refused.error().message;
    EXPECT_FALSE(refused->taken);
    EXPECT_TRUE(
        refused->holder.starts_with("linkpilot prune (pid 4242 on hhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"))
        << refused->holder;
    EXPECT_TRUE(refused->holder.ends_with("h, since 2023-11-14T22:13:20Z)")) << refused->holder;
}

TEST_F(PostgresStoreTest, AHolderWhoseSessionDiesReleasesTheSweepLock) {
    auto me = holder("prune");
    me.host = schema_->name();
    ASSERT_TRUE(b_->try_lock_sweep(me)->taken);
    ASSERT_FALSE(a_->try_lock_sweep(holder("serve"))->taken);
    // With a timeout, pg_terminate_backend returns once the backend has exited, its locks gone
    // with it (as when its replica crashes): no polling.
    EXPECT_EQ(schema_->query("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                             "WHERE application_name LIKE '% " +
                             schema_->name() + "'"),
              "t");
    auto taken = a_->try_lock_sweep(holder("serve"));
    ASSERT_TRUE(taken.has_value()) << taken.error().message;
    EXPECT_TRUE(taken->taken);
}

TEST_F(PostgresStoreTest, DeploymentsInOtherSchemasNeverShareALock) {
    linkpilot::testing::PgSchema other(*linkpilot::testing::test_postgres_url());
    ASSERT_TRUE(other.ok()) << other.error();
    auto elsewhere = open_postgres(PostgresOptions{.url = other.url()});
    ASSERT_TRUE(elsewhere.has_value()) << elsewhere.error().message;
    EXPECT_TRUE(a_->try_lock_sweep(holder("serve"))->taken);
    // Same database, another deployment.
    EXPECT_TRUE((*elsewhere)->try_lock_sweep(holder("serve"))->taken);
    EXPECT_FALSE(b_->try_lock_sweep(holder("prune"))->taken);  // same schema: still exclusive
}

TEST_F(PostgresStoreTest, ReplicasStartingTogetherMigrateOnce) {
    linkpilot::testing::PgSchema fresh(*linkpilot::testing::test_postgres_url());
    ASSERT_TRUE(fresh.ok()) << fresh.error();
    std::vector<std::thread> starters;
    std::atomic<int> failures{0};
    for (int i = 0; i < 4; ++i) {
        starters.emplace_back([&] {
            auto s = open_postgres(PostgresOptions{.url = fresh.url()});
            if (!s || (*s)->schema_version().value() != postgres_latest_schema_version()) {
                ++failures;
            }
        });
    }
    for (auto& t : starters) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(fresh.query("SELECT COUNT(*) FROM schema_version"), "1");
}

TEST_F(PostgresStoreTest, ReconnectsAfterTheServerDropsTheConnection) {
    auto s = open("&application_name=" + schema_->name());
    ASSERT_NE(s, nullptr);
    ASSERT_GT(accept(*s, "d1", job("web")), 0);
    const auto killed = schema_->query(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
        schema_->name() + "'");
    ASSERT_EQ(killed, "1");
    // The call that finds the connection gone fails as unavailable (the ingress answers 503);
    // the next one reconnects.
    auto first = s->list_jobs({});
    if (!first) {
        EXPECT_TRUE(first.error().unavailable()) << first.error().message;
    }
    auto second = s->list_jobs({});
    ASSERT_TRUE(second.has_value()) << second.error().message;
    EXPECT_EQ(second->size(), 1U);
    EXPECT_GT(accept(*s, "d2", job("web")), 0);
}

TEST_F(PostgresStoreTest, AnUnreachableServerIsAnIoErrorThatHidesThePassword) {
    auto s = open_postgres(PostgresOptions{.url = "postgresql://lp:s3cr3t-pw@127.0.0.1:1/linkpilot",
                                           .connect_timeout = 2s});
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().kind, StoreError::Kind::io);
    EXPECT_TRUE(s.error().unavailable());
    EXPECT_EQ(s.error().message.find("s3cr3t-pw"), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("connecting to PostgreSQL"), std::string::npos)
        << s.error().message;
}

TEST(PostgresUrl, RedactsOnlyThePassword) {
    EXPECT_EQ(redact_postgres_url("postgresql://lp:pw@db:5432/linkpilot?sslmode=require"),
              "postgresql://lp:***@db:5432/linkpilot?sslmode=require");
    EXPECT_EQ(redact_postgres_url("postgresql://lp@db/linkpilot"), "postgresql://lp@db/linkpilot");
    EXPECT_EQ(redact_postgres_url("postgres://db/linkpilot"), "postgres://db/linkpilot");
    // libpq's several-hosts syntax.
    EXPECT_EQ(redact_postgres_url("postgresql://lp:pw@db1:5432,db2:5432/linkpilot"),
              "postgresql://lp:***@db1:5432,db2:5432/linkpilot");
    // Not a URI at all: the whole user info goes.
    EXPECT_EQ(redact_postgres_url("postgresql://lp:p w@[db/x"), "postgresql://***@[db/x");
}

}  // namespace
}  // namespace linkpilot::store
