#pragma once

// YAML -> config::Config in one pass, no raw stage: each section (config/load_*.cpp) reads its
// keys from one table, converting and checking each value at its mark, `${VAR}` expanded as read;
// checks across keys follow the table. Every problem is collected, with FILE:LINE:COL.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"
#include "config/config.hpp"
#include "config/duration.hpp"  // parse_duration, for the callers of this header

namespace linkpilot::config {

struct Error {
    std::string file;
    int line = 0;  // 1-based
    int col = 0;   // 1-based
    std::string message;
    [[nodiscard]] std::string to_string() const;  // "FILE:LINE:COL: message"
};

// Looks up environment variables; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
EnvLookup process_env();

// Which secrets the command loading the config uses (SPEC 1: the commands that only read the
// state store never need the Scalingo token or the webhook secrets). A secret not needed is
// not expanded nor read, so an unset variable or an unreadable file is no error; its value is
// left empty. The shape of the file is checked all the same.
struct Needs {
    // serve and check. Also checks that a configured provider can deliver to every rule.
    bool webhook_secrets = true;
    bool scalingo_token = true;  // serve, check, prune
};
inline constexpr Needs kNeedsAll{};
inline constexpr Needs kNeedsScalingoToken{.webhook_secrets = false, .scalingo_token = true};
inline constexpr Needs kNeedsNoSecret{.webhook_secrets = false, .scalingo_token = false};

Expected<Config, std::vector<Error>> load_file(const std::filesystem::path& file,
                                               const EnvLookup& env = process_env(),
                                               Needs needs = kNeedsAll);
Expected<Config, std::vector<Error>> load_string(std::string_view yaml, std::string_view file_name,
                                                 const EnvLookup& env = process_env(),
                                                 Needs needs = kNeedsAll);

// The default search order of SPEC 1: ./linkpilot.yaml, then /etc/linkpilot/linkpilot.yaml.
std::vector<std::filesystem::path> default_config_paths();
// The first of default_config_paths() that exists, or nullopt.
std::optional<std::filesystem::path> default_config_path();

// One-line summary printed by a clean `check`.
std::string summary(const Config& config);

}  // namespace linkpilot::config
