#pragma once

// One pruning sweep (SPEC 6): for each app of `prune.apps`, list its review apps through the
// Scalingo API (every page), choose with `select` (policy.hpp), log every decision, and, unless
// dry run, store the deletions as `delete_review_app` jobs of that parent app in ONE accept with
// a synthetic delivery (provider "linkpilot", event "prune"). The deletions then run through the
// durable queue like any job: after a crash they resume, and they run one at a time with the
// parent's other jobs (a review app being created for a PR is never raced by its deletion).
//
// A listing error aborts that app's sweep (nothing is deleted for it) and the next app goes on.
// The budget of max_deletions_per_sweep is shared by all apps of one sweep, in config order.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "config/config.hpp"
#include "daemon/pruner/metrics.hpp"
#include "daemon/pruner/policy.hpp"
#include "daemon/scalingo/api.hpp"
#include "daemon/store/group_commit.hpp"

namespace spdlog {
class logger;
}

namespace linkpilot::pruner {

inline constexpr std::string_view kProvider = "linkpilot";
inline constexpr std::string_view kEvent = "prune";
inline constexpr std::string_view kRule = "prune";

struct AppSweep {
    std::string app;
    // The listing (or the enqueue) failed: nothing is deleted for this app in this sweep.
    std::optional<std::string> error;
    Plan plan;
    std::string delivery_id;            // real run with deletions: the synthetic delivery
    std::vector<std::int64_t> job_ids;  // real run: one per deletion, in plan order
};

struct SweepReport {
    TimePoint started_at{};
    std::chrono::steady_clock::duration took{};
    bool dry_run = false;
    // Not swept: another process sharing the state holds the sweep lock (`held_by` names it),
    // or the lock could not be taken (`lock_error`). `apps` is then empty.
    bool skipped = false;
    std::string held_by;
    std::string lock_error;
    std::vector<AppSweep> apps;

    [[nodiscard]] bool ok() const;                // every app listed (and enqueued)
    [[nodiscard]] std::size_t deletions() const;  // chosen (dry run) or queued (real run)
};

class Sweeper {
  public:
    // `committer` may be null for a dry-run-only sweeper (`linkpilot prune --dry-run` opens no
    // store). Everything passed must outlive the sweeper; `metrics` may be shared by sweepers.
    Sweeper(scalingo::Api& api, store::GroupCommitter* committer, const Clock& clock,
            Metrics& metrics, std::shared_ptr<spdlog::logger> log);

    // One sweep now. `dry_run` (or a null committer) only reports: no job is stored and no
    // mutating call is made (the listing GETs still go out). `command` is what this process
    // is (`prune`; SweepLoop says `serve`), for another one its sweep lock refuses.
    boost::asio::awaitable<SweepReport> sweep(const config::Prune& cfg, bool dry_run,
                                              std::string_view command = "prune");

  private:
    boost::asio::awaitable<void> sweep_app(const config::Prune& cfg, const std::string& app,
                                           bool dry_run, std::size_t& budget, AppSweep& out);
    boost::asio::awaitable<std::vector<std::string>> queued_deletions(const std::string& app);

    scalingo::Api& api_;
    store::GroupCommitter* committer_;
    const Clock& clock_;
    Metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
};

// `serve`'s loop: a sweep every `prune.every` (the first one `prune.every` after start), reading
// the current config each time (a reload applies at the next sweep; no `prune:` means no
// sweep). `after_enqueue` runs when a sweep stored deletion jobs (the executor's notify).
class SweepLoop {
  public:
    using ConfigSource = std::function<std::shared_ptr<const config::Config>()>;

    SweepLoop(Sweeper& sweeper, ConfigSource config, std::function<void()> after_enqueue,
              const boost::asio::any_io_executor& io);

    boost::asio::awaitable<void> run();
    // Ends run() at its next wait (a sweep in progress finishes first).
    void stop();

  private:
    Sweeper& sweeper_;
    ConfigSource config_;
    std::function<void()> after_enqueue_;
    boost::asio::steady_timer timer_;
    bool stopping_ = false;
};

}  // namespace linkpilot::pruner
