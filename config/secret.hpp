#pragma once

// A secret (webhook secret, API token) that never prints its value: logs, errors and `check`
// output show `***`. Reading it takes an explicit `reveal()`.

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace linkpilot::config {

class Secret {
  public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}

    [[nodiscard]] std::string_view reveal() const { return value_; }
    [[nodiscard]] bool empty() const { return value_.empty(); }

    friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "***"; }

  private:
    std::string value_;
};

}  // namespace linkpilot::config

template <>
struct fmt::formatter<linkpilot::config::Secret> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const linkpilot::config::Secret&, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format("***", ctx);
    }
};
