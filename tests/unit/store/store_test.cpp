// The Store contract, run against every backend (issue 11: one parameterised suite): SQLite
// always, PostgreSQL when LINKPILOT_TEST_PG_URL names a server (each test in its own schema).
// Backend-specific behaviour lives in sqlite_store_test.cpp and postgres_store_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "daemon/store/postgres_store.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/temp_dir.hpp"

namespace linkpilot::store {
namespace {

using namespace std::chrono_literals;

enum class Backend { sqlite, postgres };

// Short enough for the tests that move the clock past it; the contract is the same.
constexpr auto kLease = 30s;

class StoreTest : public ::testing::TestWithParam<Backend> {
  protected:
    void SetUp() override {
        if (GetParam() == Backend::postgres) {
            const auto url = linkpilot::testing::test_postgres_url();
            if (!url) {
                GTEST_SKIP() << linkpilot::testing::kNoPostgres;
            }
            schema_ = std::make_unique<linkpilot::testing::PgSchema>(*url);
            ASSERT_TRUE(schema_->ok()) << schema_->error();
        }
        store_ = open();
        ASSERT_NE(store_, nullptr);
    }

    // A new connection to the same state: another process (the CLI) or, after a reset of
    // store_, the daemon restarted.
    std::unique_ptr<Store> open() {
        auto s = GetParam() == Backend::sqlite
                     ? open_sqlite(SqliteOptions{dir_.path() / "sub" / "state.db"})
                     : open_postgres(PostgresOptions{.url = schema_->url(), .lease = kLease});
        EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
        if (!s) {
            return nullptr;
        }
        return std::move(*s);
    }

    [[nodiscard]] int latest_version() const {
        return GetParam() == Backend::sqlite ? sqlite_latest_schema_version()
                                             : postgres_latest_schema_version();
    }

    NewDelivery delivery(const std::string& id, const std::string& provider = "github") {
        NewDelivery d;
        d.id = id;
        d.provider = provider;
        d.event = "push";
        d.repo = "acme/web";
        d.received_at = clock_.now();
        d.status = "queued";
        d.payload = R"({"ref":"refs/heads/main"})";
        d.event_json = R"({"kind":"push"})";
        d.verdicts_json = "[]";
        d.config_fingerprint = "cfg1";
        return d;
    }

    static NewJob job(const std::string& app, const std::string& action = "deploy") {
        NewJob j;
        j.rule = "deploy-main";
        j.action = action;
        j.app = app;
        j.args_json = R"({"branch":"main"})";
        return j;
    }

    std::int64_t accept_one(const std::string& id, const NewJob& j) {
        auto r = store_->accept(delivery(id), {j});
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        if (!r || r->job_ids.size() != 1) {
            return -1;
        }
        return r->job_ids.front();
    }

    Job get(std::int64_t id) {
        auto j = store_->get_job(id);
        EXPECT_TRUE(j.has_value());
        EXPECT_TRUE(j.has_value() && j->has_value());
        return j && *j ? **j : Job{};
    }

    std::vector<std::int64_t> claim(std::size_t limit = 10) {
        auto r = store_->claim_runnable(clock_.now(), limit);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        std::vector<std::int64_t> ids;
        if (r) {
            for (const auto& j : *r) {
                ids.push_back(j.id);
            }
        }
        return ids;
    }

