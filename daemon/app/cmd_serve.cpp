// `linkpilot serve`: wires the stages together (config -> store -> ingress -> jobs) and runs
// them until SIGTERM/SIGINT (drain, exit 0). SIGHUP reloads the config.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <iostream>
#include <random>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common/clock.hpp"
#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/app/config_watch.hpp"
#include "daemon/app/logging.hpp"
#include "daemon/app/open_state.hpp"
#include "daemon/app/systemd_notify.hpp"
#include "daemon/ingress/server.hpp"
#include "daemon/jobs/executor.hpp"
#include "daemon/jobs/metrics.hpp"
#include "daemon/pruner/sweeper.hpp"
#include "daemon/scalingo/client.hpp"
#include "daemon/store/group_commit.hpp"

namespace linkpilot::app {

namespace net = boost::asio;

namespace {

constexpr std::chrono::seconds kDrainTimeout{10};
// How long a changed config file must stay quiet before it is read (editors and kubelet write
// in several steps).
constexpr std::chrono::milliseconds kConfigSettle{250};

// glibc returns free memory at the top of a heap to the kernel once it exceeds 128 KiB. One
// batch of deliveries (payloads of ~10 KiB each, copied to the store's thread and freed there)
// crosses that every time, so each batch was trimmed with madvise and faulted back in by the
// next: a quarter of the store thread's CPU under load, most of it page faults and the
// cross-CPU TLB flushes madvise sends. Keeping up to 16 MiB does not raise peak RSS (the batch
// is resident at its peak either way), only how long freed pages stay mapped.
void keep_freed_memory_mapped() {
#if defined(__GLIBC__)
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the first thing serve does, before any thread
    mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
    // Setting the trim threshold freezes glibc's adaptive mmap threshold at 128 KiB; request
    // bodies and batches up to 1 MiB stay on the heap instead of an mmap/munmap pair each.
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);  // NOLINT(concurrency-mt-unsafe): as above
#endif
}

// Which webhook endpoints answer, and a warning for every weakened guarantee (SPEC 3: unsigned
// deliveries are warned about at every start), logged at start and after each reload.
void log_endpoints(spdlog::logger& log, const config::Config& cfg) {
    for (const auto& [name, p] :
         {std::pair{"github", &cfg.providers.github}, std::pair{"gitlab", &cfg.providers.gitlab}}) {
        if (!p->configured()) {
            log.info("webhooks: /webhooks/{} is off (no providers.{} secret): it answers 404", name,
                     name);
        }
    }
    for (const auto& w : cfg.warnings) {
        log.warn("config: {}", w);
    }
}

}  // namespace

