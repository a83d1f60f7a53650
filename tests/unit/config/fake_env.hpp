#pragma once

// An environment for the config loader's injectable lookup: only `vars` exist.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "config/load.hpp"

namespace linkpilot::testing {

inline config::EnvLookup fake_env(std::map<std::string, std::string> vars = {}) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        if (it == vars.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

}  // namespace linkpilot::testing