    TempDir dir_;
    std::unique_ptr<linkpilot::testing::PgSchema> schema_;
    linkpilot::testing::FakeClock clock_;
    std::unique_ptr<Store> store_;
};

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
    return info.param == Backend::sqlite ? "SQLite" : "PostgreSQL";
}

TEST_P(StoreTest, AcceptsDeliveryAndListsItsJobs) {
    auto r = store_->accept(delivery("d1"), {job("web"), job("api", "review_app")});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_FALSE(r->duplicate);
    ASSERT_EQ(r->job_ids.size(), 2U);
    EXPECT_LT(r->job_ids[0], r->job_ids[1]);

    auto jobs = store_->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    ASSERT_EQ(jobs->size(), 2U);
    const Job& j = jobs->front();
    EXPECT_EQ(j.id, r->job_ids[0]);
    EXPECT_EQ(j.delivery_id, "d1");
    EXPECT_EQ(j.provider, "github");
    EXPECT_EQ(j.rule, "deploy-main");
    EXPECT_EQ(j.action, "deploy");
    EXPECT_EQ(j.app, "web");
    EXPECT_EQ(j.args_json, R"({"branch":"main"})");
    EXPECT_EQ(j.state, "pending");
    EXPECT_EQ(j.attempts, 0);
    EXPECT_EQ(j.next_attempt_at, clock_.now());
    EXPECT_EQ(j.created_at, clock_.now());
    EXPECT_FALSE(j.last_error.has_value());

    auto only_api = store_->list_jobs(JobFilter{std::nullopt, std::string{"api"}});
    ASSERT_TRUE(only_api.has_value());
    ASSERT_EQ(only_api->size(), 1U);
    EXPECT_EQ(only_api->front().action, "review_app");
}

TEST_P(StoreTest, StoresDeliveryForExplain) {
    ASSERT_TRUE(store_->accept(delivery("d1"), {}).has_value());
    auto d = store_->get_delivery("d1");
    ASSERT_TRUE(d.has_value());
    ASSERT_TRUE(d->has_value());
    EXPECT_EQ((*d)->event, "push");
    EXPECT_EQ((*d)->repo, "acme/web");
    EXPECT_EQ((*d)->status, "queued");
    EXPECT_EQ((*d)->payload, std::optional<std::string>{R"({"ref":"refs/heads/main"})"});
    EXPECT_EQ((*d)->payload_sha256.size(), 64U);
    EXPECT_EQ((*d)->event_json, R"({"kind":"push"})");
    EXPECT_EQ((*d)->verdicts_json, "[]");
    EXPECT_EQ((*d)->config_fingerprint, "cfg1");

    auto missing = store_->get_delivery("nope");
    ASSERT_TRUE(missing.has_value());
    EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreTest, PayloadHashIsSha256OfRawBody) {
    auto d = delivery("d1");
    d.payload = "abc";
    ASSERT_TRUE(store_->accept(d, {}).has_value());
    auto got = store_->get_delivery("d1");
    ASSERT_TRUE(got.has_value() && got->has_value());
    EXPECT_EQ((*got)->payload_sha256,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_P(StoreTest, ReportsDuplicateDeliveryAndAddsNothing) {
    ASSERT_TRUE(store_->accept(delivery("d1"), {job("web")}).has_value());
    auto again = store_->accept(delivery("d1"), {job("web"), job("api")});
    ASSERT_TRUE(again.has_value());
    EXPECT_TRUE(again->duplicate);
    EXPECT_TRUE(again->job_ids.empty());
    auto jobs = store_->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_EQ(jobs->size(), 1U);
}

TEST_P(StoreTest, SameDeliveryIdFromOtherProviderIsNotDuplicate) {
    ASSERT_TRUE(store_->accept(delivery("d1", "github"), {job("web")}).has_value());
    auto other = store_->accept(delivery("d1", "gitlab"), {job("web")});
    ASSERT_TRUE(other.has_value());
    EXPECT_FALSE(other->duplicate);
}

TEST_P(StoreTest, BatchReportsDuplicatesPerItem) {
    ASSERT_TRUE(store_->accept(delivery("old"), {job("web")}).has_value());
    std::vector<Store::AcceptItem> batch;
    batch.emplace_back(delivery("a"), std::vector<NewJob>{job("web")});
    batch.emplace_back(delivery("old"), std::vector<NewJob>{job("web")});
    batch.emplace_back(delivery("a"), std::vector<NewJob>{job("web")});
    batch.emplace_back(delivery("b"), std::vector<NewJob>{job("api"), job("web")});
    auto results = store_->accept_batch(batch);
    ASSERT_EQ(results.size(), 4U);
    for (const auto& r : results) {
        ASSERT_TRUE(r.has_value()) << r.error().message;
    }
    EXPECT_FALSE(results[0]->duplicate);
    EXPECT_EQ(results[0]->job_ids.size(), 1U);
    EXPECT_TRUE(results[1]->duplicate);
    EXPECT_TRUE(results[2]->duplicate);
    EXPECT_FALSE(results[3]->duplicate);
    EXPECT_EQ(results[3]->job_ids.size(), 2U);
    auto jobs = store_->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_EQ(jobs->size(), 4U);
}

TEST_P(StoreTest, BatchItemWithInvalidJobFailsAloneAndLeavesNoTrace) {
    std::vector<Store::AcceptItem> batch;
    batch.emplace_back(delivery("a"), std::vector<NewJob>{job("web")});
    batch.emplace_back(delivery("bad"), std::vector<NewJob>{job("web", "explode")});
    auto bad_json = job("web");
    bad_json.args_json = "{not json";
    batch.emplace_back(delivery("bad2"), std::vector<NewJob>{job("api"), bad_json});
    batch.emplace_back(delivery("c"), std::vector<NewJob>{job("web")});
    auto results = store_->accept_batch(batch);
    ASSERT_EQ(results.size(), 4U);
    EXPECT_TRUE(results[0].has_value());
    ASSERT_FALSE(results[1].has_value());
    EXPECT_EQ(results[1].error().kind, StoreError::Kind::invalid);
    ASSERT_FALSE(results[2].has_value());
    EXPECT_EQ(results[2].error().kind, StoreError::Kind::invalid);
    EXPECT_TRUE(results[3].has_value());

    auto jobs = store_->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_EQ(jobs->size(), 2U);
    auto bad2 = store_->get_delivery("bad2");
    ASSERT_TRUE(bad2.has_value());
    EXPECT_FALSE(bad2->has_value());  // rolled back to its savepoint, delivery included
}

TEST_P(StoreTest, DebounceSupersedesWaitingJobWithSameKey) {
    auto first = job("web");
    first.debounce_key = "deploy/web/main";
    first.debounce = 30s;
    const auto id1 = accept_one("d1", first);
    EXPECT_EQ(get(id1).next_attempt_at, clock_.now() + 30s);

    clock_.advance(10s);
    const auto id2 = accept_one("d2", first);
    const Job old = get(id1);
    EXPECT_EQ(old.state, "done");
    EXPECT_EQ(old.note, std::optional<std::string>{"superseded by job " + std::to_string(id2)});
    const Job fresh = get(id2);
    EXPECT_EQ(fresh.state, "pending");
    EXPECT_EQ(fresh.next_attempt_at, clock_.now() + 30s);

    // Another key is untouched.
    auto other = first;
    other.debounce_key = "deploy/web/dev";
    const auto id3 = accept_one("d3", other);
    EXPECT_EQ(get(id2).state, "pending");
    EXPECT_EQ(get(id3).state, "pending");
}

TEST_P(StoreTest, DebounceLeavesStartedJobAlone) {
    auto j = job("web");
    j.debounce_key = "k";
    j.debounce = 5s;
    const auto id1 = accept_one("d1", j);
    clock_.advance(5s);
    ASSERT_EQ(claim(), std::vector<std::int64_t>{id1});
    const auto id2 = accept_one("d2", j);
    EXPECT_EQ(get(id1).state, "running");
    EXPECT_EQ(get(id2).state, "pending");
}

TEST_P(StoreTest, WithoutDebounceEveryJobIsKept) {
    const auto id1 = accept_one("d1", job("web"));
    const auto id2 = accept_one("d2", job("web"));
    EXPECT_EQ(get(id1).state, "pending");
    EXPECT_EQ(get(id2).state, "pending");
}

TEST_P(StoreTest, ClaimsOneJobPerAppInAcceptanceOrder) {
    const auto web1 = accept_one("d1", job("web"));
    const auto api1 = accept_one("d2", job("api"));
    const auto web2 = accept_one("d3", job("web"));

    EXPECT_EQ(claim(), (std::vector<std::int64_t>{web1, api1}));
    EXPECT_EQ(get(web1).state, "running");
    EXPECT_TRUE(claim().empty());  // web2 waits behind running web1

    ASSERT_TRUE(store_->complete(web1, "", clock_.now()).has_value());
    EXPECT_EQ(claim(), std::vector<std::int64_t>{web2});
}

TEST_P(StoreTest, ClaimHonoursLimit) {
    const auto a = accept_one("d1", job("a"));
    accept_one("d2", job("b"));
    EXPECT_EQ(claim(1), std::vector<std::int64_t>{a});
}

TEST_P(StoreTest, LaterJobWaitsBehindEarlierOneThatIsBackingOff) {
    const auto web1 = accept_one("d1", job("web"));
    const auto web2 = accept_one("d2", job("web"));
    ASSERT_EQ(claim(), std::vector<std::int64_t>{web1});
    ASSERT_TRUE(store_->reschedule(web1, "HTTP 503", clock_.now() + 60s, clock_.now()).has_value());

    EXPECT_TRUE(claim().empty());  // web1 not due yet; web2 must not overtake it
    auto wake = store_->next_wakeup();
    ASSERT_TRUE(wake.has_value());
    EXPECT_EQ(*wake, std::optional<TimePoint>{clock_.now() + 60s});

    clock_.advance(60s);
    EXPECT_EQ(claim(), std::vector<std::int64_t>{web1});
    ASSERT_TRUE(store_->complete(web1, "", clock_.now()).has_value());
    EXPECT_EQ(claim(), std::vector<std::int64_t>{web2});
}

TEST_P(StoreTest, NotBeforeDelaysJob) {
    auto j = job("web");
    j.not_before = clock_.now() + 1h;
    const auto id = accept_one("d1", j);
    EXPECT_TRUE(claim().empty());
    clock_.advance(1h);
    EXPECT_EQ(claim(), std::vector<std::int64_t>{id});
}

TEST_P(StoreTest, NextWakeupIgnoresAppsWithRunningJob) {
    auto none = store_->next_wakeup();
    ASSERT_TRUE(none.has_value());
    EXPECT_FALSE(none->has_value());

    const auto web1 = accept_one("d1", job("web"));
    accept_one("d2", job("web"));
    ASSERT_EQ(claim(), std::vector<std::int64_t>{web1});
    auto wake = store_->next_wakeup();
    ASSERT_TRUE(wake.has_value());
    EXPECT_FALSE(wake->has_value());  // web2 is blocked, not due: no busy wake-ups
}

TEST_P(StoreTest, CompleteFailRescheduleUpdateJob) {
    const auto a = accept_one("d1", job("a"));
    const auto b = accept_one("d2", job("b"));
    const auto c = accept_one("d3", job("c"));
    ASSERT_EQ(claim().size(), 3U);
    clock_.advance(1s);

    ASSERT_TRUE(store_->complete(a, "deployed", clock_.now()).has_value());
    ASSERT_TRUE(store_->fail(b, "HTTP 404 app not found", clock_.now()).has_value());
    ASSERT_TRUE(store_->reschedule(c, "HTTP 500", clock_.now() + 5s, clock_.now()).has_value());

    const Job ja = get(a);
    EXPECT_EQ(ja.state, "done");
    EXPECT_EQ(ja.attempts, 1);
    EXPECT_EQ(ja.note, std::optional<std::string>{"deployed"});
    EXPECT_EQ(ja.updated_at, clock_.now());
    const Job jb = get(b);
    EXPECT_EQ(jb.state, "failed");
    EXPECT_EQ(jb.attempts, 1);
    EXPECT_EQ(jb.last_error, std::optional<std::string>{"HTTP 404 app not found"});
    const Job jc = get(c);
    EXPECT_EQ(jc.state, "pending");
    EXPECT_EQ(jc.attempts, 1);
    EXPECT_EQ(jc.next_attempt_at, clock_.now() + 5s);
    EXPECT_EQ(jc.last_error, std::optional<std::string>{"HTTP 500"});
}

TEST_P(StoreTest, TransitionOfJobNotRunningIsInvalidState) {
    const auto a = accept_one("d1", job("a"));
    auto r = store_->complete(a, "", clock_.now());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, StoreError::Kind::invalid_state);
    auto missing = store_->fail(9999, "x", clock_.now());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().kind, StoreError::Kind::not_found);
}

TEST_P(StoreTest, DeferAndSkipDoNotCountAttempts) {
    const auto a = accept_one("d1", job("a"));
    const auto b = accept_one("d2", job("b"));
    ASSERT_EQ(claim().size(), 2U);
    ASSERT_TRUE(
        store_->defer(a, clock_.now() + 2h, "deferred: freeze window", clock_.now()).has_value());
    ASSERT_TRUE(store_->skip(b, "skipped: freeze window", clock_.now()).has_value());
    const Job ja = get(a);
    EXPECT_EQ(ja.state, "pending");
    EXPECT_EQ(ja.attempts, 0);
    EXPECT_EQ(ja.next_attempt_at, clock_.now() + 2h);
    const Job jb = get(b);
    EXPECT_EQ(jb.state, "done");
    EXPECT_EQ(jb.attempts, 0);
    EXPECT_EQ(jb.note, std::optional<std::string>{"skipped: freeze window"});
}

// A claimed job is returned as stored: claiming clears freeze_deferred (issue 23: the SQLite
// store returned the flag as it was before the claim, PostgreSQL as stored).
TEST_P(StoreTest, ClaimedDeferredJobComesBackAsStored) {
    const auto a = accept_one("d1", job("a"));
    const auto b = accept_one("d2", job("b"));
    ASSERT_EQ(claim(), (std::vector<std::int64_t>{a, b}));
    ASSERT_TRUE(store_->defer(a, clock_.now() + 2h, "deferred: freeze window", clock_.now()));
    ASSERT_TRUE(store_->defer(b, clock_.now() + 2h, "deferred: freeze window", clock_.now()));
    ASSERT_TRUE(get(a).freeze_deferred);
    clock_.advance(2h);

    auto claimed = store_->claim_runnable(clock_.now(), 1);
    ASSERT_TRUE(claimed.has_value()) << claimed.error().message;
    ASSERT_EQ(claimed->size(), 1U);
    EXPECT_EQ(claimed->front().id, a);
    EXPECT_EQ(claimed->front().state, "running");
    EXPECT_FALSE(claimed->front().freeze_deferred);
    EXPECT_FALSE(get(a).freeze_deferred);

    // The same through settle's claim of a named app's queue head.
    auto settled = store_->settle({}, {"b"}, clock_.now(), 1, ClaimScope::named_apps);
    ASSERT_TRUE(settled.has_value()) << settled.error().message;
    ASSERT_EQ(settled->claimed.size(), 1U);
    EXPECT_EQ(settled->claimed.front().id, b);
    EXPECT_FALSE(settled->claimed.front().freeze_deferred);
    EXPECT_FALSE(get(b).freeze_deferred);
}

TEST_P(StoreTest, RetryPutsFailedJobBackInQueue) {
    const auto a = accept_one("d1", job("a"));
    ASSERT_EQ(claim(), std::vector<std::int64_t>{a});
    ASSERT_TRUE(store_->fail(a, "boom", clock_.now()).has_value());
    clock_.advance(1h);
    ASSERT_TRUE(store_->retry(a, clock_.now()).has_value());
    const Job j = get(a);
    EXPECT_EQ(j.state, "pending");
    EXPECT_EQ(j.attempts, 0);
    EXPECT_EQ(j.next_attempt_at, clock_.now());
    EXPECT_EQ(j.last_error, std::optional<std::string>{"boom"});
    EXPECT_EQ(claim(), std::vector<std::int64_t>{a});
}

TEST_P(StoreTest, RetryOfJobNotFailedIsError) {
    const auto a = accept_one("d1", job("a"));
    auto r = store_->retry(a, clock_.now());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, StoreError::Kind::invalid_state);
    auto missing = store_->retry(12345, clock_.now());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().kind, StoreError::Kind::not_found);
}

