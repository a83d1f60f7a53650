#pragma once

// A Store for the HTTP fuzz target: accepts every delivery (never a duplicate) and keeps
// nothing, so millions of inputs cost no disk and no memory. Every other call is refused:
// nothing but the ingress runs against it.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "daemon/store/store.hpp"

namespace linkpilot::fuzz {

class NullStore final : public store::Store {
  public:
    using TimePoint = store::TimePoint;
    template <class T>
    using Result = store::Result<T>;

    Result<store::AcceptResult> accept(const store::NewDelivery& /*delivery*/,
                                       const std::vector<store::NewJob>& jobs) override {
        store::AcceptResult out;
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            out.job_ids.push_back(static_cast<std::int64_t>(i) + 1);
        }
        return out;
    }
    std::vector<Result<store::AcceptResult>> accept_batch(
        const std::vector<AcceptItem>& items) override {
        std::vector<Result<store::AcceptResult>> out;
        out.reserve(items.size());
        for (const auto& [delivery, jobs] : items) {
            out.push_back(accept(delivery, jobs));
        }
        return out;
    }
    Result<std::vector<store::Job>> list_jobs(const store::JobFilter& /*filter*/) override {
        return refused<std::vector<store::Job>>();
    }
    Result<std::optional<store::Job>> get_job(std::int64_t /*id*/) override {
        return refused<std::optional<store::Job>>();
    }
    Result<std::vector<store::Job>> claim_runnable(TimePoint /*now*/,
                                                   std::size_t /*limit*/) override {
        return refused<std::vector<store::Job>>();
    }
    Result<store::Ok> complete(std::int64_t /*id*/, std::string_view /*note*/,
                               TimePoint /*now*/) override {
        return refused<store::Ok>();
    }
    Result<store::Ok> fail(std::int64_t /*id*/, std::string_view /*error*/,
                           TimePoint /*now*/) override {
        return refused<store::Ok>();
    }
    Result<store::Ok> reschedule(std::int64_t /*id*/, std::string_view /*error*/,
                                 TimePoint /*next_attempt_at*/, TimePoint /*now*/) override {
        return refused<store::Ok>();
    }
    Result<store::Ok> defer(std::int64_t /*id*/, TimePoint /*until*/, std::string_view /*note*/,
                            TimePoint /*now*/) override {
        return refused<store::Ok>();
    }
    Result<store::Ok> skip(std::int64_t /*id*/, std::string_view /*note*/,
                           TimePoint /*now*/) override {
        return refused<store::Ok>();
    }
    Result<store::SettleResult> settle(const std::vector<store::Transition>& /*transitions*/,
                                       const std::vector<std::string>& /*apps*/, TimePoint /*now*/,
                                       std::size_t /*claim_limit*/,
                                       store::ClaimScope /*scope*/) override {
        return refused<store::SettleResult>();
    }
    Result<store::Ok> retry(std::int64_t /*id*/, TimePoint /*now*/) override {
        return refused<store::Ok>();
    }
    Result<store::Ok> cancel(std::int64_t /*id*/, std::string_view /*note*/,
                             TimePoint /*now*/) override {
        return refused<store::Ok>();
    }
    Result<store::Ok> run_now(std::int64_t /*id*/, bool /*ignore_freeze*/,
                              std::string_view /*note*/, TimePoint /*now*/) override {
        return refused<store::Ok>();
    }
    Result<store::Ok> redefer(std::int64_t /*id*/, TimePoint /*until*/, std::string_view /*note*/,
                              TimePoint /*now*/) override {
        return refused<store::Ok>();
    }
    Result<std::vector<store::Attempt>> list_attempts(const store::JobFilter& /*filter*/) override {
        return refused<std::vector<store::Attempt>>();
    }
    Result<std::int64_t> recover_running(TimePoint /*now*/) override {
        return refused<std::int64_t>();
    }
    Result<std::optional<TimePoint>> next_wakeup() override {
        return refused<std::optional<TimePoint>>();
    }
    Result<std::optional<store::Delivery>> get_delivery(std::string_view /*id*/) override {
        return refused<std::optional<store::Delivery>>();
    }
    Result<std::int64_t> prune_payloads(TimePoint /*older_than*/) override {
        return refused<std::int64_t>();
    }
    Result<store::Stats> stats() override { return refused<store::Stats>(); }
    Result<store::SweepLock> try_lock_sweep(const store::SweepHolder& /*self*/) override {
        return refused<store::SweepLock>();
    }
    Result<store::Ok> unlock_sweep() override { return refused<store::Ok>(); }
    Result<store::MigrateResult> migrate() override { return refused<store::MigrateResult>(); }
    Result<int> schema_version() override { return refused<int>(); }

  private:
    template <class T>
    static Result<T> refused() {
        return Result<T>{Unexpected{store::StoreError{store::StoreError::Kind::other,
                                                      "the fuzz store only accepts deliveries"}}};
    }
};

}  // namespace linkpilot::fuzz