int run_serve(const ServeOptions& o) {
    keep_freed_memory_mapped();
    auto loaded = load_command_config(o.config, "serve", config::kNeedsAll);
    if (!loaded) {
        return kExitError;
    }
    const std::string path = loaded->path;
    auto cfg = std::make_shared<const config::Config>(std::move(loaded->config));
    auto log = make_logger("linkpilot", cfg->log.format);
    SystemClock clock;

    auto opened = open_store(cfg->state);
    if (!opened) {
        std::cerr << "linkpilot: serve: cannot open the state store " << describe_state(cfg->state)
                  << ": " << opened.error().message << "\n";
        return kExitError;
    }
    store::GroupCommitter committer(std::move(*opened), clock);

    // One I/O thread runs the ingress, the job executor and the Scalingo client (the client is
    // not thread-safe, and the executor's strand lives on this context); SQLite runs on the
    // committer's own thread.
    net::io_context ioc(1);
    // Caught from here on and queued until the handler below waits: a SIGTERM that arrives
    // once "listening on" is logged, before that handler exists, must drain, not kill.
    net::signal_set signals(ioc, SIGINT, SIGTERM, SIGHUP);
    auto client = scalingo::make_api(cfg->scalingo, clock, ioc.get_executor(), log,
                                     cfg->jobs.max_concurrency);
    if (!client) {
        std::cerr << "linkpilot: serve: scalingo: " << client.error() << "\n";
        committer.stop();
        return kExitError;
    }
    jobs::Executor executor(committer, client->api(), clock,
                            jobs::executor_options_from(*cfg, std::random_device{}()), log,
                            ioc.get_executor());

    // SPEC 6: a pruning sweep at start and every prune.every; its deletions are jobs.
    pruner::Metrics prune_metrics;
    pruner::Sweeper sweeper(client->api(), &committer, clock, prune_metrics, log);
    pruner::SweepLoop prune_loop(
        sweeper, [&cfg] { return cfg; }, [&executor] { executor.notify(); }, ioc.get_executor());

    ingress::Server server(ioc, committer, clock, log);
    // The config's bytes as last read: a delivery's verdicts name it, and reload compares it.
    std::string fingerprint = fingerprint_file(path);
    server.set_config(cfg, fingerprint);
    server.on_jobs_queued(
        [&executor](std::vector<std::string> apps) { executor.notify(std::move(apps)); });
    // Runs on the I/O thread, like the executor's strand, so its counters are read in place.
    server.on_metrics([&](std::string& out) -> net::awaitable<void> {
        executor.metrics().render_prometheus(out);
        client->client->metrics().render_prometheus(out);
        prune_metrics.render_prometheus(out);
        store::render_prometheus(committer.stats(), out);
        auto stats_op = committer.run([](store::Store& s) { return s.stats(); });
        auto stats = co_await std::move(stats_op);
        if (stats) {
            jobs::render_store_stats(*stats, clock.now(), out);
        }
    });
    // systemd socket activation (linkpilot.socket) replaces binding server.listen.
    auto inherited = inherited_listen_fd();
    if (!inherited) {
        std::cerr << "linkpilot: serve: " << inherited.error() << "\n";
        committer.stop();
        return kExitError;
    }
    auto bound = server.listen(*inherited);
    if (!bound) {
        std::cerr << "linkpilot: serve: " << bound.error() << "\n";
        committer.stop();
        return kExitError;
    }
    server.start();
    log->info("listening on {}://{}:{} (config {}, state {})", cfg->server.tls ? "https" : "http",
              bound->address().is_v6() ? "[" + bound->address().to_string() + "]"
                                       : bound->address().to_string(),
              bound->port(), path, describe_state(cfg->state));
    if (*inherited >= 0) {
        log->info(
            "listener: socket fd {} inherited from systemd (socket activation); "
            "server.listen {} is not used",
            *inherited, cfg->server.listen.to_string());
    } else {
        log->info("listener: bound server.listen {}", cfg->server.listen.to_string());
    }
    log->info("scalingo: {}{}", cfg->scalingo.api_url,
              cfg->scalingo.dry_run ? " (dry run: calls are logged, not made)" : "");
    log_endpoints(*log, *cfg);

    // The executor's run() ends after stop() and its drain; `jobs_done` lets the signal
    // handler wait for that before stopping the loop.
    bool jobs_finished = false;
    net::steady_timer jobs_done(ioc);
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            if (auto n = co_await executor.recover(); n > 0) {
                log->warn(
                    "{} job(s) left running by an earlier stop are pending again "
                    "(at-least-once)",
                    n);
            }
            co_await executor.run();
        },
        [&](const std::exception_ptr& e) {
            if (e) {
                log->critical("jobs: the executor stopped on an internal error");
            }
            jobs_finished = true;
            jobs_done.cancel();
        });
    net::co_spawn(ioc, prune_loop.run(), [&](const std::exception_ptr& e) {
        if (e) {
            log->critical("prune: the sweep loop stopped on an internal error");
        }
    });
    // The STATUS= detail runs on the I/O thread, like the executor's strand.
    SystemdNotifier systemd(ioc.get_executor(), [&executor] {
        return std::to_string(executor.in_flight()) + " job(s) in flight";
    });

    // SIGHUP and a change of the file both come here. `fingerprint` is the last content
    // looked at, applied or rejected, so a watched file that did not really change (or
    // still has the same error) is not reloaded and logged again.
    auto reload = [&](std::string_view why, bool even_if_unchanged) {
        const auto seen = fingerprint_file(path);
        if (!even_if_unchanged && seen == fingerprint) {
            return;
        }
        fingerprint = seen;
        auto next = config::load_file(path, config::process_env(), config::kNeedsAll);
        if (!next) {
            for (const auto& e : next.error()) {
                log->error("reload: {}", e.to_string());
            }
            log->error("reload ({}): {} problem(s); the running config stays in force", why,
                       next.error().size());
            return;
        }
        if (next->server.listen.to_string() != cfg->server.listen.to_string()) {
            log->warn("reload: server.listen changed; restart to apply it");
        }
        if (next->scalingo.api_url != cfg->scalingo.api_url ||
            next->scalingo.auth_url != cfg->scalingo.auth_url ||
            next->scalingo.dry_run != cfg->scalingo.dry_run) {
            log->warn("reload: scalingo settings changed; restart to apply them");
        }
        if (next->log.format != cfg->log.format) {
            log->warn("reload: log.format changed; restart to apply it");
        }
        cfg = std::make_shared<const config::Config>(std::move(*next));
        server.set_config(cfg, seen);
        executor.reconfigure(*cfg);
        log->info("reload ({}): config {} applied ({})", why, path, config::summary(*cfg));
        log_endpoints(*log, *cfg);
    };

    // A bind-mounted or ConfigMap config reloads on change; SIGHUP works everywhere.
    auto watcher = ConfigWatcher::create(ioc.get_executor(), path, kConfigSettle);
    if (watcher) {
        net::co_spawn(
            ioc, (*watcher)->run([&reload] { reload("file changed", false); }),
            [&](const std::exception_ptr& e) {
                if (e) {
                    log->error("config watch stopped on an internal error; SIGHUP still reloads");
                }
            });
        log->info("config: watching {} for changes (SIGHUP also reloads)", path);
    } else {
        log->warn("config: {}; reload with SIGHUP", watcher.error());
    }

    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            for (;;) {
                int sig = co_await signals.async_wait(net::use_awaitable);
                if (sig == SIGHUP) {
                    reload("SIGHUP", true);
                    continue;
                }
                log->info("received {}; draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                systemd.stopping();
                prune_loop.stop();
                if (watcher) {
                    (*watcher)->stop();
                }
                // No new Scalingo call starts from here (jobs not yet claimed stay pending),
                // while the ingress still answers the requests it has started.
                executor.stop();
                co_await server.drain(kDrainTimeout);
                while (!jobs_finished) {
                    jobs_done.expires_after(std::chrono::hours(1));
                    co_await jobs_done.async_wait(net::as_tuple(net::use_awaitable));
                }
                signals.cancel();
                systemd.stop();
                ioc.stop();
                co_return;
            }
        },
        net::detached);
    // After the signal handlers: a SIGTERM right after READY=1 must drain, not kill.
    systemd.ready();

    ioc.run();
    committer.stop();
    log->info("stopped");
    return kExitOk;
}

}  // namespace linkpilot::app
