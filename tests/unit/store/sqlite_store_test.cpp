// SQLite-only behaviour: the file, its directory, read-only and damaged files, and the upgrade
// of a database an earlier release wrote. The Store contract both backends share is in
// store_test.cpp.
#include "daemon/store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/fake_clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace linkpilot::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
  protected:
    void SetUp() override { store_ = open(); }

    std::unique_ptr<Store> open(bool read_only = false) {
        auto s = open_sqlite(SqliteOptions{db_path(), read_only});
        EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
        if (!s) {
            return nullptr;
        }
        return std::move(*s);
    }

    [[nodiscard]] std::filesystem::path db_path() const { return dir_.path() / "sub" / "state.db"; }

    NewDelivery delivery(const std::string& id) {
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

    static NewJob job(const std::string& app) {
        NewJob j;
        j.rule = "deploy-main";
        j.action = "deploy";
        j.app = app;
        return j;
    }

    void accept_one(const std::string& id, const NewJob& j) {
        auto r = store_->accept(delivery(id), {j});
        ASSERT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    }

    TempDir dir_;
    testing::FakeClock clock_;
    std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, CreatesMissingDirectories) {
    EXPECT_TRUE(std::filesystem::exists(db_path()));
}

TEST_F(SqliteStoreTest, ReadOnlyDatabaseSurfacesReadonlyError) {
    accept_one("d1", job("web"));
    auto ro = open(/*read_only=*/true);
    ASSERT_NE(ro, nullptr);

    auto jobs = ro->list_jobs({});
    ASSERT_TRUE(jobs.has_value()) << jobs.error().message;
    EXPECT_EQ(jobs->size(), 1U);

    auto r = ro->accept(delivery("d2"), {job("web")});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, StoreError::Kind::readonly) << r.error().message;
    EXPECT_TRUE(r.error().unavailable());

    std::vector<Store::AcceptItem> batch;
    batch.emplace_back(delivery("d3"), std::vector<NewJob>{job("web")});
    batch.emplace_back(delivery("d4"), std::vector<NewJob>{});
    auto results = ro->accept_batch(batch);
    ASSERT_EQ(results.size(), 2U);
    for (const auto& res : results) {
        ASSERT_FALSE(res.has_value());
        EXPECT_EQ(res.error().kind, StoreError::Kind::readonly);
    }
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

// The sweep lock is a flock on a file beside the database (SweepLockFile in sqlite_store.cpp).
TEST_F(SqliteStoreTest, TheSweepLockFileSaysWhoHoldsItWhileItIsHeld) {
    const auto lock_file = db_path().string() + ".sweep.lock";
    const SweepHolder me{.pid = 4242, .host = "web-1", .command = "serve", .since = clock_.now()};
    ASSERT_TRUE(store_->try_lock_sweep(me)->taken);
    EXPECT_EQ(slurp(lock_file),
              "linkpilot serve (pid 4242 on web-1, since 2023-11-14T22:13:20Z)\n");
    ASSERT_TRUE(store_->unlock_sweep().has_value());
    EXPECT_EQ(slurp(lock_file), "");  // no holder
    EXPECT_TRUE(std::filesystem::exists(lock_file));
}

TEST_F(SqliteStoreTest, AHolderWithoutItsLineYetIsStillAHolder) {
    // What a process refused sees between the holder's flock and its write.
    auto other = open();
    ASSERT_NE(other, nullptr);
    const SweepHolder me{.pid = 4242, .host = "web-1", .command = "serve", .since = clock_.now()};
    ASSERT_TRUE(store_->try_lock_sweep(me)->taken);
    std::ofstream(db_path().string() + ".sweep.lock", std::ios::trunc) << "linkpilot ser";
    auto refused = other->try_lock_sweep(me);
    ASSERT_TRUE(refused.has_value()) << refused.error().message;
    EXPECT_FALSE(refused->taken);
    EXPECT_EQ(refused->holder, "another linkpilot process (it has not written who it is yet)");
}

