#include "daemon/app/open_state.hpp"

#include <iostream>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/store/sqlite_store.hpp"

namespace linkpilot::app {

std::unique_ptr<store::Store> open_state(const std::string& config_path, const char* command) {
    const auto file = resolve_config_path(config_path);
    auto cfg = config::load_file(file);
    if (!cfg) {
        for (const auto& e : cfg.error()) {
            std::cerr << e.to_string() << "\n";
        }
        std::cerr << "linkpilot: " << command << ": invalid config " << file << "\n";
        return nullptr;
    }
    if (cfg->state.url && !cfg->state.path) {
        std::cerr << "linkpilot: " << command << ": PostgreSQL state is not supported yet\n";
        return nullptr;
    }
    store::SqliteOptions options;
    options.path = cfg->state.path.value_or("/var/lib/linkpilot/state.db");
    auto opened = store::open_sqlite(options);
    if (!opened) {
        std::cerr << "linkpilot: " << command << ": " << options.path.string() << ": "
                  << opened.error().message << "\n";
        return nullptr;
    }
    return std::move(*opened);
}

}  // namespace linkpilot::app
