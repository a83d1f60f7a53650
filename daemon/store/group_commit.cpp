#include "daemon/store/group_commit.hpp"

#include <algorithm>
#include <chrono>

#include "common/prometheus.hpp"

namespace linkpilot::store {

GroupCommitter::GroupCommitter(std::unique_ptr<Store> store, const Clock& clock,
                               GroupCommitOptions options)
    : clock_(clock), options_(options), store_(std::move(store)) {
    options_.max_batch = std::max<std::size_t>(options_.max_batch, 1);
    work_.emplace(writer_ioc_.get_executor());
    thread_ = std::thread([this] { writer_ioc_.run(); });
}

// stop() throws only when the writer thread cannot be joined: a bug, so terminating is right.
GroupCommitter::~GroupCommitter() { stop(); }  // NOLINT(bugprone-exception-escape)

StoreError GroupCommitter::closed_error() {
    // Unavailable (503 at the ingress): the forge redelivers to the next process.
    return StoreError{StoreError::Kind::busy, "state store is shut down"};
}

void GroupCommitter::stop() {
    std::call_once(stop_once_, [this] {
        accepting_.store(false);
        // A caller that saw accepting_ == true is mid-post; let it finish so its request lands
        // before the close below and is answered.
        while (inflight_.load() != 0) {
            std::this_thread::yield();
        }
        boost::asio::post(writer_ioc_, [this] {
            while (!pending_.empty()) {
                flush();
            }
            store_.reset();
        });
        work_.reset();
        if (thread_.joinable()) {
            thread_.join();
        }
    });
}

void GroupCommitter::submit_accept(NewDelivery delivery, std::vector<NewJob> jobs,
                                   Completion<AcceptOutcome> done) {
    const bool posted =
        post_to_writer([this, p = PendingAccept{std::move(delivery), std::move(jobs),
                                                std::move(done)}](Store* store) mutable {
            if (store == nullptr) {
                std::move(p.done)(AcceptOutcome{Unexpected{closed_error()}});
                return;
            }
            enqueue(std::move(p));
        });
    if (!posted) {
        return;
    }
    submitted_.fetch_add(1, std::memory_order_relaxed);
}

void GroupCommitter::enqueue(PendingAccept p) {
    pending_.push_back(std::move(p));
    if (flush_scheduled_) {
        return;
    }
    schedule_flush();
}

void GroupCommitter::schedule_flush() {
    // Posted behind every request already queued on the writer: the batch is whatever arrived
    // while the previous commit was running.
    flush_scheduled_ = true;
    boost::asio::post(writer_ioc_, [this] {
        flush_scheduled_ = false;
        flush();
        if (!pending_.empty()) {
            schedule_flush();
        }
    });
}

void GroupCommitter::flush() {
    const std::size_t n = std::min(pending_.size(), options_.max_batch);
    if (n == 0) {
        return;
    }
    std::vector<Store::AcceptItem> items;
    std::vector<Completion<AcceptOutcome>> dones;
    items.reserve(n);
    dones.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        auto& p = pending_.front();
        items.emplace_back(std::move(p.delivery), std::move(p.jobs));
        dones.push_back(std::move(p.done));
        pending_.pop_front();
    }

    std::vector<AcceptOutcome> results;
    if (store_) {
        const auto start = clock_.steady_now();
        results = store_->accept_batch(items);
        record_batch(n, clock_.steady_now() - start);
    }
    // Counted before answering, so a caller that has its answer also sees it in stats().
    completed_.fetch_add(n, std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i) {
        if (i < results.size()) {
            std::move(dones[i])(std::move(results[i]));
        } else {
            std::move(dones[i])(AcceptOutcome{Unexpected{closed_error()}});
        }
    }
}

void GroupCommitter::record_batch(std::size_t size, std::chrono::steady_clock::duration took) {
    constexpr auto kRelaxed = std::memory_order_relaxed;
    batches_.fetch_add(1, kRelaxed);
    batch_size_sum_.fetch_add(size, kRelaxed);
    if (size > max_batch_.load(kRelaxed)) {
        max_batch_.store(size, kRelaxed);  // only the writer thread stores
    }
    const auto size_bucket = static_cast<std::size_t>(
        std::lower_bound(kBatchSizeBounds.begin(), kBatchSizeBounds.end(), size) -
        kBatchSizeBounds.begin());
    batch_size_counts_.at(size_bucket).fetch_add(1, kRelaxed);

    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
    const double seconds = static_cast<double>(ns) / 1e9;
    commit_ns_sum_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0)), kRelaxed);
    const auto latency_bucket = static_cast<std::size_t>(
        std::lower_bound(kCommitSecondsBounds.begin(), kCommitSecondsBounds.end(), seconds) -
        kCommitSecondsBounds.begin());
    commit_counts_.at(latency_bucket).fetch_add(1, kRelaxed);
}

GroupCommitStats GroupCommitter::stats() const {
    constexpr auto kRelaxed = std::memory_order_relaxed;
    GroupCommitStats s;
    s.accepts_submitted = submitted_.load(kRelaxed);
    s.accepts_completed = completed_.load(kRelaxed);
    s.batches = batches_.load(kRelaxed);
    s.max_batch = max_batch_.load(kRelaxed);
    s.batch_size_sum = batch_size_sum_.load(kRelaxed);
    s.commit_seconds_sum = static_cast<double>(commit_ns_sum_.load(kRelaxed)) / 1e9;
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < batch_size_counts_.size(); ++i) {
        running += batch_size_counts_.at(i).load(kRelaxed);
        s.batch_size_buckets.at(i) = running;
    }
    running = 0;
    for (std::size_t i = 0; i < commit_counts_.size(); ++i) {
        running += commit_counts_.at(i).load(kRelaxed);
        s.commit_seconds_buckets.at(i) = running;
    }
    return s;
}

void render_prometheus(const GroupCommitStats& s, std::string& out) {
    append_histogram(out, "linkpilot_store_commit_seconds",
                     "Time to commit one batch of deliveries and their jobs (fsync included).",
                     kCommitSecondsBounds, s.commit_seconds_buckets, s.commit_seconds_sum,
                     s.batches);
    append_histogram(out, "linkpilot_store_batch_size", "Deliveries committed per transaction.",
                     kBatchSizeBounds, s.batch_size_buckets, static_cast<double>(s.batch_size_sum),
                     s.batches);
}

}  // namespace linkpilot::store
