#pragma once

// The real `linkpilot simulate-scalingo` and `linkpilot serve` side by side over loopback, for
// end-to-end tests of ingress -> rules -> jobs -> Scalingo. Waiting is by polling a condition
// with a deadline (the processes run on real time), never a fixed sleep.

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/store/store.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

namespace linkpilot::testing {

inline constexpr std::string_view kApiToken = "e2e-api-token";
inline constexpr std::string_view kGithubSecret = "e2e-github-secret";
inline constexpr std::string_view kGitlabToken = "e2e-gitlab-token";

class Simulator {
  public:
    // `seed` is the --seed document (see simulators/scalingo/README.md). `persistent`: the state
    // is kept in dir/state.json (--state), so restart() resumes it.
    Simulator(const std::filesystem::path& dir, const boost::json::value& seed,
              bool persistent = false);

    // SIGKILL, then the simulator again on the same port and state file (needs `persistent`).
    // Queued faults and the call log do not survive; the deployments in the state do.
    void restart();
    // Deployments the simulator made for `app` (from its state, so across restarts).
    [[nodiscard]] std::size_t deployments(const std::string& app) const;

    [[nodiscard]] std::string url() const;
    [[nodiscard]] unsigned short port() const { return port_; }
    // GET /_sim/calls without the token exchanges: the Scalingo API calls, in arrival order.
    [[nodiscard]] std::vector<boost::json::object> api_calls() const;
    [[nodiscard]] boost::json::object state() const;
    // POST /_sim/faults.
    void fault(const boost::json::object& spec) const;
    // An authenticated Scalingo API request (exchanges the token first).
    HttpResult api(const std::string& method, const std::string& target,
                   const std::string& body = {}) const;
    Process& process() { return *process_; }

  private:
    void start(const std::string& listen);

    std::filesystem::path dir_;
    bool persistent_ = false;
    std::unique_ptr<Process> process_;
    unsigned short port_ = 0;
};

class Daemon {
  public:
    // Writes `dir/linkpilot.yaml`: the simulator's URLs, the test secrets, `scalingo_extra`
    // (YAML lines inside `scalingo:`, indented by two; with an `api_url:` of its own, it replaces
    // the simulator's URLs), `rules_yaml` (the `rules:` block)
    // and starts `linkpilot serve` on it.
    // `postgres_url`: the state is that PostgreSQL database (state.url, a 3 s lease) instead of
    // `dir/state.db`; several daemons given one URL are replicas. `providers_yaml`, when given,
    // replaces the `providers:` block (the test secrets for both forges).
    Daemon(const std::filesystem::path& dir, const Simulator& sim, const std::string& rules_yaml,
           const std::string& scalingo_extra = {}, std::string postgres_url = {},
           const std::string& providers_yaml = {});

    void start();
    int terminate() { return process_->terminate(); }
    int kill() { return process_->kill(); }

    [[nodiscard]] unsigned short port() const { return port_; }
    [[nodiscard]] const std::filesystem::path& config() const { return config_; }
    [[nodiscard]] std::filesystem::path state() const { return dir_ / "state.db"; }
    Process& process() { return *process_; }

    HttpResult github(const std::string& event, const std::string& body,
                      const std::string& delivery) const;
    HttpResult gitlab(const std::string& event, const std::string& body,
                      const std::string& delivery) const;

    // The jobs in the state store (read while the daemon runs: SQLite WAL, or PostgreSQL).
    [[nodiscard]] std::vector<store::Job> jobs() const;
    // Until every job is done, failed or cancelled; false on timeout.
    bool wait_settled(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

    // Runs `linkpilot ARGS... -c CONFIG` to completion: {exit code, stdout}.
    [[nodiscard]] std::pair<int, std::string> cli(std::vector<std::string> args) const;

  private:
    std::filesystem::path dir_;
    std::filesystem::path config_;
    std::string postgres_url_;
    std::unique_ptr<Process> process_;
    unsigned short port_ = 0;
};

// A simulator seed: these apps, each linked to acme/shop's `main`.
boost::json::value seed_linked(std::initializer_list<const char*> names);

// Slows the next `times` manual_deploy calls by `ms` each (they then proceed normally).
void slow_deploys(const Simulator& sim, int ms, int times);

// One manual_deploy call as the simulator logged it (Unix ms).
struct CallInterval {
    std::int64_t start;
    std::int64_t end;
};
// The manual_deploy calls of the simulator's call log, by app, in arrival order.
std::map<std::string, std::vector<CallInterval>> deploys_by_app(const Simulator& sim);
// Fails the test where two calls for one app were in flight at once (per-app serialisation).
void expect_serial_per_app(std::map<std::string, std::vector<CallInterval>> by_app);

// A fixture file's text, and the same document with one field replaced (for the rare case a
// test needs a variant the fixture set lacks, e.g. a failed CI run): `pointer` is a JSON
// pointer into the real payload, everything else stays verbatim.
std::string with_field(const std::string& body, std::string_view pointer, boost::json::value v);

}  // namespace linkpilot::testing
