#include "daemon/store/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon/store/sqlite_store.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/store_builders.hpp"
#include "tests/support/temp_dir.hpp"

namespace linkpilot::store {
namespace {

namespace net = boost::asio;

class GroupCommitTest : public ::testing::Test {
  protected:
    std::unique_ptr<Store> open(bool read_only = false) {
        auto s = open_sqlite(SqliteOptions{dir_.path() / "state.db", read_only});
        EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
        if (!s) {
            return nullptr;
        }
        return std::move(*s);
    }

    NewDelivery delivery(const std::string& id) const {
        return testing::push_delivery(id, clock_.now());
    }

    static std::vector<NewJob> one_job(const std::string& app) {
        return {testing::new_job("r", "deploy", app, R"({"branch":"main"})")};
    }

    // Holds the writer busy until `count` accepts have been handed to it, so they queue up and
    // must be committed together: makes "batches > 1" deterministic instead of a timing hope.
    static void hold_writer_until_submitted(GroupCommitter& gc, std::uint64_t count,
                                            std::atomic<bool>& released) {
        gc.run(
            [&gc, count](Store&) -> Result<void> {
                while (gc.stats().accepts_submitted < count) {
                    std::this_thread::yield();
                }
                return {};
            },
            [&released](const Result<void>&) { released = true; });
    }

    TempDir dir_;
    testing::FakeClock clock_;
};

TEST_F(GroupCommitTest, ConcurrentCoroutineAcceptsAreAllStoredOnceInBatches) {
    constexpr int kRequests = 200;
    GroupCommitter gc(open(), clock_);
    std::atomic<bool> released{false};
    hold_writer_until_submitted(gc, kRequests, released);

    net::io_context ioc;
    std::atomic<int> ok{0};
    std::atomic<int> wrong_thread{0};
    std::vector<std::int64_t> ids(kRequests, -1);
    for (int i = 0; i < kRequests; ++i) {
        net::co_spawn(
            ioc,
            [&, i]() -> net::awaitable<void> {
                auto r = co_await gc.accept(delivery("d" + std::to_string(i)),
                                            one_job("app" + std::to_string(i % 7)));
                if (!ioc.get_executor().running_in_this_thread()) {
                    ++wrong_thread;
                }
                if (r && !r->duplicate && r->job_ids.size() == 1) {
                    ids.at(static_cast<std::size_t>(i)) = r->job_ids.front();
                    ++ok;
                }
            },
            net::detached);
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&ioc] { ioc.run(); });
    }
    for (auto& t : threads) {
        t.join();
    }

    EXPECT_EQ(ok.load(), kRequests);
    EXPECT_EQ(wrong_thread.load(), 0);
    EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(),
              static_cast<std::size_t>(kRequests));

    const GroupCommitStats s = gc.stats();
    EXPECT_EQ(s.accepts_submitted, static_cast<std::uint64_t>(kRequests));
    EXPECT_EQ(s.accepts_completed, static_cast<std::uint64_t>(kRequests));
    EXPECT_GT(s.max_batch, 1U);
    EXPECT_LT(s.batches, static_cast<std::uint64_t>(kRequests));
    EXPECT_EQ(s.batch_size_sum, static_cast<std::uint64_t>(kRequests));
    EXPECT_EQ(s.batch_size_buckets.back(), s.batches);
    EXPECT_EQ(s.commit_seconds_buckets.back(), s.batches);
    gc.stop();
    EXPECT_TRUE(released.load());  // the hold's completion ran on the writer before it closed
    auto reader = open();
    ASSERT_NE(reader, nullptr);
    auto jobs = reader->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_EQ(jobs->size(), static_cast<std::size_t>(kRequests));
}

TEST_F(GroupCommitTest, MaxBatchSplitsLargeQueues) {
    constexpr int kRequests = 20;
    GroupCommitter gc(open(), clock_, GroupCommitOptions{8});
    std::atomic<bool> released{false};
    hold_writer_until_submitted(gc, kRequests, released);

    net::io_context ioc;
    int answered = 0;
    for (int i = 0; i < kRequests; ++i) {
        gc.accept(delivery("d" + std::to_string(i)), one_job("web"),
                  net::bind_executor(ioc, [&answered](const GroupCommitter::AcceptOutcome& r) {
                      if (r) {
                          ++answered;
                      }
                  }));
    }
    ioc.run();
    EXPECT_EQ(answered, kRequests);
    const GroupCommitStats s = gc.stats();
    EXPECT_EQ(s.max_batch, 8U);
    EXPECT_EQ(s.batches, 3U);  // 8 + 8 + 4
}

TEST_F(GroupCommitTest, DuplicateInSameBatchIsReported) {
    GroupCommitter gc(open(), clock_);
    std::atomic<bool> released{false};
    hold_writer_until_submitted(gc, 2, released);

    net::io_context ioc;
    std::vector<bool> duplicates;
    for (int i = 0; i < 2; ++i) {
        gc.accept(delivery("same"), one_job("web"),
                  net::bind_executor(ioc, [&duplicates](const GroupCommitter::AcceptOutcome& r) {
                      ASSERT_TRUE(r.has_value());
                      duplicates.push_back(r->duplicate);
                  }));
    }
    ioc.run();
    ASSERT_EQ(duplicates.size(), 2U);
    EXPECT_FALSE(duplicates[0]);
    EXPECT_TRUE(duplicates[1]);
    EXPECT_EQ(gc.stats().max_batch, 2U);
}

