#include "config/duration.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>

namespace linkpilot::config {

std::optional<Duration> parse_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    Duration total{0};
    while (!text.empty()) {
        std::uint64_t n = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc{} || p == text.data()) {
            return std::nullopt;
        }
        text.remove_prefix(static_cast<std::size_t>(p - text.data()));
        std::size_t unit_len = 0;
        while (unit_len < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_len]))) {
            ++unit_len;
        }
        auto unit = text.substr(0, unit_len);
        text.remove_prefix(unit_len);
        constexpr std::uint64_t kMax = 10ULL * 365 * 24 * 3600 * 1000;  // ten years, in ms
        std::uint64_t ms_per = 0;
        if (unit == "ms") {
            ms_per = 1;
        } else if (unit == "s") {
            ms_per = 1000;
        } else if (unit == "m") {
            ms_per = 60'000;
        } else if (unit == "h") {
            ms_per = 3'600'000;
        } else if (unit == "d") {
            ms_per = 86'400'000;
        } else {
            return std::nullopt;
        }
        if (n > kMax / ms_per) {
            return std::nullopt;
        }
        total += Duration(static_cast<Duration::rep>(n * ms_per));
    }
    return total;
}

}  // namespace linkpilot::config
