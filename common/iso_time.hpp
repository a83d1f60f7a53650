#pragma once

// Timestamps as every command prints them: UTC, to the second, "2026-12-07T22:00:00Z".

#include <date/date.h>

#include <chrono>
#include <string>

namespace linkpilot {

inline std::string iso_time(std::chrono::system_clock::time_point t) {
    return date::format("%FT%TZ", date::floor<std::chrono::seconds>(t));
}

}  // namespace linkpilot
