#include "daemon/app/open_state.hpp"

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

std::unique_ptr<store::Store> open_state(const std::string& config_path, const char* command) {
    auto opened = open_config_and_state(config_path, command);
    return opened ? std::move(opened->store) : nullptr;
}

std::optional<ConfigAndState> open_config_and_state(const std::string& config_path,
                                                    const char* command) {
    const auto file = resolve_config_path(config_path);
    auto cfg = config::load_file(file);
    if (!cfg) {
        for (const auto& e : cfg.error()) {
            std::cerr << e.to_string() << "\n";
        }
        std::cerr << "linkpilot: " << command << ": invalid config " << file << "\n";
        return std::nullopt;
    }
    auto opened = open_store(cfg->state);
    if (!opened) {
        std::cerr << "linkpilot: " << command << ": " << describe_state(cfg->state) << ": "
                  << opened.error().message << "\n";
        return std::nullopt;
    }
    return ConfigAndState{std::move(*cfg), std::move(*opened)};
}

}  // namespace linkpilot::app