TEST_F(GroupCommitTest, RunExecutesStoreCallOnWriterAndReturnsResult) {
    GroupCommitter gc(open(), clock_);
    net::io_context ioc;
    std::optional<std::size_t> count;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            auto a = co_await gc.accept(delivery("d1"), one_job("web"));
            EXPECT_TRUE(a.has_value());
            auto jobs = co_await gc.run([](Store& s) { return s.list_jobs({}); });
            if (jobs) {
                count = jobs->size();
            }
        },
        net::detached);
    ioc.run();
    EXPECT_EQ(count, std::optional<std::size_t>{1});
}

TEST_F(GroupCommitTest, CallerThatStopsWaitingGetsCancelledAndWriteStillLands) {
    using namespace boost::asio::experimental::awaitable_operators;
    GroupCommitter gc(open(), clock_);
    // The writer is held until the caller has given up; no timing involved.
    std::atomic<bool> gave_up{false};
    gc.run(
        [&gave_up](Store&) -> Result<void> {
            while (!gave_up.load()) {
                std::this_thread::yield();
            }
            return {};
        },
        [](const Result<void>&) {});

    net::io_context ioc;
    std::optional<std::size_t> winner;
    std::optional<StoreError::Kind> second_kind;
    net::co_spawn(
        net::make_strand(ioc),
        [&]() -> net::awaitable<void> {
            net::steady_timer timer(co_await net::this_coro::executor);
            timer.expires_after(std::chrono::milliseconds(1));
            auto r = co_await (gc.accept(delivery("d1"), one_job("web")) ||
                               timer.async_wait(net::use_awaitable));
            winner = r.index();
            gave_up = true;
            // A later accept on the same committer still works.
            auto again = co_await gc.accept(delivery("d1"), one_job("web"));
            if (again) {
                second_kind =
                    again->duplicate ? StoreError::Kind::other : StoreError::Kind::invalid;
            }
        },
        net::detached);
    ioc.run();
    EXPECT_EQ(winner, std::optional<std::size_t>{1});
    // The abandoned request was committed anyway, so the second one is a duplicate.
    EXPECT_EQ(second_kind, std::optional<StoreError::Kind>{StoreError::Kind::other});
}

TEST_F(GroupCommitTest, StopDrainsQueuedAcceptsThenRefusesNewOnes) {
    constexpr int kRequests = 30;
    GroupCommitter gc(open(), clock_);
    net::io_context ioc;
    int stored = 0;
    for (int i = 0; i < kRequests; ++i) {
        gc.accept(delivery("d" + std::to_string(i)), one_job("web"),
                  net::bind_executor(ioc, [&stored](const GroupCommitter::AcceptOutcome& r) {
                      if (r && !r->duplicate) {
                          ++stored;
                      }
                  }));
    }
    gc.stop();

    std::optional<StoreError> late;
    gc.accept(delivery("late"), one_job("web"),
              net::bind_executor(ioc, [&late](const GroupCommitter::AcceptOutcome& r) {
                  if (!r) {
                      late = r.error();
                  }
              }));
    std::optional<StoreError> late_run;
    gc.run([](Store& s) { return s.schema_version(); },
           net::bind_executor(ioc, [&late_run](const Result<int>& r) {
               if (!r) {
                   late_run = r.error();
               }
           }));
    ioc.run();

    EXPECT_EQ(stored, kRequests);
    ASSERT_TRUE(late.has_value());
    EXPECT_TRUE(late->unavailable());
    EXPECT_TRUE(late_run.has_value());

    auto reader = open();
    ASSERT_NE(reader, nullptr);
    auto jobs = reader->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_EQ(jobs->size(), static_cast<std::size_t>(kRequests));
}

TEST_F(GroupCommitTest, ReadOnlyStoreAnswersReadonlyToEveryAccept) {
    open().reset();  // create and migrate the file first
    GroupCommitter gc(open(/*read_only=*/true), clock_);
    net::io_context ioc;
    std::vector<StoreError::Kind> kinds;
    for (int i = 0; i < 3; ++i) {
        gc.accept(delivery("d" + std::to_string(i)), one_job("web"),
                  net::bind_executor(ioc, [&kinds](const GroupCommitter::AcceptOutcome& r) {
                      kinds.push_back(r ? StoreError::Kind::other : r.error().kind);
                      if (!r) {
                          EXPECT_TRUE(r.error().unavailable());
                      }
                  }));
    }
    ioc.run();
    EXPECT_EQ(kinds, std::vector<StoreError::Kind>(3, StoreError::Kind::readonly));
}

}  // namespace
}  // namespace linkpilot::store
