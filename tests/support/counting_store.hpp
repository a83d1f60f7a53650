#pragma once

// A Store that forwards every call to a real one and counts the executor's settles by claim
// scope, so tests can see how much of the queue the executor asks the store to scan; it can
// also refuse settles as a read-only disk would, or hold them as a slow disk would. Atomic: the
// store runs on the group committer's writer thread.

#include <atomic>
#include <memory>
#include <thread>
#include <utility>

#include "daemon/store/store.hpp"

namespace linkpilot::testing {

class CountingStore final : public store::Store {
  public:
    struct Counts {
        std::atomic<int> settles_scanning_all{0};
        std::atomic<int> settles_by_app{0};
        std::atomic<bool> refuse_settles{false};
        std::atomic<int> settles_refused{0};
        // While set, settle() waits on the writer thread (a stalled disk) before answering.
        std::atomic<bool> hold_settles{false};
        std::atomic<int> settles_held{0};
        std::atomic<int> handovers{0};  // transitions that started their app's next job
    };

    CountingStore(std::unique_ptr<store::Store> inner, std::shared_ptr<Counts> counts)
        : inner_(std::move(inner)), counts_(std::move(counts)) {}

    store::Result<store::SettleResult> settle(const std::vector<store::Transition>& transitions,
                                              const std::vector<std::string>& apps,
                                              store::TimePoint now, std::size_t claim_limit,
                                              store::ClaimScope scope) override {
        if (counts_->hold_settles) {
            ++counts_->settles_held;
            while (counts_->hold_settles) {
                std::this_thread::yield();
            }
        }
        if (counts_->refuse_settles) {
            ++counts_->settles_refused;
            return store::Result<store::SettleResult>{Unexpected{
                store::StoreError{store::StoreError::Kind::readonly, "refused by the test"}}};
        }
        if (claim_limit > 0) {
            ++(scope == store::ClaimScope::all ? counts_->settles_scanning_all
                                               : counts_->settles_by_app);
        }
        for (const auto& t : transitions) {
            counts_->handovers += t.handover != 0 ? 1 : 0;
        }
        return inner_->settle(transitions, apps, now, claim_limit, scope);
    }

    store::Result<store::AcceptResult> accept(const store::NewDelivery& d,
                                              const std::vector<store::NewJob>& jobs) override {
        return inner_->accept(d, jobs);
    }
    std::vector<store::Result<store::AcceptResult>> accept_batch(
        const std::vector<AcceptItem>& items) override {
        return inner_->accept_batch(items);
    }
    store::Result<std::vector<store::Job>> list_jobs(const store::JobFilter& f) override {
        return inner_->list_jobs(f);
    }
    store::Result<std::optional<store::Job>> get_job(std::int64_t id) override {
        return inner_->get_job(id);
    }
    store::Result<std::vector<store::Job>> claim_runnable(store::TimePoint now,
                                                          std::size_t limit) override {
        return inner_->claim_runnable(now, limit);
    }
    store::Result<void> complete(std::int64_t id, std::string_view note,
                                 store::TimePoint now) override {
        return inner_->complete(id, note, now);
    }
    store::Result<void> fail(std::int64_t id, std::string_view error,
                             store::TimePoint now) override {
        return inner_->fail(id, error, now);
    }
    store::Result<void> reschedule(std::int64_t id, std::string_view error, store::TimePoint at,
                                   store::TimePoint now) override {
        return inner_->reschedule(id, error, at, now);
    }
    store::Result<void> defer(std::int64_t id, store::TimePoint until, std::string_view note,
                              store::TimePoint now) override {
        return inner_->defer(id, until, note, now);
    }
    store::Result<void> skip(std::int64_t id, std::string_view note,
                             store::TimePoint now) override {
        return inner_->skip(id, note, now);
    }
    store::Result<void> retry(std::int64_t id, store::TimePoint now) override {
        return inner_->retry(id, now);
    }
    store::Result<void> cancel(std::int64_t id, std::string_view note,
                               store::TimePoint now) override {
        return inner_->cancel(id, note, now);
    }
    store::Result<void> run_now(std::int64_t id, bool ignore_freeze, std::string_view note,
                                store::TimePoint now) override {
        return inner_->run_now(id, ignore_freeze, note, now);
    }
    store::Result<void> redefer(std::int64_t id, store::TimePoint until, std::string_view note,
                                store::TimePoint now) override {
        return inner_->redefer(id, until, note, now);
    }
    store::Result<std::vector<store::Attempt>> list_attempts(const store::JobFilter& f) override {
        return inner_->list_attempts(f);
    }
    store::Result<std::int64_t> recover_running(store::TimePoint now) override {
        return inner_->recover_running(now);
    }
    store::Result<std::optional<store::TimePoint>> next_wakeup() override {
        return inner_->next_wakeup();
    }
    store::Result<std::optional<store::Delivery>> get_delivery(std::string_view id) override {
        return inner_->get_delivery(id);
    }
    store::Result<std::int64_t> prune_payloads(store::TimePoint older_than) override {
        return inner_->prune_payloads(older_than);
    }
    store::Result<store::Stats> stats() override { return inner_->stats(); }
    store::Result<store::SweepLock> try_lock_sweep(const store::SweepHolder& self) override {
        return inner_->try_lock_sweep(self);
    }
    store::Result<void> unlock_sweep() override { return inner_->unlock_sweep(); }
    store::Result<store::MigrateResult> migrate() override { return inner_->migrate(); }
    store::Result<int> schema_version() override { return inner_->schema_version(); }

  private:
    std::unique_ptr<store::Store> inner_;
    std::shared_ptr<Counts> counts_;
};

}  // namespace linkpilot::testing