TEST_F(SqliteStoreTest, AHolderKilledWithoutUnlockingReleasesTheSweepLock) {
    std::array<int, 2> ready{};
    ASSERT_EQ(::pipe(ready.data()), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The holder: takes the lock, says so, and waits to be killed (no unlock, no close).
        ::close(ready[0]);
        auto s = open_sqlite(SqliteOptions{db_path()});
        if (!s) {
            ::_exit(1);
        }
        auto lock = (*s)->try_lock_sweep(this_process("prune", clock_.now()));
        if (!lock || !lock->taken || ::write(ready[1], "x", 1) != 1) {
            ::_exit(1);
        }
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char byte = 0;
    const auto n = ::read(ready[0], &byte, 1);
    ::close(ready[0]);
    if (n != 1) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        FAIL() << "the child could not take the sweep lock";
    }
    const SweepHolder me{.pid = 1, .host = "h", .command = "serve", .since = clock_.now()};
    auto refused = store_->try_lock_sweep(me);
    ASSERT_TRUE(refused.has_value()) << refused.error().message;
    EXPECT_FALSE(refused->taken);
    EXPECT_NE(refused->holder.find("linkpilot prune (pid " + std::to_string(child) + " on "),
              std::string::npos)
        << refused->holder;

    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);  // its descriptors are closed by now
    EXPECT_TRUE(WIFSIGNALED(status));
    auto taken = store_->try_lock_sweep(me);
    ASSERT_TRUE(taken.has_value()) << taken.error().message;
    EXPECT_TRUE(taken->taken);
}

TEST_F(SqliteStoreTest, AReadOnlyStoreCannotTakeTheSweepLock) {
    auto ro = open(/*read_only=*/true);
    ASSERT_NE(ro, nullptr);
    auto r = ro->try_lock_sweep(this_process("prune", clock_.now()));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, StoreError::Kind::readonly);
}

TEST_F(SqliteStoreTest, OpeningGarbageFileIsCorrupt) {
    store_.reset();
    const auto path = dir_.path() / "garbage.db";
    {
        std::FILE* f = std::fopen(path.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        const std::string junk(4096, 'x');
        std::fwrite(junk.data(), 1, junk.size(), f);
        std::fclose(f);
    }
    auto s = open_sqlite(SqliteOptions{path});
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().kind, StoreError::Kind::corrupt) << s.error().message;
}

// The schema as version 2 (the release before `jobs cancel`) left it, with one delivery and
// its jobs: a job deferred by a freeze window, one waiting behind it, one done, and id 7 taken
// then deleted (so the id sequence is ahead of the rows).
constexpr const char* kVersion2Database = R"sql(
CREATE TABLE deliveries (
    provider TEXT NOT NULL, id TEXT NOT NULL, event TEXT NOT NULL, repo TEXT NOT NULL,
    received_at INTEGER NOT NULL, status TEXT NOT NULL, payload BLOB,
    payload_sha256 TEXT NOT NULL, event_json TEXT NOT NULL, verdicts_json TEXT NOT NULL,
    config_fingerprint TEXT NOT NULL, PRIMARY KEY (provider, id)
);
CREATE INDEX deliveries_by_id ON deliveries (id, received_at);
CREATE INDEX deliveries_with_payload ON deliveries (received_at) WHERE payload IS NOT NULL;
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT    NOT NULL,
    delivery_id     TEXT    NOT NULL,
    rule            TEXT    NOT NULL,
    action          TEXT    NOT NULL
                    CHECK (action IN ('deploy', 'review_app', 'delete_review_app')),
    app             TEXT    NOT NULL,
    args            TEXT    NOT NULL CHECK (json_valid(args)),
    state           TEXT    NOT NULL
                    CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    note            TEXT,
    debounce_key    TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    FOREIGN KEY (provider, delivery_id) REFERENCES deliveries (provider, id)
);
CREATE INDEX jobs_by_debounce ON jobs (debounce_key) WHERE state = 'pending';
CREATE INDEX jobs_by_delivery ON jobs (provider, delivery_id);
CREATE INDEX jobs_pending_by_app ON jobs (app, id) WHERE state = 'pending';
CREATE INDEX jobs_running_by_app ON jobs (app) WHERE state = 'running';
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (2);

