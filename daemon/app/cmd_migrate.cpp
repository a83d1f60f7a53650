// `linkpilot migrate` (SPEC 1): applies the state store's schema migrations (the daemon also
// does at start) and prints the schema version.
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/store/sqlite_store.hpp"

namespace linkpilot::app {

int run_migrate(const MigrateOptions& o) {
    const auto file = resolve_config_path(o.config);
    auto cfg = config::load_file(file);
    if (!cfg) {
        for (const auto& e : cfg.error()) {
            std::cerr << e.to_string() << "\n";
        }
        std::cerr << "linkpilot: migrate: invalid config " << file << "\n";
        return kExitError;
    }
    if (cfg->state.url && !cfg->state.path) {
        std::cerr << "linkpilot: migrate: PostgreSQL state is not supported yet\n";
        return kExitError;
    }
    store::SqliteOptions options;
    options.path = cfg->state.path.value_or("/var/lib/linkpilot/state.db");

    // The version before migrating, when the file exists and can be read as is (opening it
    // read-write migrates at once, so look first).
    std::error_code ec;
    const bool existed = std::filesystem::exists(options.path, ec);
    std::optional<int> before;
    if (existed) {
        auto ro_options = options;
        ro_options.read_only = true;
        if (auto ro = store::open_sqlite(ro_options)) {
            if (auto v = (*ro)->schema_version()) {
                before = *v;
            }
        }
    }

    auto opened = store::open_sqlite(options);
    if (!opened) {
        std::cerr << "linkpilot: migrate: " << options.path.string() << ": "
                  << opened.error().message << "\n";
        return kExitError;
    }
    auto& db = **opened;
    auto migrated = db.migrate();
    if (!migrated) {
        std::cerr << "linkpilot: migrate: " << migrated.error().message << "\n";
        return kExitError;
    }
    auto version = db.schema_version();
    if (!version) {
        std::cerr << "linkpilot: migrate: " << version.error().message << "\n";
        return kExitError;
    }
    std::cout << options.path.string() << ": schema version " << *version;
    if (!existed) {
        std::cout << " (created)";
    } else if (before && *before == *version) {
        std::cout << " (up to date)";
    } else if (before) {
        std::cout << " (migrated from " << *before << ")";
    } else {
        std::cout << " (migrated)";
    }
    std::cout << "\n";
    return kExitOk;
}

}  // namespace linkpilot::app
