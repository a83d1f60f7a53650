// `linkpilot migrate` (SPEC 1): applies the state store's schema migrations (the daemon also
// does at start) and prints the schema version.
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/app/open_state.hpp"
#include "daemon/store/sqlite_store.hpp"

namespace linkpilot::app {

namespace {

// PostgreSQL: connect without migrating to read the version, then migrate (under the store's
// advisory lock: replicas starting at the same time wait for each other).
int migrate_postgres(const config::State& state) {
    const auto where = describe_state(state);
    auto opened = open_store(state, /*migrate=*/false);
    if (!opened) {
        std::cerr << "linkpilot: migrate: " << where << ": " << opened.error().message << "\n";
        return kExitError;
    }
    auto& db = **opened;
    auto before = db.schema_version();
    if (!before) {
        std::cerr << "linkpilot: migrate: " << where << ": " << before.error().message << "\n";
        return kExitError;
    }
    auto migrated = db.migrate();
    if (!migrated) {
        std::cerr << "linkpilot: migrate: " << where << ": " << migrated.error().message << "\n";
        return kExitError;
    }
    std::cout << where << ": schema version " << migrated->to;
    if (*before == 0) {
        std::cout << " (created)";
    } else if (migrated->from == migrated->to) {
        std::cout << " (up to date)";
    } else {
        std::cout << " (migrated from " << migrated->from << ")";
    }
    std::cout << "\n";
    return kExitOk;
}

}  // namespace

int run_migrate(const MigrateOptions& o) {
    auto loaded = load_command_config(o.config, "migrate", config::kNeedsNoSecret);
    if (!loaded) {
        return kExitError;
    }
    const config::Config* cfg = &loaded->config;
    if (cfg->state.url) {
        return migrate_postgres(cfg->state);
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
