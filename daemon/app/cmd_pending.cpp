// Subcommands whose issues have not landed yet: each answers "not implemented yet" (exit 2).
// When one lands, its function moves to its own cmd_<name>.cpp and leaves this file.
#include <iostream>

#include "daemon/app/commands.hpp"

namespace linkpilot::app {

namespace {
int not_yet(const char* name) {
    std::cerr << "linkpilot: " << name << ": not implemented yet\n";
    return kExitNotImplemented;
}
}  // namespace

int run_prune(const PruneOptions&) { return not_yet("prune"); }

}  // namespace linkpilot::app
