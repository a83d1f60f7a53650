// SQLite-only behaviour: the file, its directory, read-only and damaged files. The Store
// contract both backends share is in store_test.cpp.
#include "daemon/store/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>
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
