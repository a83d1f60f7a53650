#include <iostream>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"

namespace linkpilot::app {

int run_check(const CheckOptions& o) {
    auto file = resolve_config_path(o.config);
    auto loaded = config::load_file(file);
    if (!loaded) {
        for (const auto& e : loaded.error()) {
            std::cout << e.to_string() << "\n";
        }
        auto n = loaded.error().size();
        std::cerr << "linkpilot: check: " << n << " problem" << (n == 1 ? "" : "s") << " in "
                  << file << "\n";
        return kExitError;
    }
    std::cout << file << ": ok: " << config::summary(*loaded) << "\n";
    return kExitOk;
}

}  // namespace linkpilot::app
