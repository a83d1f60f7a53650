#pragma once

// The daemon of the disk fault and abuse tests: GitHub pushes (signed with `secret`) deploy one
// app, and Scalingo calls are dry-run (tests send it testing::sample_push()).

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace linkpilot::testing {

// Writes the config to `config`; `server_extra` is added to the `server` map (", key: value").
inline void write_dry_run_config(const std::filesystem::path& config,
                                 const std::filesystem::path& state, std::string_view secret,
                                 std::string_view server_extra = "") {
    std::ofstream(config) << "version: 1\n"
                          << "server: { listen: \"127.0.0.1:0\"" << server_extra << " }\n"
                          << "state: { path: \"" << state.string() << "\" }\n"
                          << "scalingo: { dry_run: true }\n"
                          << "providers:\n"
                          << "  github: { secrets: [\"" << secret << "\"] }\n"
                          << "rules:\n"
                          << "  - { name: staging, on: push, deploy: { app: shop-staging } }\n";
}

}  // namespace linkpilot::testing
