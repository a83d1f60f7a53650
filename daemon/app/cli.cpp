// The command line (SPEC 1). The only translation unit that includes CLI11.
#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"

namespace linkpilot::app {

namespace {

void add_config(CLI::App* cmd, std::string& path) {
    cmd->add_option("-c,--config", path,
                    "config file (default ./linkpilot.yaml, then /etc/linkpilot/linkpilot.yaml)");
}

struct AllOptions {
    ServeOptions serve;
    CheckOptions check;
    ExplainOptions explain;
    PruneOptions prune;
    JobsOptions jobs;
    JobControlOptions job_control;
    RetryOptions retry;
    SimulateOptions simulate;
    MigrateOptions migrate;
};

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App root{"linkpilot: webhook-driven deployment automation for Scalingo", "linkpilot"};
    root.require_subcommand(1);
    AllOptions o;
    std::function<int()> run;

    auto* serve = root.add_subcommand("serve", "run the daemon (foreground; logs to stderr)");
    add_config(serve, o.serve.config);
    serve->callback([&] { run = [&] { return run_serve(o.serve); }; });

    auto* check = root.add_subcommand("check", "validate the config: FILE:LINE:COL: message");
    add_config(check, o.check.config);
    check->callback([&] { run = [&] { return run_check(o.check); }; });

    auto* explain = root.add_subcommand(
        "explain", "evaluate the rules on one payload (or a received delivery); calls nothing");
    add_config(explain, o.explain.config);
    explain->add_option("--provider", o.explain.provider, "github or gitlab")
        ->check(CLI::IsMember({"github", "gitlab"}));
    explain->add_option("--event", o.explain.event,
                        "event header (X-GitHub-Event, X-Gitlab-Event)");
    explain->add_option("--delivery", o.explain.delivery, "a delivery id already received");
    explain->add_flag("--json", o.explain.json, "one JSON document");
    explain->add_option("payload", o.explain.payload, "payload file, or - for stdin");
    explain->callback([&] { run = [&] { return run_explain(o.explain); }; });

    auto* prune = root.add_subcommand("prune", "one review-app pruning sweep now");
    add_config(prune, o.prune.config);
    prune->add_flag("--dry-run", o.prune.dry_run, "report what would be deleted; delete nothing");
    prune->add_flag("--json", o.prune.json, "machine-readable output");
    prune->callback([&] { run = [&] { return run_prune(o.prune); }; });

    auto* jobs = root.add_subcommand("jobs", "list jobs from the state store (or cancel, run-now)");
    add_config(jobs, o.jobs.config);
    jobs->add_option("--state", o.jobs.state, "pending, running, done, failed or cancelled")
        ->check(CLI::IsMember({"pending", "running", "done", "failed", "cancelled"}));
    jobs->add_option("--app", o.jobs.app, "only this app's jobs");
    jobs->add_flag("--json", o.jobs.json, "JSON array");
    jobs->require_subcommand(0, 1);
    // `-c` after the operator controls' job id as well as before them.
    auto job_control = [&] {
        if (o.job_control.config.empty()) {
            o.job_control.config = o.jobs.config;
        }
        return o.job_control;
    };
    auto* cancel =
        jobs->add_subcommand("cancel", "cancel a pending job (who and when go in its note)");
    add_config(cancel, o.job_control.config);
    cancel->add_option("job_id", o.job_control.job_id, "job id")->required();
    cancel->callback([&] { run = [&] { return run_jobs_cancel(job_control()); }; });
    auto* run_now =
        jobs->add_subcommand("run-now", "make a pending job due now (who and when go in its note)");
    add_config(run_now, o.job_control.config);
    run_now->add_option("job_id", o.job_control.job_id, "job id")->required();
    run_now->add_flag("--ignore-freeze", o.job_control.ignore_freeze,
                      "run it even inside a freeze window (recorded in the job)");
    run_now->callback([&] { run = [&] { return run_jobs_run_now(job_control()); }; });
    // CLI11 runs a parent's callback after its subcommand's: listing only without one.
    jobs->callback([&, jobs] {
        if (jobs->get_subcommands().empty()) {
            run = [&] { return run_jobs(o.jobs); };
        }
    });

    auto* retry =
        root.add_subcommand("retry", "put a failed (dead-lettered) job back in the queue");
    add_config(retry, o.retry.config);
    retry->add_option("job_id", o.retry.job_id, "job id")->required();
    retry->callback([&] { run = [&] { return run_retry(o.retry); }; });

    auto* sim = root.add_subcommand("simulate-scalingo", "run the bundled Scalingo API simulator");
    sim->add_option("--listen", o.simulate.listen, "ADDR (host:port; port 0 picks one)")
        ->required();
    sim->add_option("--state", o.simulate.state, "persist state in FILE across restarts");
    sim->add_option("--seed", o.simulate.seed, "load apps, links, review apps, pulls from FILE");
    sim->add_option("--token", o.simulate.token, "the one API token accepted (default: any)");
    sim->add_option("--rate-limit", o.simulate.rate_limit, "N/min: answer 429 past it");
    sim->add_option("--tls-cert", o.simulate.tls_cert, "serve HTTPS with this PEM certificate");
    sim->add_option("--tls-key", o.simulate.tls_key, "PEM private key for --tls-cert");
    sim->callback([&] { run = [&] { return run_simulate(o.simulate); }; });

    auto* migrate = root.add_subcommand("migrate", "apply and show the state schema version");
    add_config(migrate, o.migrate.config);
    migrate->callback([&] { run = [&] { return run_migrate(o.migrate); }; });

    auto* version = root.add_subcommand("version", "print version and build info");
    version->callback([&] { run = [] { return run_version(); }; });

    try {
        root.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return root.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return root.exit(e);
    } catch (const CLI::ParseError& e) {
        // One line on stderr, as SPEC 1 asks.
        std::cerr << "linkpilot: " << e.what() << " (see --help)\n";
        return kExitError;
    }
    if (!run) {
        std::cerr << "linkpilot: no command given (see --help)\n";
        return kExitError;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::cerr << "linkpilot: " << e.what() << "\n";
        return kExitError;
    }
}

}  // namespace linkpilot::app
