#include <iostream>

#include "daemon/app/commands.hpp"

namespace linkpilot::app {

int run_simulate(const SimulateOptions&) {
    std::cerr << "linkpilot: simulate-scalingo: not implemented yet\n";
    return kExitNotImplemented;
}

}  // namespace linkpilot::app
