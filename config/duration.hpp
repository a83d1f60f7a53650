#pragma once

// Durations in the config file: a number and a unit, repeated ("1h30m").

#include <optional>
#include <string_view>

#include "config/config.hpp"

namespace linkpilot::config {

// Parses "30s", "15m", "1h30m", "7d", "250ms" (units ms, s, m, h, d; at most ten years per
// term). Nothing else: no sign, no fraction, no space, no bare number.
std::optional<Duration> parse_duration(std::string_view text);

}  // namespace linkpilot::config
