#pragma once

// The reliability tests' knobs: their short mode runs in ctest, scripts/reliability sets these
// variables for the long mode.

#include <cstdlib>
#include <string>

namespace linkpilot::testing {

// The integer in environment variable `name`, or `fallback` when unset or empty.
inline int env_int(const char* name, int fallback) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any test thread starts
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::stoi(v) : fallback;
}

}  // namespace linkpilot::testing
