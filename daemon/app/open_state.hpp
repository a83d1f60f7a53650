#pragma once

#include <memory>
#include <string>

#include "daemon/store/store.hpp"

namespace linkpilot::app {

// For the CLI commands that read or change the state store (`jobs`, `retry`): loads the config
// and opens its store. On error prints the reason on stderr and returns nullptr.
std::unique_ptr<store::Store> open_state(const std::string& config_path, const char* command);

}  // namespace linkpilot::app