TEST_P(StoreTest, RecoverRunningRequeuesJobsLeftByCrash) {
    const auto a = accept_one("d1", job("a"));
    const auto b = accept_one("d2", job("b"));
    ASSERT_EQ(claim().size(), 2U);
    ASSERT_TRUE(store_->complete(b, "", clock_.now()).has_value());
    store_.reset();  // "crash"

    // The restarted process recovers them once their lease ran out (SQLite: at once).
    clock_.advance(kLease);
    store_ = open();
    ASSERT_NE(store_, nullptr);
    auto n = store_->recover_running(clock_.now());
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(get(a).state, "pending");
    EXPECT_EQ(get(b).state, "done");
    EXPECT_EQ(claim(), std::vector<std::int64_t>{a});
}

TEST_P(StoreTest, PrunePayloadsDropsOnlyOldBodies) {
    ASSERT_TRUE(store_->accept(delivery("old"), {}).has_value());
    clock_.advance(48h);
    ASSERT_TRUE(store_->accept(delivery("new"), {}).has_value());

    auto n = store_->prune_payloads(clock_.now() - 24h);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 1);
    auto old = store_->get_delivery("old");
    ASSERT_TRUE(old.has_value() && old->has_value());
    EXPECT_FALSE((*old)->payload.has_value());
    EXPECT_EQ((*old)->payload_sha256.size(), 64U);  // the hash stays
    auto fresh = store_->get_delivery("new");
    ASSERT_TRUE(fresh.has_value() && fresh->has_value());
    EXPECT_TRUE((*fresh)->payload.has_value());

    auto again = store_->prune_payloads(clock_.now() - 24h);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, 0);
}

