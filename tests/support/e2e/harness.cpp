#include "tests/support/e2e/harness.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "daemon/store/postgres_store.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot::testing {

namespace json = boost::json;

Simulator::Simulator(const std::filesystem::path& dir, const json::value& seed, bool persistent)
    : dir_(dir), persistent_(persistent) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "seed.json") << json::serialize(seed);
    start("127.0.0.1:0");
}

void Simulator::start(const std::string& listen) {
    std::vector<std::string> args{"simulate-scalingo",
                                  "--listen",
                                  listen,
                                  "--token",
                                  std::string(kApiToken),
                                  "--seed",
                                  (dir_ / "seed.json").string()};
    if (persistent_) {
        args.insert(args.end(), {"--state", (dir_ / "state.json").string()});
    }
    process_ = std::make_unique<Process>(LINKPILOT_BINARY, args);
    port_ = process_->listening_port();
    if (port_ == 0) {
        throw std::runtime_error("simulator did not start: " + process_->stderr_text());
    }
}

void Simulator::restart() {
    if (!persistent_) {
        throw std::logic_error("Simulator::restart needs a persistent simulator");
    }
    process_->kill();
    start("127.0.0.1:" + std::to_string(port_));
}

std::size_t Simulator::deployments(const std::string& app) const {
    const auto s = state();
    const auto* deps = s.if_contains("deployments");
    const auto* list = deps != nullptr ? deps->as_object().if_contains(app) : nullptr;
    return list != nullptr && list->is_array() ? list->as_array().size() : 0;
}

std::string Simulator::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<json::object> Simulator::api_calls() const {
    auto r = http_request("127.0.0.1", port_, "GET", "/_sim/calls");
    std::vector<json::object> out;
    if (r.status != 200) {
        ADD_FAILURE() << "GET /_sim/calls: " << r.status << " " << r.error;
        return out;
    }
    const auto calls = json::parse(r.body);
    for (const auto& c : calls.as_array()) {
        if (c.at("path").as_string() != "/v1/tokens/exchange") {
            out.push_back(c.as_object());
        }
    }
    return out;
}

json::object Simulator::state() const {
    auto r = http_request("127.0.0.1", port_, "GET", "/_sim/state");
    return r.status == 200 ? json::parse(r.body).as_object() : json::object{};
}

void Simulator::fault(const json::object& spec) const {
    auto r = http_request("127.0.0.1", port_, "POST", "/_sim/faults", json::serialize(spec),
                          {{"Content-Type", "application/json"}});
    ASSERT_LT(r.status, 300) << r.body << r.error;
}

