#pragma once

// A tiny in-test HTTP(S) server on 127.0.0.1:0 playing Scalingo's auth and API hosts for the
// client's loopback tests: token exchange with a real-shaped JWT, bearer checks, and canned
// answers per route. Not the bundled simulator (simulators/scalingo): just enough to observe the
// client's requests.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "daemon/scalingo/jwt.hpp"

// GCC 12 warns falsely on Asio coroutine frames at -O1 (see daemon/scalingo/CMakeLists.txt);
// this header is only included by the test files that define coroutines.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace linkpilot::scalingo::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr auto kUse = net::as_tuple(net::use_awaitable);
using Executor =
    net::as_tuple_t<net::use_awaitable_t<>>::executor_with_default<net::any_io_executor>;
using TcpStream = beast::tcp_stream::rebind_executor<Executor>::other;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

inline std::string b64url(std::string_view in) {
    auto s = base64_encode(in);
    for (auto& c : s) {
        if (c == '+') {
            c = '-';
        } else if (c == '/') {
            c = '_';
        }
    }
    while (!s.empty() && s.back() == '=') {
        s.pop_back();
    }
    return s;
}

inline std::string make_jwt(std::optional<std::int64_t> exp, std::uint64_t serial) {
    boost::json::object payload{{"iss", "loopback"}, {"serial", serial}};
    if (exp) {
        payload["exp"] = *exp;
    }
    return b64url(R"({"alg":"HS256","typ":"JWT"})") + "." +
           b64url(boost::json::serialize(payload)) + ".c2lnbmF0dXJl";
}

inline Response json_response(http::status status, std::string body) {
    Response res{status, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    return res;
}

struct Seen {
    http::verb method;
    std::string target;
    std::string authorization;
    std::string user_agent;
    std::string content_type;
    std::string body;
    std::chrono::steady_clock::time_point at;  // the injected clock's time on arrival
};

// Scalingo's auth + API behaviour, shared by the plain and TLS servers.
class FakeScalingo {
  public:
    using Route = std::function<net::awaitable<Response>(const Request&)>;

    FakeScalingo(const Clock& clock, std::string api_token)
        : clock_(clock), api_token_(std::move(api_token)) {}

    // Answers for "METHOD /target" (exact target, query included); unknown routes -> 404.
    void on(http::verb method, std::string target, Route route) {
        routes_[{method, std::move(target)}] = std::move(route);
    }
    void on(http::verb method, std::string target, http::status status, std::string body) {
        on(method, std::move(target), [status, body](const Request&) -> net::awaitable<Response> {
            co_return json_response(status, body);
        });
    }

    void revoke_all_bearers() { bearers_.clear(); }
    // Every bearer is refused, even fresh ones (a token revoked on Scalingo's side).
    void refuse_all_bearers() { refuse_bearers_ = true; }
    void set_token_lifetime(std::optional<std::chrono::seconds> lifetime) { lifetime_ = lifetime; }

    [[nodiscard]] int exchanges() const { return exchanges_; }
    [[nodiscard]] const std::vector<Seen>& seen() const { return seen_; }
    [[nodiscard]] std::vector<Seen> api_calls() const {
        std::vector<Seen> out;
        for (const auto& s : seen_) {
            if (s.target != "/v1/tokens/exchange") {
                out.push_back(s);
            }
        }
        return out;
    }

    net::awaitable<Response> handle(const Request& req) {
        seen_.push_back(Seen{
            req.method(), std::string(req.target()), std::string(req[http::field::authorization]),
            std::string(req[http::field::user_agent]), std::string(req[http::field::content_type]),
            req.body(), clock_.steady_now()});
        if (req.target() == "/v1/tokens/exchange") {
            ++exchanges_;
            if (req.method() != http::verb::post ||
                req[http::field::authorization] != "Basic " + base64_encode(":" + api_token_)) {
                co_return json_response(http::status::unauthorized,
                                        R"({"error": "invalid token"})");
            }
            std::optional<std::int64_t> exp;
            if (lifetime_) {
                exp = std::chrono::duration_cast<std::chrono::seconds>(
                          (clock_.now() + *lifetime_).time_since_epoch())
                          .count();
            }
            auto jwt = make_jwt(exp, ++serial_);
            bearers_.insert(jwt);
            co_return json_response(http::status::ok,
                                    boost::json::serialize(boost::json::object{{"token", jwt}}));
        }
        const std::string auth(req[http::field::authorization]);
        if (refuse_bearers_ || auth.rfind("Bearer ", 0) != 0 ||
            bearers_.count(auth.substr(7)) == 0) {
            co_return json_response(http::status::unauthorized,
                                    R"({"error": "You are not authorized to do this operation"})");
        }
        auto it = routes_.find({req.method(), std::string(req.target())});
        if (it == routes_.end()) {
            co_return json_response(http::status::not_found,
                                    R"({"resource": "app", "error": "not found"})");
        }
        co_return co_await it->second(req);
    }

  private:
    const Clock& clock_;
    std::string api_token_;
    std::optional<std::chrono::seconds> lifetime_ = std::chrono::hours(1);
    std::set<std::string> bearers_;
    bool refuse_bearers_ = false;
    std::map<std::pair<http::verb, std::string>, Route> routes_;
    std::vector<Seen> seen_;
    int exchanges_ = 0;
    std::uint64_t serial_ = 0;
};

// Accepts on 127.0.0.1:0 and serves FakeScalingo over HTTP/1.1 keep-alive, plain or TLS.
class LoopbackServer {
  public:
    LoopbackServer(net::io_context& ioc, FakeScalingo& fake, ssl::context* tls = nullptr)
        : ioc_(ioc),
          fake_(fake),
          tls_(tls),
          acceptor_(ioc, {net::ip::make_address("127.0.0.1"), 0}) {
        net::co_spawn(ioc_, accept_loop(), net::detached);
    }

    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    [[nodiscard]] int connections() const { return connections_; }
    [[nodiscard]] std::string url(std::string_view host = "127.0.0.1") const {
        return std::string(tls_ ? "https://" : "http://") + std::string(host) + ":" +
               std::to_string(port());
    }

  private:
    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(kUse);
            if (ec) {
                co_return;
            }
            ++connections_;
            net::co_spawn(ioc_, session(std::move(socket)), net::detached);
        }
    }

    template <class Stream>
    net::awaitable<void> serve(Stream& stream) {
        beast::flat_buffer buffer;
        for (;;) {
            Request req;
            auto [ec, n] = co_await http::async_read(stream, buffer, req, kUse);
            if (ec) {
                co_return;
            }
            auto res = co_await fake_.handle(req);
            res.version(11);
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            auto [wec, wn] = co_await http::async_write(stream, res, kUse);
            if (wec || !res.keep_alive()) {
                co_return;
            }
        }
    }

    net::awaitable<void> session(tcp::socket socket) {
        TcpStream plain(std::move(socket));
        if (tls_ == nullptr) {
            co_await serve(plain);
            co_return;
        }
        beast::ssl_stream<TcpStream> stream(std::move(plain), *tls_);
        auto [ec] = co_await stream.async_handshake(ssl::stream_base::server);
        if (ec) {
            co_return;
        }
        co_await serve(stream);
    }

    net::io_context& ioc_;
    FakeScalingo& fake_;
    ssl::context* tls_;
    tcp::acceptor acceptor_;
    int connections_ = 0;
};

}  // namespace linkpilot::scalingo::testing