TEST_P(StoreTest, StatsCountJobsByStateAndAction) {
    accept_one("d1", job("a"));
    clock_.advance(1s);
    accept_one("d2", job("b", "review_app"));
    const auto c = accept_one("d3", job("c"));
    ASSERT_EQ(claim().size(), 3U);
    ASSERT_TRUE(store_->reschedule(c, "x", clock_.now(), clock_.now()).has_value());

    auto s = store_->stats();
    ASSERT_TRUE(s.has_value());
    std::map<std::pair<std::string, std::string>, std::int64_t> counts;
    for (const auto& jc : s->jobs) {
        counts[{jc.state, jc.action}] = jc.count;
    }
    EXPECT_EQ((counts[{"running", "deploy"}]), 1);
    EXPECT_EQ((counts[{"running", "review_app"}]), 1);
    EXPECT_EQ((counts[{"pending", "deploy"}]), 1);
    EXPECT_EQ(s->oldest_pending_created_at, std::optional<TimePoint>{clock_.now()});
}

TEST_P(StoreTest, MigrateIsIdempotentAndReportsVersion) {
    auto v = store_->schema_version();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, latest_version());
    EXPECT_GE(*v, 1);

    auto m = store_->migrate();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->from, *v);
    EXPECT_EQ(m->to, *v);

    store_.reset();
    store_ = open();
    ASSERT_NE(store_, nullptr);
    auto v2 = store_->schema_version();
    ASSERT_TRUE(v2.has_value());
    EXPECT_EQ(*v2, *v);
}

TEST_P(StoreTest, SecondInstanceSeesFirstInstanceCommits) {
    auto cli = open();
    ASSERT_NE(cli, nullptr);
    const auto id = accept_one("d1", job("web"));
    auto jobs = cli->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    ASSERT_EQ(jobs->size(), 1U);
    EXPECT_EQ(jobs->front().id, id);

    // And the other way round: `linkpilot retry` from the CLI is seen by the daemon.
    ASSERT_EQ(claim(), std::vector<std::int64_t>{id});
    ASSERT_TRUE(store_->fail(id, "boom", clock_.now()).has_value());
    ASSERT_TRUE(cli->retry(id, clock_.now()).has_value());
    EXPECT_EQ(get(id).state, "pending");
}

// The review app sweep lock (SPEC 6), for processes sharing one state: `serve` and
// `linkpilot prune` on one SQLite file, replicas on PostgreSQL.
TEST_P(StoreTest, OneStoreAtATimeHoldsTheSweepLockAndTheOthersNameItsHolder) {
    auto other = open();
    ASSERT_NE(other, nullptr);
    const SweepHolder serve{
        .pid = 4242, .host = "web-1", .command = "serve", .since = clock_.now()};
    const SweepHolder prune{
        .pid = 4343, .host = "web-2", .command = "prune", .since = clock_.now() + 1h};
    ASSERT_TRUE(other->unlock_sweep().has_value());  // not held: nothing to do

    auto first = store_->try_lock_sweep(serve);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    EXPECT_TRUE(first->taken);
    EXPECT_TRUE(store_->try_lock_sweep(serve)->taken);  // held already: still this store's

    auto refused = other->try_lock_sweep(prune);
    ASSERT_TRUE(refused.has_value()) << refused.error().message;
    EXPECT_FALSE(refused->taken);
    EXPECT_EQ(refused->holder, "linkpilot serve (pid 4242 on web-1, since 2023-11-14T22:13:20Z)");

    ASSERT_TRUE(store_->unlock_sweep().has_value());
    auto second = other->try_lock_sweep(prune);
    ASSERT_TRUE(second.has_value()) << second.error().message;
    EXPECT_TRUE(second->taken);
    auto back = store_->try_lock_sweep(serve);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_FALSE(back->taken);
    EXPECT_EQ(back->holder, "linkpilot prune (pid 4343 on web-2, since 2023-11-14T23:13:20Z)");
}

