// SQLite-only behaviour: the file, its directory, read-only and damaged files. The Store
// contract both backends share is in store_test.cpp.
#include "daemon/store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/support/fake_clock.hpp"
#include "tests/unit/store/temp_dir.hpp"

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

}  // namespace
}  // namespace linkpilot::store
