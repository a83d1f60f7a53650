#pragma once

// The real Scalingo API client over Boost.Beast (SPEC 4): exchanges the API token for a cached
// bearer, refreshes it before expiry and once on a 401, paces every API call through a token
// bucket, and maps answers to plain structs and CallErrors. It never loops over retries (the
// job executor does, with retry.hpp). Dry run is a DryRunApi in front of it (dry_run.hpp).
//
// Not thread-safe: run every call on the executor given to `create` (one thread or strand).
// The Client must outlive the calls it has started.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "config/config.hpp"
#include "config/secret.hpp"
#include "daemon/scalingo/api.hpp"
#include "daemon/scalingo/dry_run.hpp"
#include "daemon/scalingo/http.hpp"
#include "daemon/scalingo/metrics.hpp"
#include "daemon/scalingo/rate_limiter.hpp"

namespace spdlog {
class logger;
}

namespace linkpilot::scalingo {

struct Endpoint {
    std::string api_url = "https://api.osc-fr1.scalingo.com";
    std::string auth_url = "https://auth.scalingo.com";
};

struct Timeouts {
    std::chrono::milliseconds connect{std::chrono::seconds(10)};  // DNS, TCP, TLS handshake
    std::chrono::milliseconds read{std::chrono::seconds(30)};     // each write / read
    std::chrono::milliseconds total{std::chrono::seconds(60)};    // deadline of one call
};

struct ClientOptions {
    Endpoint endpoint;
    config::Secret token;
    std::optional<std::filesystem::path> ca_file;
    Timeouts timeouts;
    config::RateLimit rate_limit;  // 60/min: Scalingo's own limit per token
    std::uint32_t burst = 1;       // calls allowed back to back before pacing starts
    std::string user_agent = default_user_agent();
    ProxySettings proxy;
    std::chrono::minutes refresh_before_expiry{5};
    // Keep-alive connections kept between calls: as many as calls run in parallel
    // (jobs.max_concurrency), so a busy daemon reuses them instead of reconnecting.
    std::size_t idle_connections = 8;

    static std::string default_user_agent();
};

class Client final : public Api {
  public:
    // Fails on an invalid URL or an unreadable ca_file.
    [[nodiscard]] static Expected<std::unique_ptr<Client>, std::string> create(
        ClientOptions options, const Clock& clock, boost::asio::any_io_executor executor,
        std::shared_ptr<spdlog::logger> logger);

    Call<Deployment> manual_deploy(std::string app, std::string branch) override;
    Call<ReviewApp> manual_review_app(std::string app, std::uint64_t pull_request) override;
    Call<std::vector<ReviewApp>> review_apps(std::string app) override;
    Call<void> delete_app(std::string name) override;
    Call<ScmRepoLink> link(std::string app) override;
    Call<Page<ScmRepoLink>> links(std::uint32_t page) override;

    // "https://host:port/base": what the API's targets are relative to.
    [[nodiscard]] std::string api_base_url() const { return api_.key() + api_.base_path; }
    // Token exchanges made so far (tests, metrics).
    [[nodiscard]] std::uint64_t exchanges() const { return exchanges_; }
    // Every request sent and the pacing's waits, for /metrics (readable from any thread).
    [[nodiscard]] const Metrics& metrics() const { return metrics_; }

  private:
    Client(ClientOptions options, Origin api, Origin auth, std::unique_ptr<HttpTransport> http,
           const Clock& clock, boost::asio::any_io_executor executor,
           std::shared_ptr<spdlog::logger> logger);

    // One API call: pacing, bearer, one refresh-and-retry on 401, non-2xx -> CallError.
    Call<HttpResponse> api_call(ApiCall call, boost::beast::http::verb method, std::string target,
                                std::string body);
    Call<HttpResponse> api_attempt(ApiCall call, boost::beast::http::verb method,
                                   const std::string& target, const std::string& body,
                                   const std::string& bearer,
                                   std::chrono::steady_clock::time_point deadline);
    // One request on the wire, counted and timed (on the injected clock) as `call`.
    Call<HttpResponse> send(ApiCall call, const Origin& origin, const HttpRequest& request,
                            std::chrono::steady_clock::time_point deadline);
    Call<std::string> bearer(std::chrono::steady_clock::time_point deadline);
    Call<void> exchange(std::chrono::steady_clock::time_point deadline);
    [[nodiscard]] bool bearer_fresh() const;

    ClientOptions options_;
    Origin api_;
    Origin auth_;
    std::unique_ptr<HttpTransport> http_;
    const Clock& clock_;
    boost::asio::any_io_executor executor_;
    std::shared_ptr<spdlog::logger> logger_;
    RateLimiter limiter_;

    std::optional<config::Secret> bearer_;
    std::optional<TimePoint> bearer_expiry_;
    // One exchange at a time: concurrent calls wait for it instead of starting their own.
    bool exchanging_ = false;
    std::uint64_t exchange_generation_ = 0;
    std::optional<CallError> last_exchange_error_;
    boost::asio::steady_timer exchange_done_;
    std::uint64_t exchanges_ = 0;
    Metrics metrics_;
};

// The Api the daemon calls, as the config (SPEC 2 `scalingo:`) says: the client, behind a
// DryRunApi when `dry_run` is set. The client stays reachable for its metrics.
struct ConfiguredApi {
    std::unique_ptr<Client> client;
    std::unique_ptr<DryRunApi> dry_run;

    [[nodiscard]] Api& api() const;
};

// Builds it with HTTPS_PROXY/NO_PROXY from the process environment. `parallel_calls` sizes the
// keep-alive pool (jobs.max_concurrency for the daemon).
[[nodiscard]] Expected<ConfiguredApi, std::string> make_api(const config::Scalingo& config,
                                                            const Clock& clock,
                                                            boost::asio::any_io_executor executor,
                                                            std::shared_ptr<spdlog::logger> logger,
                                                            std::size_t parallel_calls = 8);

}  // namespace linkpilot::scalingo