TEST_P(StoreTest, AHolderThatClosesItsStoreReleasesTheSweepLock) {
    auto other = open();
    ASSERT_NE(other, nullptr);
    const SweepHolder holder{.pid = 1, .host = "h", .command = "prune", .since = clock_.now()};
    ASSERT_TRUE(other->try_lock_sweep(holder)->taken);
    ASSERT_FALSE(store_->try_lock_sweep(holder)->taken);
    other.reset();
    auto taken = store_->try_lock_sweep(holder);
    ASSERT_TRUE(taken.has_value()) << taken.error().message;
    EXPECT_TRUE(taken->taken);
}

// Operator controls (`linkpilot jobs cancel` / `run-now`), freeze deferrals a reload re-checks,
// and each job's history of attempts.

TEST_P(StoreTest, CancelEndsAHeldJobAndItsAppsNextJobRuns) {
    const auto a1 = accept_one("d1", job("web"));
    const auto a2 = accept_one("d2", job("web"));
    ASSERT_EQ(claim(), std::vector<std::int64_t>{a1});
    ASSERT_TRUE(store_->defer(a1, clock_.now() + 2h, "deferred: freeze window", clock_.now()));
    EXPECT_TRUE(claim().empty());  // a1 holds the app's queue until the window's end

    clock_.advance(1s);
    ASSERT_TRUE(store_->cancel(a1, "cancelled by ops@host", clock_.now()).has_value());
    const Job j = get(a1);
    EXPECT_EQ(j.state, "cancelled");
    EXPECT_EQ(j.note, "cancelled by ops@host");
    EXPECT_FALSE(j.freeze_deferred);
    EXPECT_EQ(j.updated_at, clock_.now());
    EXPECT_EQ(claim(), std::vector<std::int64_t>{a2});

    auto cancelled = store_->list_jobs(JobFilter{std::string{"cancelled"}, std::nullopt});
    ASSERT_TRUE(cancelled.has_value());
    ASSERT_EQ(cancelled->size(), 1U);
    EXPECT_EQ(cancelled->front().id, a1);
    auto s = store_->stats();
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(std::any_of(s->jobs.begin(), s->jobs.end(), [](const JobCount& c) {
        return c.state == "cancelled" && c.action == "deploy" && c.count == 1;
    }));
}

TEST_P(StoreTest, OnlyAPendingJobCanBeCancelled) {
    const auto a = accept_one("d1", job("a"));
    const auto b = accept_one("d2", job("b"));
    ASSERT_EQ(claim(1), std::vector<std::int64_t>{a});
    auto running = store_->cancel(a, "x", clock_.now());
    ASSERT_FALSE(running.has_value());
    EXPECT_EQ(running.error().kind, StoreError::Kind::invalid_state);
    EXPECT_EQ(running.error().message, "job " + std::to_string(a) + " is running, not pending");
    ASSERT_TRUE(store_->cancel(b, "x", clock_.now()).has_value());
    auto twice = store_->cancel(b, "x", clock_.now());
    ASSERT_FALSE(twice.has_value());
    EXPECT_EQ(twice.error().kind, StoreError::Kind::invalid_state);
    auto missing = store_->cancel(9999, "x", clock_.now());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().kind, StoreError::Kind::not_found);
    EXPECT_EQ(get(a).state, "running");
}

// The executor may start an app's next due job the moment the running one ends, without a
// claim (SettleResult::next): cancelling that one could not stop it.
TEST_P(StoreTest, CancelRefusesTheJobThatMayFollowTheRunningOneUnclaimed) {
    const auto a1 = accept_one("d1", job("web"));
    const auto a2 = accept_one("d2", job("web"));
    const auto a3 = accept_one("d3", job("web"));
    ASSERT_EQ(claim(), std::vector<std::int64_t>{a1});
    auto r = store_->cancel(a2, "x", clock_.now());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, StoreError::Kind::invalid_state);
    EXPECT_EQ(r.error().message,
              "job " + std::to_string(a2) + " is next in web's queue behind running job " +
                  std::to_string(a1) + " and may be starting already, so it cannot be cancelled");
    EXPECT_EQ(get(a2).state, "pending");
    // A job further back, or the head once it waits (not due), can be.
    ASSERT_TRUE(store_->cancel(a3, "x", clock_.now()).has_value());
    ASSERT_TRUE(store_->complete(a1, "", clock_.now()).has_value());
    ASSERT_EQ(claim(), std::vector<std::int64_t>{a2});
    ASSERT_TRUE(store_->reschedule(a2, "HTTP 500", clock_.now() + 1min, clock_.now()));
    EXPECT_TRUE(store_->cancel(a2, "x", clock_.now()).has_value());
}

TEST_P(StoreTest, RunNowMakesAWaitingJobDueAndRecordsTheOverride) {
    const auto a = accept_one("d1", job("a"));
    ASSERT_EQ(claim(), std::vector<std::int64_t>{a});
    ASSERT_TRUE(store_->defer(a, clock_.now() + 2h, "deferred: freeze window", clock_.now()));
    EXPECT_TRUE(get(a).freeze_deferred);
    EXPECT_FALSE(get(a).ignore_freeze);

    clock_.advance(1min);
    ASSERT_TRUE(store_->run_now(a, true, "run now by ops@host", clock_.now()).has_value());
    Job j = get(a);
    EXPECT_EQ(j.state, "pending");
    EXPECT_EQ(j.next_attempt_at, clock_.now());
    EXPECT_EQ(j.note, "run now by ops@host");
    EXPECT_FALSE(j.freeze_deferred);
    EXPECT_TRUE(j.ignore_freeze);
    EXPECT_EQ(j.attempts, 0);
    // Without the flag again: the override stays.
    ASSERT_TRUE(store_->run_now(a, false, "run now", clock_.now()).has_value());
    EXPECT_TRUE(get(a).ignore_freeze);

    auto claimed = store_->claim_runnable(clock_.now(), 10);
    ASSERT_TRUE(claimed.has_value());
    ASSERT_EQ(claimed->size(), 1U);
    EXPECT_TRUE(claimed->front().ignore_freeze);  // what the executor honours
    auto running = store_->run_now(a, false, "x", clock_.now());
    ASSERT_FALSE(running.has_value());
    EXPECT_EQ(running.error().kind, StoreError::Kind::invalid_state);
    auto missing = store_->run_now(9999, false, "x", clock_.now());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().kind, StoreError::Kind::not_found);
}

