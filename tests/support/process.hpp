#pragma once

// Spawns a real child process (the `linkpilot` binary) for integration tests, with its
// stdout and stderr captured to files in a private temp dir.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace linkpilot::testing {

class Process {
  public:
    // Starts `executable` with `args` (argv[1..]); `env` is added to (and overrides) the
    // parent's environment. Throws std::runtime_error when the spawn itself fails.
    Process(const std::string& executable, const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] bool running();

    // Waits until a line of stderr+stdout output contains `needle` / matches `re`; returns
    // that line, or nullopt on timeout or when the process exits first (after a last look).
    std::optional<std::string> wait_for_line(const std::string& needle,
                                             std::chrono::milliseconds timeout);
    std::optional<std::string> wait_for_line(const std::regex& re,
                                             std::chrono::milliseconds timeout);
    // The port of "listening on http(s)://HOST:PORT" (0 when it never shows up).
    unsigned short listening_port(std::chrono::milliseconds timeout = std::chrono::seconds{20});

    // SIGTERM, then waits up to `grace` (SIGKILL after). Returns the exit code, or 128+signal.
    int terminate(std::chrono::milliseconds grace = std::chrono::seconds{10});
    // SIGKILL and reap.
    int kill();
    // Waits for the process to exit on its own; nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);

    [[nodiscard]] std::string stderr_text() const;
    [[nodiscard]] std::string stdout_text() const;
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  private:
    bool reap(bool block);
    std::optional<std::string> find_line(const std::function<bool(const std::string&)>& match,
                                         std::chrono::milliseconds timeout);

    std::filesystem::path dir_;
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
};

// A fresh private directory under $TMPDIR (removed by the caller when wanted).
std::filesystem::path make_temp_dir(const std::string& prefix);

}  // namespace linkpilot::testing
