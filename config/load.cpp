#include "config/load.hpp"

namespace linkpilot::config {
std::string Error::to_string() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}
EnvLookup process_env() {
    return [](std::string_view) { return std::optional<std::string>{}; };
}
Expected<Config, std::vector<Error>> load_file(const std::filesystem::path& file,
                                               const EnvLookup&) {
    return Unexpected{std::vector<Error>{{file.string(), 1, 1, "not implemented"}}};
}
Expected<Config, std::vector<Error>> load_string(std::string_view, std::string_view f,
                                                 const EnvLookup&) {
    return Unexpected{std::vector<Error>{{std::string(f), 1, 1, "not implemented"}}};
}
std::optional<Duration> parse_duration(std::string_view) { return std::nullopt; }
std::filesystem::path default_config_path() { return "linkpilot.yaml"; }
std::string summary(const Config&) { return ""; }
}  // namespace linkpilot::config
