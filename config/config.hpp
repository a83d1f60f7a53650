#pragma once

// The typed configuration (SPEC section 2). Built once from YAML by `config::load_file`; nothing
// downstream touches YAML nodes. Immutable after loading; a reload builds a new one.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/secret.hpp"
#include "rules/pattern.hpp"
#include "rules/rule.hpp"

namespace linkpilot::config {

using Duration = std::chrono::milliseconds;

struct ListenAddress {
    std::string host;  // IP literal as written, without brackets ("127.0.0.1", "::")
    std::uint16_t port = 0;
    [[nodiscard]] std::string to_string() const;  // "127.0.0.1:8787", "[::]:8787"
};

struct TlsFiles {
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
};

struct Server {
    ListenAddress listen{"127.0.0.1", 8787};
    std::uint64_t max_body_bytes = 25ULL * 1024 * 1024;
    Duration request_timeout = std::chrono::seconds(10);
    std::optional<TlsFiles> tls;
};

struct State {
    std::optional<std::filesystem::path> path;  // SQLite (default /var/lib/linkpilot/state.db)
    std::optional<Secret> url;                  // postgresql://... (may carry a password)
    // PostgreSQL only: how long a replica's claim on a running job lasts without renewal
    // (docs/ha.md): a dead replica's jobs are taken over after this.
    Duration lease = std::chrono::seconds(30);
    Duration keep_payloads = std::chrono::hours(24 * 7);
};

struct RateLimit {
    std::uint32_t requests = 60;
    Duration per = std::chrono::minutes(1);
};

struct Retry {
    std::uint32_t max_attempts = 8;
    Duration initial_backoff = std::chrono::seconds(1);
    Duration max_backoff = std::chrono::minutes(5);
};

// Time limits of one Scalingo call (not in SPEC: `scalingo.timeout`, README).
struct CallTimeouts {
    Duration connect = std::chrono::seconds(10);  // DNS, TCP, proxy, TLS handshake
    Duration read = std::chrono::seconds(30);     // each write and read
    Duration total = std::chrono::seconds(60);    // the whole call
};

struct Scalingo {
    std::string api_url = "https://api.osc-fr1.scalingo.com";
    std::string auth_url = "https://auth.scalingo.com";
    Secret token;
    bool dry_run = false;
    RateLimit rate_limit;
    Retry retry;
    CallTimeouts timeout;
    std::optional<std::filesystem::path> ca_file;
};

struct Jobs {
    std::uint32_t max_concurrency = 8;
};

enum class LogFormat { text, json };

struct Log {
    LogFormat format = LogFormat::text;
};

// One forge's webhook endpoint (SPEC 3, fail closed): without a secret or token it has no
// endpoint at all (404), unless allow_unsigned says a verifying proxy sits in front.
struct Provider {
    std::vector<Secret> secrets;  // any of them verifies (rotation); GitLab: the tokens
    // How many secrets the file gives: the same as secrets.size() unless the config was loaded
    // without reading them (Needs::webhook_secrets false).
    std::size_t declared = 0;
    bool allow_unsigned = false;  // a delivery without a signature/token is accepted, unverified

    [[nodiscard]] bool configured() const { return declared > 0 || allow_unsigned; }
};

struct Providers {
    Provider github;
    Provider gitlab;
};

enum class FreezeMode { defer, skip };

struct FreezeWindow {
    std::vector<int> days;  // 0 = Sunday .. 6 = Saturday (date::weekday encoding); empty = all
    std::chrono::minutes from{0};  // minutes since local midnight
    std::chrono::minutes to{0};    // exclusive; 24:00 = 1440
    std::string tz;                // IANA name, validated at load
    FreezeMode mode = FreezeMode::defer;
    // Which actions the window holds; SPEC: deploys only unless the window says otherwise.
    std::vector<rules::ActionKind> actions{rules::ActionKind::deploy};
};

struct Prune {
    Duration every = std::chrono::minutes(15);
    std::vector<std::string> apps;
    std::optional<Duration> stale_after;
    std::optional<Duration> closed_after;
    std::optional<std::uint32_t> keep_at_most;
    rules::PatternList protect;
    std::uint32_t max_deletions_per_sweep = 5;
};

struct Config {
    std::filesystem::path source;  // the file it came from
    Server server;
    State state;
    Scalingo scalingo;
    Jobs jobs;
    Log log;
    Providers providers;
    rules::RuleSet rules;  // `repos` allowlist + `rules`
    std::vector<FreezeWindow> freeze;
    std::optional<Prune> prune;
    // Settings that are valid but weaken a guarantee (providers.*.allow_unsigned), as
    // "FILE:LINE:COL: warning: ..." lines: `check` prints them and `serve` logs them at every
    // start and reload.
    std::vector<std::string> warnings;
};

}  // namespace linkpilot::config
