#pragma once

// Outbound HTTP(S) for the Scalingo client, written once (STYLE 14): TLS 1.2+ with SNI and host
// name verification, keep-alive reuse per host, a timeout on every step and a deadline per
// request, and an HTTP CONNECT tunnel through HTTPS_PROXY. Not thread-safe: use it from one
// thread (or one strand), the one its executor runs on.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"
#include "daemon/scalingo/errors.hpp"

namespace linkpilot::scalingo {

// scheme://host:port of a base URL plus its path prefix (without trailing slash).
struct Origin {
    bool tls = true;
    std::string host;  // without brackets for IPv6
    std::uint16_t port = 443;
    std::string base_path;

    [[nodiscard]] std::string key() const;        // "https://host:port"
    [[nodiscard]] std::string authority() const;  // "host:port" / "[::1]:port"
};

// Parses "https://api.example.com[:port][/prefix]"; only http and https.
[[nodiscard]] Expected<Origin, std::string> parse_origin(std::string_view text);

struct ProxySettings {
    std::optional<Origin> https_proxy;               // from HTTPS_PROXY / https_proxy
    std::optional<std::string> proxy_authorization;  // "Basic ..." from the proxy URL's userinfo
    std::vector<std::string> no_proxy;               // NO_PROXY entries, lower-case
};

// Reads the proxy variables through `getenv` (injected for tests); lower-case names win over
// upper-case ones, as curl does.
[[nodiscard]] Expected<ProxySettings, std::string> proxy_from_environment(
    const std::function<const char*(const char*)>& getenv);

// NO_PROXY matching: "*", exact host, domain suffix ("example.com" and ".example.com" both
// match "api.example.com"), IP literal.
[[nodiscard]] bool bypasses_proxy(const std::vector<std::string>& no_proxy, std::string_view host);

struct HttpTimeouts {
    std::chrono::milliseconds connect{std::chrono::seconds(10)};  // DNS, TCP, proxy, TLS
    std::chrono::milliseconds read{std::chrono::seconds(30)};     // each write and read
};

struct HttpRequest {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string target;         // path and query
    std::string body;           // JSON, or empty
    std::string authorization;  // whole header value; never logged
};

struct HttpResponse {
    unsigned status = 0;
    std::string body;
    std::string retry_after;  // raw header, empty when absent
};

struct HttpOptions {
    HttpTimeouts timeouts;
    std::string user_agent;
    std::optional<std::filesystem::path> ca_file;
    ProxySettings proxy;
    std::size_t body_limit = 16 * 1024 * 1024;
    // Connections kept open per origin between calls. Below the number of calls in flight,
    // every call beyond it opens a fresh connection (and a TLS handshake).
    std::size_t max_idle_per_origin = 8;
};

class HttpTransport {
  public:
    // Fails when the CA file cannot be loaded.
    [[nodiscard]] static Expected<std::unique_ptr<HttpTransport>, std::string> create(
        boost::asio::any_io_executor executor, HttpOptions options);
    ~HttpTransport();
    HttpTransport(const HttpTransport&) = delete;
    HttpTransport& operator=(const HttpTransport&) = delete;

    // One request/answer; transport failures become retryable CallErrors (certificate
    // failures fatal). Any HTTP status is a success here: the caller interprets it.
    boost::asio::awaitable<Expected<HttpResponse, CallError>> send(
        const Origin& origin, const HttpRequest& request,
        std::chrono::steady_clock::time_point deadline);

    [[nodiscard]] std::size_t idle_connections() const;

    struct Connection;

  private:
    HttpTransport(boost::asio::any_io_executor executor, HttpOptions options);

    boost::asio::awaitable<Expected<std::unique_ptr<Connection>, CallError>> connect(
        const Origin& origin, std::chrono::steady_clock::time_point deadline);

    boost::asio::any_io_executor executor_;
    HttpOptions options_;
    boost::asio::ssl::context ssl_;
    std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace linkpilot::scalingo
