// Fuzz target: the config loader (config/load.cpp, yaml-cpp underneath). Input: the text of a
// config file. `${VAR}` expands to a fixed value (CREDENTIALS_DIRECTORY stays unset, so a
// relative token_file is not looked up elsewhere). Aborts when a refused config has no error,
// or an error without a file:line:col a user can follow, or a loaded one cannot be summarised.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "config/load.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "config_loader: invariant broken: %s\n", what);
    std::abort();
}

std::optional<std::string> fuzz_env(std::string_view name) {
    if (name == "CREDENTIALS_DIRECTORY") {
        return std::nullopt;
    }
    return std::string("fuzz-env-value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view yaml(reinterpret_cast<const char*>(data), size);
    auto config = linkpilot::config::load_string(yaml, "fuzz.yaml", fuzz_env);
    if (!config) {
        if (config.error().empty()) {
            fail("config refused without an error");
        }
        for (const auto& e : config.error()) {
            if (e.file != "fuzz.yaml" || e.line < 1 || e.col < 1 || e.message.empty() ||
                !e.to_string().starts_with("fuzz.yaml:")) {
                fail("error without file:line:col and a message");
            }
        }
        return 0;
    }
    if (config->source != "fuzz.yaml" || linkpilot::config::summary(*config).empty()) {
        fail("loaded config without its source or summary");
    }
    return 0;
}

#ifdef LINKPILOT_FUZZ_REPLAY
#include "fuzz/replay.hpp"

int main(int argc, char** argv) {
    // The shipped examples are the best seeds: every key, in the shape users write.
    return linkpilot::fuzz::replay_files_main(argc, argv, LINKPILOT_FUZZ_CORPUS_DIR,
                                              {LINKPILOT_FUZZ_SOURCE_DIR "/config/examples"},
                                              ".yaml");
}
#endif
