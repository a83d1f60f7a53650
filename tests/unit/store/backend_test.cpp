// The seam under the Store (daemon/store/backend.hpp), where it has behaviour of its own:
// transactions that roll back unless committed, statements a dialect does not need, and
// parameters and rows that round-trip. Run against both backends, like store_test.cpp.
#include "daemon/store/backend.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/postgres.hpp"
#include "tests/support/temp_dir.hpp"

namespace linkpilot::store::detail {
namespace {

enum class Kind { sqlite, postgres };

class Store_Backend : public ::testing::TestWithParam<Kind> {
  protected:
    void SetUp() override {
        if (GetParam() == Kind::postgres) {
            const auto url = linkpilot::testing::test_postgres_url();
            if (!url) {
                GTEST_SKIP() << linkpilot::testing::kNoPostgres;
            }
            schema_ = std::make_unique<linkpilot::testing::PgSchema>(*url);
            ASSERT_TRUE(schema_->ok()) << schema_->error();
        }
        auto b = GetParam() == Kind::sqlite
                     ? open_sqlite_backend(SqliteOptions{dir_.path() / "state.db"})
                     : open_postgres_backend(PostgresOptions{.url = schema_->url()});
        ASSERT_TRUE(b.has_value()) << b.error().message;
        backend_ = std::move(*b);
        auto m = migrate(*backend_);
        ASSERT_TRUE(m.has_value()) << m.error().message;
    }

    // Stores delivery `id` (Stmt::insert_delivery); true when it was new.
    bool insert(const std::string& id) {
        auto r =
            backend_->run(Stmt::insert_delivery,
                          {"github", id, "push", "acme/web", std::int64_t{1000}, "queued",
                           Param::blob(std::string_view{"a\0b", 3}), "hash", "{}", "[]", "cfg"});
        EXPECT_TRUE(r.has_value()) << r.error().message;
        return r && r->affected() == 1;
    }

    bool stored(const std::string& id) {
        auto r = backend_->run(Stmt::get_delivery, {id});
        EXPECT_TRUE(r.has_value()) << r.error().message;
        return r && r->size() == 1;
    }

