#include "daemon/scalingo/types.hpp"

#include <charconv>

namespace linkpilot::scalingo {

std::string review_app_name(std::string_view parent, std::uint64_t pull_request) {
    return std::string(parent) + "-pr" + std::to_string(pull_request);
}

std::optional<std::uint64_t> review_app_number(std::string_view parent, std::string_view name) {
    constexpr std::string_view kInfix = "-pr";
    if (!name.starts_with(parent) || !name.substr(parent.size()).starts_with(kInfix)) {
        return std::nullopt;
    }
    name.remove_prefix(parent.size() + kInfix.size());
    std::uint64_t n = 0;
    const auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (ec != std::errc{} || ptr != name.data() + name.size() || n == 0) {
        return std::nullopt;
    }
    return n;
}

}  // namespace linkpilot::scalingo
