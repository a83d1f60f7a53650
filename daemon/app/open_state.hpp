#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "config/config.hpp"
#include "config/load.hpp"
#include "daemon/store/store.hpp"

namespace linkpilot::app {

// The state store the config names: PostgreSQL when state.url is set, else the SQLite file
// state.path (default /var/lib/linkpilot/state.db). Opening migrates the schema unless
// `migrate` is false (read-only commands against a database another version owns).
store::Result<std::unique_ptr<store::Store>> open_store(const config::State& state,
                                                        bool migrate = true);

// The store for messages and logs: the SQLite path, or the PostgreSQL URL without password.
std::string describe_state(const config::State& state);

struct CommandConfig {
    std::string path;  // the file it came from
    config::Config config;
};

// The file given with -c, else the first of SPEC 1's default paths that exists; nullopt, with
// a line on stderr naming every path tried, when there is none.
std::optional<std::filesystem::path> config_file(const std::string& given, const char* command);

// The config of `command`, from config_file(). Reads only the secrets in `needs`. On error
// prints every problem, then "linkpilot: COMMAND: ..." on stderr, and returns nullopt.
std::optional<CommandConfig> load_command_config(const std::string& given, const char* command,
                                                 config::Needs needs);

// For the CLI commands that read or change the state store (`jobs`, `retry`, `explain`): loads
// the config (no secret read) and opens its store. On error prints the reason on stderr and
// returns nullptr.
std::unique_ptr<store::Store> open_state(const std::string& config_path, const char* command);

struct ConfigAndState {
    config::Config config;
    std::unique_ptr<store::Store> store;
};
// As open_state, keeping the config for commands that read more of it (`jobs run-now` reads
// the freeze windows). nullopt on error, with the reason on stderr.
std::optional<ConfigAndState> open_config_and_state(const std::string& config_path,
                                                    const char* command);

}  // namespace linkpilot::app
