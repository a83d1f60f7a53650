#include <boost/version.hpp>
#include <iostream>

#include "daemon/app/commands.hpp"
#include "linkpilot_version.hpp"

namespace linkpilot::app {

int run_version() {
    std::cout << "linkpilot " << kVersion << "\n"
              << "build: " << kBuildType << ", " << kCompiler << ", Boost "
              << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000 << "\n";
    return kExitOk;
}

}  // namespace linkpilot::app
