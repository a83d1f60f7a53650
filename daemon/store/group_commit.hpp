#pragma once

// Group commit: one writer thread owns the Store. Coroutines on any executor hand it accepts
// (the ingress) or arbitrary store calls (executor, pruner) and await the answer. The writer
// takes everything that queued up while it was busy (up to max_batch) and commits it in ONE
// transaction, so durability costs one fsync per batch instead of one per request.
//
// Requests travel to the writer by asio::post onto the writer's own io_context; results come
// back by posting the completion to the caller's associated executor, whose outstanding work
// is held meanwhile (a caller's io_context does not run dry while it waits). No mutex here.

#include <array>
#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "daemon/store/store.hpp"

namespace linkpilot::store {

struct GroupCommitOptions {
    std::size_t max_batch = 256;  // deliveries per transaction
};

// Histogram bucket upper bounds (Prometheus `le`), and the snapshot the ingress exports.
inline constexpr std::array<std::size_t, 9> kBatchSizeBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256};
inline constexpr std::array<double, 10> kCommitSecondsBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                                0.025,  0.05,  0.1,    0.25,  1.0};

struct GroupCommitStats {
    std::uint64_t accepts_submitted = 0;  // accept() calls handed to the writer
    std::uint64_t accepts_completed = 0;  // ... and answered
    std::uint64_t batches = 0;            // accept_batch transactions
    std::uint64_t max_batch = 0;
    // Cumulative counts, one per bound plus +Inf (== batches), as Prometheus wants them.
    std::array<std::uint64_t, kBatchSizeBounds.size() + 1> batch_size_buckets{};
    std::uint64_t batch_size_sum = 0;
    std::array<std::uint64_t, kCommitSecondsBounds.size() + 1> commit_seconds_buckets{};
    double commit_seconds_sum = 0;
};

// Appends `s` in Prometheus text format: linkpilot_store_commit_seconds (the time of one
// delivery batch's transaction, fsync included) and linkpilot_store_batch_size (deliveries per
// transaction) histograms.
void render_prometheus(const GroupCommitStats& s, std::string& out);

class GroupCommitter {
  public:
    using AcceptOutcome = Result<AcceptResult>;

    // Starts the writer thread. `clock` (steady time) measures commit latency.
    GroupCommitter(std::unique_ptr<Store> store, const Clock& clock,
                   GroupCommitOptions options = {});
    // Calls stop().
    ~GroupCommitter();  // NOLINT(bugprone-exception-escape): see group_commit.cpp
    GroupCommitter(const GroupCommitter&) = delete;
    GroupCommitter& operator=(const GroupCommitter&) = delete;
    GroupCommitter(GroupCommitter&&) = delete;
    GroupCommitter& operator=(GroupCommitter&&) = delete;

    // Stores a delivery and its jobs durably (batched with concurrent calls); completes on the
    // caller's executor. `co_await committer.accept(d, jobs)` yields an AcceptOutcome.
    // Cancellable through the handler's cancellation slot, e.g.
    // `co_await (committer.accept(d, jobs) || timer.async_wait(use_awaitable))`; as Asio requires
    // for cancellation slots, the caller's executor should then be a strand (per connection).
    template <class Token = const boost::asio::use_awaitable_t<>&>
    auto accept(NewDelivery delivery, std::vector<NewJob> jobs,
                Token&& token = boost::asio::use_awaitable) {
        return boost::asio::async_initiate<Token, void(AcceptOutcome)>(
            // Both are moved into submit_accept: clang-tidy 14 misses it in this dependent call.
            // NOLINTNEXTLINE(performance-unnecessary-value-param)
            [this](auto handler, NewDelivery d, std::vector<NewJob> j) {
                submit_accept(std::move(d), std::move(j),
                              bind_completion<AcceptOutcome>(std::move(handler)));
            },
            token, std::move(delivery), std::move(jobs));
    }

    // Runs `fn(Store&)` on the writer thread, in order with the other requests, and completes
    // with its result on the caller's executor. R must be a Result<T> (every Store method
    // returns one): after stop(), `fn` is not run and the answer is a StoreError.
    template <class F, class Token = const boost::asio::use_awaitable_t<>&>
    auto run(F fn, Token&& token = boost::asio::use_awaitable) {
        using R = std::invoke_result_t<F&, Store&>;
        static_assert(std::is_constructible_v<R, Unexpected<StoreError>>,
                      "run() needs a function returning store::Result<T>");
        return boost::asio::async_initiate<Token, void(R)>(
            [this](auto handler, F f) {
                auto done = bind_completion<R>(std::move(handler));
                this->post_to_writer(
                    [f = std::move(f), done = std::move(done)](Store* store) mutable {
                        if (store == nullptr) {
                            std::move(done)(R{Unexpected{closed_error()}});
                            return;
                        }
                        std::move(done)(f(*store));
                    });
            },
            token, std::move(fn));
    }