TEST_P(StoreTest, ADeferralIsFreezeDeferredUntilTheJobIsClaimedAgain) {
    const auto a = accept_one("d1", job("a"));
    const auto b = accept_one("d2", job("b"));
    ASSERT_EQ(claim().size(), 2U);
    ASSERT_TRUE(store_->defer(a, clock_.now() + 1h, "deferred: freeze window", clock_.now()));
    ASSERT_TRUE(store_->reschedule(b, "HTTP 500", clock_.now() + 1h, clock_.now()));
    EXPECT_TRUE(get(a).freeze_deferred);
    EXPECT_FALSE(get(b).freeze_deferred);  // a backoff is not a freeze

    JobFilter deferred;
    deferred.state = "pending";
    deferred.freeze_deferred_only = true;
    auto listed = store_->list_jobs(deferred);
    ASSERT_TRUE(listed.has_value());
    ASSERT_EQ(listed->size(), 1U);
    EXPECT_EQ(listed->front().id, a);

    clock_.advance(1h);
    ASSERT_EQ(claim().size(), 2U);
    EXPECT_FALSE(get(a).freeze_deferred);
    listed = store_->list_jobs(deferred);
    ASSERT_TRUE(listed.has_value());
    EXPECT_TRUE(listed->empty());
}

TEST_P(StoreTest, RedeferMovesOrReleasesOnlyFreezeDeferredJobs) {
    const auto a = accept_one("d1", job("a"));
    const auto b = accept_one("d2", job("b"));
    ASSERT_EQ(claim().size(), 2U);
    ASSERT_TRUE(store_->defer(a, clock_.now() + 2h, "deferred: old window", clock_.now()));
    ASSERT_TRUE(store_->reschedule(b, "HTTP 500", clock_.now() + 1h, clock_.now()));

    // Another window holds it: due at that window's end, still freeze-deferred.
    ASSERT_TRUE(store_->redefer(a, clock_.now() + 1h, "deferred: new window", clock_.now()));
    Job j = get(a);
    EXPECT_EQ(j.next_attempt_at, clock_.now() + 1h);
    EXPECT_EQ(j.note, "deferred: new window");
    EXPECT_TRUE(j.freeze_deferred);
    // No window holds it: due now, no longer freeze-deferred.
    ASSERT_TRUE(store_->redefer(a, clock_.now(), "released", clock_.now()));
    j = get(a);
    EXPECT_EQ(j.state, "pending");
    EXPECT_EQ(j.next_attempt_at, clock_.now());
    EXPECT_EQ(j.note, "released");
    EXPECT_FALSE(j.freeze_deferred);
    EXPECT_EQ(claim(), std::vector<std::int64_t>{a});

    for (const auto id : {a, b}) {  // running; backing off
        auto r = store_->redefer(id, clock_.now(), "released", clock_.now());
        ASSERT_FALSE(r.has_value()) << id;
        EXPECT_EQ(r.error().kind, StoreError::Kind::invalid_state) << id;
    }
    EXPECT_EQ(get(b).next_attempt_at, clock_.now() + 1h);
}

TEST_P(StoreTest, ARetriedJobThatSucceedsShowsNoErrorAndItsHistoryKeepsEveryAttempt) {
    const auto a = accept_one("d1", job("a"));
    const auto t0 = clock_.now();
    ASSERT_EQ(claim(), std::vector<std::int64_t>{a});
    ASSERT_TRUE(store_->reschedule(a, "HTTP 500", clock_.now(), clock_.now()));
    clock_.advance(1s);
    ASSERT_EQ(claim(), std::vector<std::int64_t>{a});
    ASSERT_TRUE(store_->fail(a, "HTTP 404 app not found", clock_.now()));
    clock_.advance(1h);
    ASSERT_TRUE(store_->retry(a, clock_.now()));
    EXPECT_EQ(get(a).last_error, "HTTP 404 app not found");  // until it succeeds
    ASSERT_EQ(claim(), std::vector<std::int64_t>{a});
    ASSERT_TRUE(store_->complete(a, "deployment 7 queued", clock_.now()));

    const Job j = get(a);
    EXPECT_EQ(j.state, "done");
    EXPECT_EQ(j.attempts, 1);  // since the retry
    EXPECT_FALSE(j.last_error.has_value());
    auto history = store_->list_attempts({});
    ASSERT_TRUE(history.has_value());
    ASSERT_EQ(history->size(), 3U);
    const std::vector<std::string> outcomes{"rescheduled", "failed", "done"};
    const std::vector<std::string> details{"HTTP 500", "HTTP 404 app not found",
                                           "deployment 7 queued"};
    const std::vector<TimePoint> at{t0, t0 + 1s, t0 + 1s + 1h};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& h = (*history)[i];
        EXPECT_EQ(h.job_id, a);
        EXPECT_EQ(h.number, static_cast<std::int32_t>(i + 1));
        EXPECT_EQ(h.outcome, outcomes[i]);
        EXPECT_EQ(h.detail, details[i]);
        EXPECT_EQ(h.at, at[i]);
    }
}

