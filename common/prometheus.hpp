#pragma once

// Prometheus text format helpers shared by the components that render their own metrics.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

namespace linkpilot {

// Appends one histogram: its HELP and TYPE lines, a bucket per bound from `cumulative` (counts
// of observations <= that bound, already cumulative, as Prometheus wants them), the +Inf bucket
// (= count), _sum and _count.
template <class Bounds, class Counts>
void append_histogram(std::string& out, std::string_view name, std::string_view help,
                      const Bounds& bounds, const Counts& cumulative, double sum,
                      std::uint64_t count) {
    auto it = std::back_inserter(out);
    fmt::format_to(it, "# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        fmt::format_to(it, "{}_bucket{{le=\"{}\"}} {}\n", name, bounds[i], cumulative[i]);
    }
    fmt::format_to(it, "{}_bucket{{le=\"+Inf\"}} {}\n", name, count);
    fmt::format_to(it, "{}_sum {}\n{}_count {}\n", name, sum, name, count);
}

}  // namespace linkpilot