    // Stops taking requests (later ones complete with an error), commits everything queued,
    // closes the store and joins the writer. Blocks for that drain; call it once, off the
    // writer thread. Idempotent.
    void stop();

    // A consistent-enough snapshot for /metrics; callable from any thread.
    [[nodiscard]] GroupCommitStats stats() const;

  private:
    template <class R>
    using Completion = boost::asio::any_completion_handler<void(R)>;

    struct PendingAccept {
        NewDelivery delivery;
        std::vector<NewJob> jobs;
        Completion<AcceptOutcome> done;
    };

    // Wraps a caller's handler: calling the result (from any thread) posts the handler with its
    // value to the handler's associated executor, whose work is tracked until then. If the
    // caller cancels first (e.g. `accept(...) || timer.async_wait()` in the ingress), the
    // handler completes at once with Kind::cancelled; the writer may still commit the request
    // later, which a redelivery then finds as a duplicate.
    template <class R, class Handler>
    Completion<R> bind_completion(Handler handler) {
        namespace net = boost::asio;
        auto ex = net::get_associated_executor(handler, writer_ioc_.get_executor());
        auto work = net::prefer(ex, net::execution::outstanding_work_t::tracked);
        auto slot = net::get_associated_cancellation_slot(handler);
        using WorkExecutor = decltype(work);
        using Slot = decltype(slot);
        struct State {
            State(Handler h, WorkExecutor w, Slot s)
                : handler(std::move(h)), work(std::move(w)), slot(std::move(s)) {}
            std::atomic<bool> answered{false};
            Handler handler;
            WorkExecutor work;
            Slot slot;
        };
        auto state = std::make_shared<State>(std::move(handler), std::move(work), slot);
        // Runs on the caller's executor, so the slot is cleared in the caller's context.
        auto deliver = [](std::shared_ptr<State> st, R result) {
            net::post(st->work, [st, r = std::move(result)]() mutable {
                if (st->slot.is_connected()) {
                    st->slot.clear();
                }
                std::move(st->handler)(std::move(r));
            });
        };
        if (slot.is_connected()) {
            slot.assign([state, deliver](net::cancellation_type type) {
                if ((type & (net::cancellation_type::terminal | net::cancellation_type::partial |
                             net::cancellation_type::total)) == net::cancellation_type::none) {
                    return;
                }
                if (state->answered.exchange(true)) {
                    return;
                }
                deliver(state, R{Unexpected{StoreError{StoreError::Kind::cancelled,
                                                       "cancelled while waiting for the store"}}});
            });
        }
        return [state, deliver](R result) {
            if (state->answered.exchange(true)) {
                return;  // already answered "cancelled"
            }
            deliver(state, std::move(result));
        };
    }

    // Runs `fn(Store*)` on the writer with the open store. Once stop() has begun, runs it at
    // once on the calling thread with nullptr instead (and returns false).
    template <class Fn>
    bool post_to_writer(Fn fn) {
        inflight_.fetch_add(1);
        if (!accepting_.load()) {
            inflight_.fetch_sub(1);
            fn(nullptr);
            return false;
        }
        boost::asio::post(writer_ioc_, [this, fn = std::move(fn)]() mutable { fn(store_.get()); });
        inflight_.fetch_sub(1);
        return true;
    }

    static StoreError closed_error();

    void submit_accept(NewDelivery delivery, std::vector<NewJob> jobs,
                       Completion<AcceptOutcome> done);
    // Writer thread only.
    void enqueue(PendingAccept p);
    void schedule_flush();
    void flush();
    void record_batch(std::size_t size, std::chrono::steady_clock::duration took);

    const Clock& clock_;
    GroupCommitOptions options_;

    // Writer-thread state.
    std::unique_ptr<Store> store_;
    std::deque<PendingAccept> pending_;
    bool flush_scheduled_ = false;

    // Metrics: written by the writer (submitted by callers), read by stats().
    std::atomic<std::uint64_t> submitted_{0};
    std::atomic<std::uint64_t> completed_{0};
    std::atomic<std::uint64_t> batches_{0};
    std::atomic<std::uint64_t> max_batch_{0};
    std::atomic<std::uint64_t> batch_size_sum_{0};
    std::atomic<std::uint64_t> commit_ns_sum_{0};
    std::array<std::atomic<std::uint64_t>, kBatchSizeBounds.size() + 1> batch_size_counts_{};
    std::array<std::atomic<std::uint64_t>, kCommitSecondsBounds.size() + 1> commit_counts_{};

    // Shutdown handshake between callers and stop().
    std::atomic<bool> accepting_{true};
    std::atomic<int> inflight_{0};
    std::once_flag stop_once_;

    boost::asio::io_context writer_ioc_{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
};

}  // namespace linkpilot::store
