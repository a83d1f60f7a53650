#include <iostream>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/app/open_state.hpp"

namespace linkpilot::app {

int run_check(const CheckOptions& o) {
    const auto found = config_file(o.config, "check");
    if (!found) {
        return kExitError;
    }
    const std::string file = found->string();
    // Everything serve needs, secrets included: a config check passes iff serve would start.
    auto loaded = config::load_file(file, config::process_env(), config::kNeedsAll);
    if (!loaded) {
        for (const auto& e : loaded.error()) {
            std::cout << e.to_string() << "\n";
        }
        auto n = loaded.error().size();
        std::cerr << "linkpilot: check: " << n << " problem" << (n == 1 ? "" : "s") << " in "
                  << file << "\n";
        return kExitError;
    }
    for (const auto& w : loaded->warnings) {
        std::cerr << w << "\n";
    }
    std::cout << file << ": ok: " << config::summary(*loaded) << "\n";
    return kExitOk;
}

}  // namespace linkpilot::app
