#pragma once

// The subcommands of SPEC section 1, as plain functions over option structs. Only cli.cpp
// knows CLI11; each command lives in daemon/app/cmd_<name>.cpp and returns the exit code.

#include <cstdint>
#include <optional>
#include <string>

namespace linkpilot::app {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitNotImplemented = 2;

struct ServeOptions {
    std::string config;
};
struct CheckOptions {
    std::string config;
};
struct ExplainOptions {
    std::string config;
    std::string provider;  // github | gitlab
    std::string event;     // header value
    std::string payload;   // file or "-"
    std::string delivery;  // explain a stored delivery instead
    bool json = false;
};
struct PruneOptions {
    std::string config;
    bool dry_run = false;
    bool json = false;
};
struct JobsOptions {
    std::string config;
    std::string state;  // pending | running | done | failed | cancelled | "" (all)
    std::string app;
    bool json = false;
};
// `jobs cancel ID` and `jobs run-now ID [--ignore-freeze]`.
struct JobControlOptions {
    std::string config;
    std::string job_id;
    bool ignore_freeze = false;
};
struct RetryOptions {
    std::string config;
    std::string job_id;
};
struct SimulateOptions {
    std::string listen;
    std::string state;
    std::string seed;
    std::string token;
    std::string rate_limit;  // "N/min"
    std::string tls_cert;
    std::string tls_key;
};
struct MigrateOptions {
    std::string config;
};

int run_serve(const ServeOptions& o);
int run_check(const CheckOptions& o);
int run_explain(const ExplainOptions& o);
int run_prune(const PruneOptions& o);
int run_jobs(const JobsOptions& o);
int run_jobs_cancel(const JobControlOptions& o);
int run_jobs_run_now(const JobControlOptions& o);

// A job id as given on the command line (a positive integer), or nullopt.
std::optional<std::int64_t> parse_job_id(const std::string& text);
int run_retry(const RetryOptions& o);
int run_simulate(const SimulateOptions& o);
int run_migrate(const MigrateOptions& o);
int run_version();

// Entry point used by main.cpp.
int run_cli(int argc, char** argv);

}  // namespace linkpilot::app
