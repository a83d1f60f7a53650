#include "daemon/app/open_state.hpp"

#include <filesystem>
#include <iostream>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/store/postgres_store.hpp"
#include "daemon/store/sqlite_store.hpp"

namespace linkpilot::app {
namespace {

constexpr const char* kDefaultStatePath = "/var/lib/linkpilot/state.db";

}  // namespace

store::Result<std::unique_ptr<store::Store>> open_store(const config::State& state, bool migrate) {
    if (state.url) {
        store::PostgresOptions options;
        options.url = std::string{state.url->reveal()};
        options.lease = std::chrono::duration_cast<std::chrono::milliseconds>(state.lease);
        options.migrate = migrate;
        return store::open_postgres(options);
    }
    store::SqliteOptions options;
    options.path = state.path.value_or(kDefaultStatePath);
    return store::open_sqlite(options);
}

std::string describe_state(const config::State& state) {
    if (state.url) {
        return store::redact_postgres_url(state.url->reveal());
    }
    return state.path.value_or(kDefaultStatePath).string();
}

std::optional<std::filesystem::path> config_file(const std::string& given, const char* command) {
    if (!given.empty()) {
        return given;
    }
    auto found = config::default_config_path();
    if (!found) {
        std::string tried;
        for (const auto& p : config::default_config_paths()) {
            tried += (tried.empty() ? "" : ", ") + p.string();
        }
        std::cerr << "linkpilot: " << command << ": no config file (tried " << tried
                  << "); give one with -c FILE\n";
    }
    return found;
}

std::optional<CommandConfig> load_command_config(const std::string& given, const char* command,
                                                 config::Needs needs) {
    const auto file = config_file(given, command);
    if (!file) {
        return std::nullopt;
    }
    auto loaded = config::load_file(*file, config::process_env(), needs);
    if (!loaded) {
        for (const auto& e : loaded.error()) {
            std::cerr << e.to_string() << "\n";
        }
        std::cerr << "linkpilot: " << command << ": invalid config " << file->string() << "\n";
        return std::nullopt;
    }
    return CommandConfig{file->string(), std::move(*loaded)};
}

std::unique_ptr<store::Store> open_state(const std::string& config_path, const char* command) {
    auto opened = open_config_and_state(config_path, command);
    return opened ? std::move(opened->store) : nullptr;
}

std::optional<ConfigAndState> open_config_and_state(const std::string& config_path,
                                                    const char* command) {
    auto cfg = load_command_config(config_path, command, config::kNeedsNoSecret);
    if (!cfg) {
        return std::nullopt;
    }
    auto opened = open_store(cfg->config.state);
    if (!opened) {
        std::cerr << "linkpilot: " << command << ": " << describe_state(cfg->config.state) << ": "
                  << opened.error().message << "\n";
        return std::nullopt;
    }
    return ConfigAndState{std::move(cfg->config), std::move(*opened)};
}

}  // namespace linkpilot::app