TEST_P(StoreTest, AttemptsAreListedForTheJobsTheFilterMatches) {
    const auto a = accept_one("d1", job("a"));
    const auto b = accept_one("d2", job("b"));
    accept_one("d3", job("c"));
    ASSERT_EQ(claim().size(), 3U);
    ASSERT_TRUE(store_->complete(a, "", clock_.now()));
    ASSERT_TRUE(store_->fail(b, "boom", clock_.now()));
    auto failed = store_->list_attempts(JobFilter{std::string{"failed"}, std::nullopt});
    ASSERT_TRUE(failed.has_value());
    ASSERT_EQ(failed->size(), 1U);
    EXPECT_EQ(failed->front().job_id, b);
    EXPECT_EQ(failed->front().detail, "boom");
    auto of_a = store_->list_attempts(JobFilter{std::nullopt, std::string{"a"}});
    ASSERT_TRUE(of_a.has_value());
    ASSERT_EQ(of_a->size(), 1U);
    EXPECT_EQ(of_a->front().outcome, "done");
    EXPECT_FALSE(of_a->front().detail.has_value());  // an empty note
    auto all = store_->list_attempts({});
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(all->size(), 2U);  // c is still running
}

// settle(): the executor's group commit.
class StoreSettleTest : public StoreTest {
  protected:
    static Transition done(std::int64_t id, const std::string& app) {
        return Transition{id, app, Transition::Kind::complete, "deployed", {}};
    }
    static std::vector<std::int64_t> ids(const std::vector<Job>& jobs) {
        std::vector<std::int64_t> out;
        for (const auto& j : jobs) {
            out.push_back(j.id);
        }
        return out;
    }
};

TEST_P(StoreSettleTest, WritesOutcomesAndClaimsTheFreedAppsNextJobInOneCall) {
    const auto a1 = accept_one("d1", job("app-a"));
    const auto b1 = accept_one("d2", job("app-b"));
    const auto a2 = accept_one("d3", job("app-a"));
    const auto c1 = accept_one("d4", job("app-c"));
    ASSERT_EQ(claim(2), (std::vector<std::int64_t>{a1, b1}));

    auto r = store_->settle({done(a1, "app-a")}, {}, clock_.now(), 10, ClaimScope::named_apps);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->transitions.size(), 1U);
    EXPECT_TRUE(r->transitions[0].has_value());
    // Only app-a's next job: app-c waits for a scan although it is runnable.
    EXPECT_EQ(ids(r->claimed), (std::vector<std::int64_t>{a2}));
    EXPECT_EQ(get(a1).state, "done");
    EXPECT_EQ(get(a1).note, "deployed");
    EXPECT_EQ(get(a1).attempts, 1);
    EXPECT_EQ(get(a2).state, "running");
    EXPECT_EQ(get(c1).state, "pending");
}

TEST_P(StoreSettleTest, NamedAppsAreClaimedWithoutTransitionsUnlessBusy) {
    const auto a1 = accept_one("d1", job("app-a"));
    const auto b1 = accept_one("d2", job("app-b"));
    const auto b2 = accept_one("d3", job("app-b"));
    const auto c1 = accept_one("d4", job("app-c"));
    ASSERT_EQ(get(a1).state, "pending");
    // Naming app-b claims its head; named again while b1 runs, it gives nothing, app-c its
    // head, and app-a (never named) stays pending.
    auto first = store_->settle({}, {"app-b"}, clock_.now(), 1, ClaimScope::named_apps);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    EXPECT_EQ(ids(first->claimed), (std::vector<std::int64_t>{b1}));
    auto r = store_->settle({}, {"app-b", "app-c"}, clock_.now(), 10, ClaimScope::named_apps);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(ids(r->claimed), (std::vector<std::int64_t>{c1}));
    EXPECT_EQ(get(b2).state, "pending");
    EXPECT_EQ(get(a1).state, "pending");
}

TEST_P(StoreSettleTest, ScopeAllClaimsOldestFirstAcrossAppsAndAnswersTheNextWakeup) {
    const auto a1 = accept_one("d1", job("app-a"));
    auto later = job("app-b");
    later.not_before = clock_.now() + std::chrono::seconds(30);
    const auto b1 = accept_one("d2", later);
    const auto c1 = accept_one("d3", job("app-c"));
    ASSERT_EQ(claim(1), (std::vector<std::int64_t>{a1}));

    auto r = store_->settle({done(a1, "app-a")}, {}, clock_.now(), 10, ClaimScope::all);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(ids(r->claimed), (std::vector<std::int64_t>{c1}));
    ASSERT_TRUE(r->next_wakeup.has_value());
    EXPECT_EQ(*r->next_wakeup, clock_.now() + std::chrono::seconds(30));
    EXPECT_EQ(get(b1).state, "pending");
}

TEST_P(StoreSettleTest, ABackingOffHeadIsNotClaimedNorOvertakenAndGivesItsDueTime) {
    const auto a1 = accept_one("d1", job("app-a"));
    const auto a2 = accept_one("d2", job("app-a"));
    ASSERT_EQ(claim(), (std::vector<std::int64_t>{a1}));
    const auto retry_at = clock_.now() + std::chrono::seconds(5);
    auto r = store_->settle(
        {Transition{a1, "app-a", Transition::Kind::reschedule, "HTTP 500", retry_at}}, {},
        clock_.now(), 10, ClaimScope::named_apps);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(r->claimed.empty());
    EXPECT_EQ(r->next_wakeup, retry_at);
    EXPECT_EQ(get(a1).state, "pending");
    EXPECT_EQ(get(a1).last_error, "HTTP 500");
    EXPECT_EQ(get(a2).state, "pending");
}

TEST_P(StoreSettleTest, AWrongTransitionGetsItsOwnErrorAndTheOthersLand) {
    const auto a1 = accept_one("d1", job("app-a"));
    const auto b1 = accept_one("d2", job("app-b"));
    ASSERT_EQ(claim(1), (std::vector<std::int64_t>{a1}));  // b1 stays pending
    auto r = store_->settle({done(b1, "app-b"), done(a1, "app-a"), done(9999, "app-z")}, {},
                            clock_.now(), 0, ClaimScope::all);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->transitions.size(), 3U);
    ASSERT_FALSE(r->transitions[0].has_value());
    EXPECT_EQ(r->transitions[0].error().kind, StoreError::Kind::invalid_state);
    EXPECT_TRUE(r->transitions[1].has_value());
    ASSERT_FALSE(r->transitions[2].has_value());
    EXPECT_EQ(r->transitions[2].error().kind, StoreError::Kind::not_found);
    EXPECT_TRUE(r->claimed.empty());  // claim_limit 0
    EXPECT_EQ(get(a1).state, "done");
    EXPECT_EQ(get(b1).state, "pending");
}