HttpResult Simulator::api(const std::string& method, const std::string& target,
                          const std::string& body) const {
    const std::string basic = ":" + std::string(kApiToken);
    std::string encoded(4 * ((basic.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                  reinterpret_cast<const unsigned char*>(basic.data()),
                                  static_cast<int>(basic.size()));
    encoded.resize(static_cast<std::size_t>(n));
    auto ex = http_request("127.0.0.1", port_, "POST", "/v1/tokens/exchange", "",
                           {{"Authorization", "Basic " + encoded}});
    if (ex.status != 200) {
        return ex;
    }
    const std::string bearer(json::parse(ex.body).at("token").as_string());
    return http_request(
        "127.0.0.1", port_, method, target, body,
        {{"Authorization", "Bearer " + bearer}, {"Content-Type", "application/json"}});
}

Daemon::Daemon(const std::filesystem::path& dir, const Simulator& sim,
               const std::string& rules_yaml, const std::string& scalingo_extra,
               std::string postgres_url, const std::string& providers_yaml)
    : dir_(dir), config_(dir / "linkpilot.yaml"), postgres_url_(std::move(postgres_url)) {
    std::filesystem::create_directories(dir_);
    const std::string state_yaml = postgres_url_.empty()
                                       ? "state: { path: \"" + state().string() + "\" }\n"
                                       : "state: { url: \"" + postgres_url_ + "\", lease: 3s }\n";
    // An `api_url` in scalingo_extra points the daemon elsewhere (fault tests: no such host).
    const std::string urls = scalingo_extra.find("api_url:") == std::string::npos
                                 ? "  api_url: " + sim.url() + "\n  auth_url: " + sim.url() + "\n"
                                 : std::string();
    std::ofstream(config_) << "version: 1\n"
                           << "server: { listen: \"127.0.0.1:0\" }\n"
                           << state_yaml << "scalingo:\n"
                           << urls << "  token: " << kApiToken << "\n"
                           << scalingo_extra
                           << (providers_yaml.empty() ? "providers:\n  github: { secrets: [\"" +
                                                            std::string(kGithubSecret) +
                                                            "\"] }\n  gitlab: { tokens: [\"" +
                                                            std::string(kGitlabToken) + "\"] }\n"
                                                      : providers_yaml)
                           << rules_yaml;
    start();
}

void Daemon::start() {
    process_ = std::make_unique<Process>(LINKPILOT_BINARY,
                                         std::vector<std::string>{"serve", "-c", config_.string()});
    port_ = process_->listening_port();
    if (port_ == 0) {
        throw std::runtime_error("serve did not start: " + process_->stderr_text());
    }
}

HttpResult Daemon::github(const std::string& event, const std::string& body,
                          const std::string& delivery) const {
    return send_github(port_, event, body, delivery, kGithubSecret);
}

HttpResult Daemon::gitlab(const std::string& event, const std::string& body,
                          const std::string& delivery) const {
    return send_gitlab(port_, event, body, delivery, kGitlabToken);
}

std::vector<store::Job> Daemon::jobs() const {
    auto st = postgres_url_.empty()
                  ? store::open_sqlite({.path = state()})
                  : store::open_postgres({.url = postgres_url_, .migrate = false});
    if (!st) {
        ADD_FAILURE() << "open state: " << st.error().message;
        return {};
    }
    auto jobs = (*st)->list_jobs({});
    if (!jobs) {
        ADD_FAILURE() << "list jobs: " << jobs.error().message;
        return {};
    }
    return std::move(*jobs);
}

bool Daemon::wait_settled(std::chrono::milliseconds timeout) const {
    return eventually(
        [&] {
            for (const auto& j : jobs()) {
                if (j.state != "done" && j.state != "failed" && j.state != "cancelled") {
                    return false;
                }
            }
            return true;
        },
        timeout);
}

std::pair<int, std::string> Daemon::cli(std::vector<std::string> args) const {
    args.push_back("-c");
    args.push_back(config_.string());
    Process p(LINKPILOT_BINARY, args);
    const auto code = p.wait(std::chrono::seconds(20));
    return {code.value_or(-1), p.stdout_text()};
}

std::string with_field(const std::string& body, std::string_view pointer, json::value v) {
    auto doc = json::parse(body);
    doc.at_pointer(pointer) = std::move(v);
    return json::serialize(doc);
}

json::value seed_linked(std::initializer_list<const char*> names) {
    json::array apps;
    json::array links;
    for (const char* app : names) {
        apps.emplace_back(app);
        links.push_back(json::object{
            {"app", app}, {"source", "https://github.com/acme/shop"}, {"branch", "main"}});
    }
    return json::object{{"apps", apps}, {"links", links}};
}

void slow_deploys(const Simulator& sim, int ms, int times) {
    sim.fault(json::object{
        {"path", "/v1/apps/*/scm_repo_link/manual_deploy"}, {"delay_ms", ms}, {"times", times}});
}

std::map<std::string, std::vector<CallInterval>> deploys_by_app(const Simulator& sim) {
    std::map<std::string, std::vector<CallInterval>> out;
    for (const auto& c : sim.api_calls()) {
        if (!c.at("path").as_string().ends_with("/manual_deploy")) {
            continue;
        }
        out[std::string(c.at("app").as_string())].push_back(
            {c.at("started_at_ms").as_int64(), c.at("finished_at_ms").as_int64()});
    }
    return out;
}

void expect_serial_per_app(std::map<std::string, std::vector<CallInterval>> by_app) {
    for (auto& [app, calls] : by_app) {
        std::sort(calls.begin(), calls.end(),
                  [](const CallInterval& x, const CallInterval& y) { return x.start < y.start; });
        for (std::size_t i = 1; i < calls.size(); ++i) {
            EXPECT_GE(calls[i].start, calls[i - 1].end)
                << app << ": call " << i << " started before call " << i - 1 << " ended";
        }
    }
}

}  // namespace linkpilot::testing