INSERT INTO deliveries VALUES ('github', 'd1', 'push', 'acme/web', 1000, 'queued', NULL, '',
                               '{}', '[]', 'cfg');
INSERT INTO jobs (id, provider, delivery_id, rule, action, app, args, state, attempts,
                  next_attempt_at, last_error, note, created_at, updated_at) VALUES
  (1, 'github', 'd1', 'r', 'deploy', 'web', '{"branch":"main"}', 'pending', 0, 9000, NULL,
   'deferred: freeze window fri 16:00-23:59 Europe/Paris until 2026-01-09T22:59:00Z', 1000, 1000),
  (2, 'github', 'd1', 'r', 'deploy', 'web', '{"branch":"main"}', 'pending', 0, 1000, NULL, NULL,
   1000, 1000),
  (3, 'github', 'd1', 'r', 'deploy', 'api', '{"branch":"main"}', 'done', 2, 1000, 'HTTP 500',
   'deployment 4 queued', 1000, 2000),
  (7, 'github', 'd1', 'r', 'deploy', 'api', '{"branch":"main"}', 'done', 1, 1000, NULL, NULL,
   1000, 1000);
DELETE FROM jobs WHERE id = 7;
)sql";

TEST_F(SqliteStoreTest, UpgradesAVersion2DatabaseKeepingItsJobs) {
    const auto path = dir_.path() / "v2.db";
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
        char* msg = nullptr;
        const int rc = sqlite3_exec(raw, kVersion2Database, nullptr, nullptr, &msg);
        EXPECT_EQ(rc, SQLITE_OK) << (msg != nullptr ? msg : "");
        sqlite3_free(msg);
        sqlite3_close(raw);
        ASSERT_EQ(rc, SQLITE_OK);
    }
    auto opened = open_sqlite(SqliteOptions{path});
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    auto& db = **opened;
    EXPECT_EQ(db.schema_version().value(), sqlite_latest_schema_version());

    auto jobs = db.list_jobs({});
    ASSERT_TRUE(jobs.has_value()) << jobs.error().message;
    ASSERT_EQ(jobs->size(), 3U);
    const auto& held = (*jobs)[0];
    EXPECT_EQ(held.id, 1);
    EXPECT_EQ(held.state, "pending");
    EXPECT_TRUE(held.freeze_deferred);  // recognised by its note
    EXPECT_EQ(held.next_attempt_at, TimePoint{std::chrono::milliseconds{9000}});
    EXPECT_EQ((*jobs)[1].id, 2);
    EXPECT_FALSE((*jobs)[1].freeze_deferred);
    const auto& done = (*jobs)[2];
    EXPECT_EQ(done.state, "done");
    EXPECT_EQ(done.attempts, 2);
    EXPECT_EQ(done.last_error, "HTTP 500");
    EXPECT_EQ(done.note, "deployment 4 queued");
    EXPECT_EQ(done.updated_at, TimePoint{std::chrono::milliseconds{2000}});
    auto history = db.list_attempts({});
    ASSERT_TRUE(history.has_value());
    EXPECT_TRUE(history->empty());  // attempts before the upgrade were not recorded

    // The new state is allowed, and ids go on after the highest ever given.
    ASSERT_TRUE(db.cancel(1, "cancelled by ops", clock_.now()).has_value());
    EXPECT_EQ(db.get_job(1).value()->state, "cancelled");
    auto more = db.accept(delivery("d2"), {job("web")});
    ASSERT_TRUE(more.has_value()) << more.error().message;
    EXPECT_EQ(more->job_ids, std::vector<std::int64_t>{8});
}

}  // namespace
}  // namespace linkpilot::store
