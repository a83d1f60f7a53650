#pragma once

// Real GitHub/GitLab payloads live in ../shared/fixtures and ../shared/corpus (or
// $LINKPILOT_FIXTURES / $LINKPILOT_CORPUS); they are never copied into the repository.
// Tests that need them skip with a visible message where they are absent.

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace linkpilot::testing {

struct FixtureEntry {
    std::string file;  // relative to the set's directory, e.g. "github/push/branch-created.json"
    std::string provider;  // "github" | "gitlab"
    std::string event_header;
    std::filesystem::path path;  // absolute
};

std::optional<std::filesystem::path> fixtures_dir();
std::optional<std::filesystem::path> corpus_dir();
// Entries of <dir>/index.json.
std::vector<FixtureEntry> read_index(const std::filesystem::path& dir);
std::string read_file(const std::filesystem::path& path);
// The project's own sample push (config/examples/payloads/github-push-main.json: acme/shop,
// push to main), for tests that need a valid delivery rather than a real forge's payload.
std::string sample_push();

}  // namespace linkpilot::testing

#define LINKPILOT_FIXTURES_OR_SKIP(var)                                               \
    auto var##_opt = ::linkpilot::testing::fixtures_dir();                            \
    if (!var##_opt) {                                                                 \
        GTEST_SKIP() << "SKIPPED: webhook fixtures not found (../shared/fixtures or " \
                        "$LINKPILOT_FIXTURES)";                                       \
    }                                                                                 \
    const std::filesystem::path& var = *var##_opt

#define LINKPILOT_CORPUS_OR_SKIP(var)                                             \
    auto var##_opt = ::linkpilot::testing::corpus_dir();                          \
    if (!var##_opt) {                                                             \
        GTEST_SKIP() << "SKIPPED: webhook corpus not found (../shared/corpus or " \
                        "$LINKPILOT_CORPUS)";                                     \
    }                                                                             \
    const std::filesystem::path& var = *var##_opt