TEST_P(StoreSettleTest, EachTransitionKindMatchesItsSingleMethod) {
    std::vector<std::int64_t> id;
    for (const auto* app : {"app-a", "app-b", "app-c", "app-d", "app-e"}) {
        id.push_back(accept_one(std::string("d-") + app, job(app)));
    }
    ASSERT_EQ(claim().size(), 5U);
    const auto at = clock_.now() + std::chrono::minutes(1);
    using K = Transition::Kind;
    auto r = store_->settle({{id[0], "app-a", K::complete, "ok", {}},
                             {id[1], "app-b", K::fail, "HTTP 404", {}},
                             {id[2], "app-c", K::reschedule, "HTTP 503", at},
                             {id[3], "app-d", K::defer, "deferred: freeze", at},
                             {id[4], "app-e", K::skip, "skipped: freeze", {}}},
                            {}, clock_.now(), 0, ClaimScope::named_apps);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(get(id[0]).state, "done");
    EXPECT_EQ(get(id[1]).state, "failed");
    EXPECT_EQ(get(id[1]).last_error, "HTTP 404");
    EXPECT_EQ(get(id[2]).state, "pending");
    EXPECT_EQ(get(id[2]).attempts, 1);
    EXPECT_EQ(get(id[2]).next_attempt_at, at);
    EXPECT_EQ(get(id[3]).state, "pending");
    EXPECT_EQ(get(id[3]).attempts, 0);  // a deferral is not an attempt
    EXPECT_EQ(get(id[3]).note, "deferred: freeze");
    EXPECT_EQ(get(id[4]).state, "done");
    EXPECT_EQ(get(id[4]).note, "skipped: freeze");
    EXPECT_TRUE(get(id[3]).freeze_deferred);
    // Each attempt in its job's history; a deferral or a skip is none.
    auto history = store_->list_attempts({});
    ASSERT_TRUE(history.has_value());
    ASSERT_EQ(history->size(), 3U);
    EXPECT_EQ((*history)[0].job_id, id[0]);
    EXPECT_EQ((*history)[0].outcome, "done");
    EXPECT_EQ((*history)[0].detail, "ok");
    EXPECT_EQ((*history)[1].job_id, id[1]);
    EXPECT_EQ((*history)[1].outcome, "failed");
    EXPECT_EQ((*history)[1].detail, "HTTP 404");
    EXPECT_EQ((*history)[2].job_id, id[2]);
    EXPECT_EQ((*history)[2].outcome, "rescheduled");
    EXPECT_EQ((*history)[2].at, clock_.now());
}

TEST_P(StoreSettleTest, AClaimNamesTheAppsNextJobOnlyWhenItMayStartUnclaimed) {
    // app-a's second job may follow its first unclaimed; app-b's is debounced (a newer
    // delivery may supersede it at any time) and app-c's not due yet: neither is named.
    const auto a1 = accept_one("d1", job("app-a"));
    const auto b1 = accept_one("d2", job("app-b"));
    const auto c1 = accept_one("d3", job("app-c"));
    const auto a2 = accept_one("d4", job("app-a"));
    auto debounced = job("app-b");
    debounced.debounce_key = "app-b:main";
    debounced.debounce = std::chrono::seconds(0);
    accept_one("d5", debounced);
    auto later = job("app-c");
    later.not_before = clock_.now() + std::chrono::seconds(30);
    accept_one("d6", later);

    auto r = store_->settle({}, {}, clock_.now(), 10, ClaimScope::all);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(ids(r->claimed), (std::vector<std::int64_t>{a1, b1, c1}));
    ASSERT_EQ(r->next.size(), 1U);
    EXPECT_EQ(r->next[0].after, a1);
    EXPECT_EQ(r->next[0].job.id, a2);
    EXPECT_EQ(r->next[0].job.state, "pending");  // as read: the handover claims it
}

TEST_P(StoreSettleTest, AHandoverMarksTheStartedJobRunningInTheCommitOfTheOutcome) {
    const auto a1 = accept_one("d1", job("app-a"));
    const auto a2 = accept_one("d2", job("app-a"));
    const auto a3 = accept_one("d3", job("app-a"));
    ASSERT_EQ(claim(), (std::vector<std::int64_t>{a1}));

    auto t = done(a1, "app-a");
    t.handover = a2;
    // A claim limit to spare: app-a is busy again (a2), so nothing else of it is claimed.
    auto r = store_->settle({t}, {}, clock_.now(), 10, ClaimScope::named_apps);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->transitions.size(), 1U);
    EXPECT_TRUE(r->transitions[0].has_value());
    ASSERT_EQ(r->handovers.size(), 1U);
    EXPECT_TRUE(r->handovers[0].has_value());
    EXPECT_TRUE(r->claimed.empty());
    EXPECT_EQ(get(a1).state, "done");
    EXPECT_EQ(get(a2).state, "running");
    EXPECT_EQ(get(a3).state, "pending");
    // And the job after it, for the next handover.
    ASSERT_EQ(r->next.size(), 1U);
    EXPECT_EQ(r->next[0].after, a2);
    EXPECT_EQ(r->next[0].job.id, a3);
}

TEST_P(StoreSettleTest, AHandoverOfAJobNoLongerPendingIsItsOwnErrorAndTheOutcomeLands) {
    const auto a1 = accept_one("d1", job("app-a"));
    const auto b1 = accept_one("d2", job("app-b"));
    ASSERT_EQ(claim(), (std::vector<std::int64_t>{a1, b1}));
    auto t = done(a1, "app-a");
    t.handover = b1;  // running already
    auto r = store_->settle({t}, {}, clock_.now(), 0, ClaimScope::named_apps);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(r->transitions[0].has_value());
    ASSERT_EQ(r->handovers.size(), 1U);
    ASSERT_FALSE(r->handovers[0].has_value());
    EXPECT_EQ(r->handovers[0].error().kind, StoreError::Kind::invalid_state);
    EXPECT_EQ(get(a1).state, "done");
    EXPECT_EQ(get(b1).state, "running");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(Backend::sqlite, Backend::postgres),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, StoreSettleTest,
                         ::testing::Values(Backend::sqlite, Backend::postgres), backend_name);

}  // namespace
}  // namespace linkpilot::store
