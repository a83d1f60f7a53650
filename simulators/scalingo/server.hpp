#pragma once

// The simulator's HTTP(S) server: one io_context thread, Beast sessions as coroutines.

#include <filesystem>
#include <optional>
#include <string>

#include "common/expected.hpp"

namespace linkpilot::simulator {

struct ServerOptions {
    std::string listen;  // host:port, [v6]:port; port 0 picks one
    std::optional<std::filesystem::path> state_file;
    std::optional<std::filesystem::path> seed_file;
    std::optional<std::string> api_token;
    std::optional<unsigned> rate_limit_per_minute;
    std::string tls_cert;  // both set: HTTPS
    std::string tls_key;
};

struct ListenAddress {
    std::string host;
    unsigned short port = 0;
};
Expected<ListenAddress, std::string> parse_listen(const std::string& text);

// Runs until SIGTERM/SIGINT; returns the process exit code. Logs to stderr.
int run_server(const ServerOptions& options);

}  // namespace linkpilot::simulator