    TempDir dir_;
    std::unique_ptr<linkpilot::testing::PgSchema> schema_;
    std::unique_ptr<Backend> backend_;
};

std::string kind_name(const ::testing::TestParamInfo<Kind>& info) {
    return info.param == Kind::sqlite ? "SQLite" : "PostgreSQL";
}

TEST_P(Store_Backend, TransactionCommitsWhatItWrote) {
    auto tx = Transaction::begin(*backend_);
    ASSERT_TRUE(tx.has_value()) << tx.error().message;
    EXPECT_TRUE(backend_->in_transaction());
    EXPECT_TRUE(insert("d1"));
    auto c = tx->commit();
    ASSERT_TRUE(c.has_value()) << c.error().message;
    EXPECT_FALSE(backend_->in_transaction());
    EXPECT_TRUE(stored("d1"));
}

TEST_P(Store_Backend, TransactionRollsBackWhenNotCommitted) {
    {
        auto tx = Transaction::begin(*backend_);
        ASSERT_TRUE(tx.has_value()) << tx.error().message;
        EXPECT_TRUE(insert("d1"));
        EXPECT_TRUE(stored("d1"));  // visible inside it
    }
    EXPECT_FALSE(backend_->in_transaction());
    EXPECT_FALSE(stored("d1"));
}

TEST_P(Store_Backend, TransactionRollsBackAfterAFailedStatementAndTheNextOneWorks) {
    {
        auto tx = Transaction::begin(*backend_);
        ASSERT_TRUE(tx.has_value()) << tx.error().message;
        EXPECT_TRUE(insert("d1"));
        // A job of a delivery that does not exist: the foreign key refuses it.
        auto bad = backend_->run(Stmt::insert_job,
                                 {"github", "nope", "rule", "deploy", "web", "{}", std::int64_t{0},
                                  Param{std::nullopt}, std::int64_t{0}});
        ASSERT_FALSE(bad.has_value());
        EXPECT_EQ(bad.error().kind, StoreError::Kind::invalid) << bad.error().message;
    }
    EXPECT_FALSE(backend_->in_transaction());
    EXPECT_FALSE(stored("d1"));

    auto tx = Transaction::begin(*backend_);
    ASSERT_TRUE(tx.has_value()) << tx.error().message;
    EXPECT_TRUE(insert("d2"));
    ASSERT_TRUE(tx->commit().has_value());
    EXPECT_TRUE(stored("d2"));
}

TEST_P(Store_Backend, TransactionsDoNotNest) {
    auto tx = Transaction::begin(*backend_);
    ASSERT_TRUE(tx.has_value()) << tx.error().message;
    auto inner = Transaction::begin(*backend_);
    EXPECT_FALSE(inner.has_value());
    // The refused inner one did not end the outer one.
    EXPECT_TRUE(backend_->in_transaction());
    EXPECT_TRUE(insert("d1"));
    ASSERT_TRUE(tx->commit().has_value());
    EXPECT_TRUE(stored("d1"));
}

TEST_P(Store_Backend, RelaxedTransactionCommitsToo) {
    auto tx = Transaction::begin(*backend_, Durability::relaxed);
    ASSERT_TRUE(tx.has_value()) << tx.error().message;
    EXPECT_TRUE(insert("d1"));
    ASSERT_TRUE(tx->commit().has_value());
    EXPECT_TRUE(stored("d1"));
}

TEST_P(Store_Backend, AStatementTheDialectDoesNotNeedDoesNothing) {
    for (const auto stmt : {Stmt::insert_delivery_and_job, Stmt::lock_debounce_keys,
                            Stmt::insert_attempt, Stmt::claim_lock, Stmt::renew_leases,
                            Stmt::expire_leases, Stmt::lock_migrations, Stmt::unlock_migrations}) {
        if (backend_->has(stmt)) {
            continue;
        }
        auto r = backend_->run(stmt, {std::int64_t{1}});
        ASSERT_TRUE(r.has_value()) << r.error().message;
        EXPECT_TRUE(r->empty());
        EXPECT_EQ(r->affected(), 0);
    }
    // The statements the algorithms always run are there.
    for (const auto stmt : {Stmt::insert_delivery, Stmt::insert_job, Stmt::claim_runnable,
                            Stmt::mark_running, Stmt::complete, Stmt::get_version}) {
        EXPECT_TRUE(backend_->has(stmt));
    }
}

TEST_P(Store_Backend, ParametersAndColumnsRoundTrip) {
    ASSERT_TRUE(insert("d1"));
    EXPECT_FALSE(insert("d1"));  // ON CONFLICT DO NOTHING: nothing changed
    auto r = backend_->run(Stmt::get_delivery, {"d1"});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->size(), 1U);
    EXPECT_EQ(r->text(0, 0), "d1");
    EXPECT_EQ(r->int64(0, 4), 1000);
    EXPECT_EQ(r->text(0, 6), std::string("a\0b", 3));  // a blob keeps its NUL
    EXPECT_EQ(r->text(0, 7), "hash");

    auto none = backend_->run(Stmt::oldest_pending);
    ASSERT_TRUE(none.has_value()) << none.error().message;
    ASSERT_EQ(none->size(), 1U);
    EXPECT_TRUE(none->is_null(0, 0));
    EXPECT_EQ(none->opt_text(0, 0), std::nullopt);

    auto job =
        backend_->run(Stmt::insert_job, {"github", "d1", "rule", "deploy", "web", "{}",
                                         std::int64_t{5}, Param{std::nullopt}, std::int64_t{1000}});
    ASSERT_TRUE(job.has_value()) << job.error().message;
    ASSERT_EQ(job->size(), 1U);
    const auto id = job->int64(0, 0);
    auto got = backend_->run(Stmt::get_job, {id});
    ASSERT_TRUE(got.has_value()) << got.error().message;
    ASSERT_EQ(got->size(), 1U);
    EXPECT_EQ(got->text(0, 7), "pending");
    EXPECT_EQ(got->int64(0, 9), 5);
    EXPECT_TRUE(got->is_null(0, 12));   // debounce_key
    EXPECT_FALSE(got->boolean(0, 15));  // freeze_deferred, a boolean or 0/1
}

INSTANTIATE_TEST_SUITE_P(Backends, Store_Backend, ::testing::Values(Kind::sqlite, Kind::postgres),
                         kind_name);

}  // namespace
}  // namespace linkpilot::store::detail
