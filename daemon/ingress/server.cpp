#include "daemon/ingress/server.hpp"

#include <openssl/rand.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "daemon/ingress/handler.hpp"
#include "daemon/ingress/request_reader.hpp"
#include "daemon/ingress/session.hpp"

namespace linkpilot::ingress {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using namespace net::experimental::awaitable_operators;

namespace {

using session_detail::kNoThrow;

// nullopt when OpenSSL's generator fails (not seeded, out of entropy): a fixed id would make
// every later delivery without an id a "duplicate", silently dropped.
std::optional<std::string> random_delivery_id() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        return std::nullopt;
    }
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "lp-";
    for (auto b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 0xF];
    }
    return out;
}

}  // namespace

Server::Server(net::io_context& ioc, store::GroupCommitter& store, const Clock& clock,
               std::shared_ptr<spdlog::logger> log, ServerOptions options)
    : ioc_(ioc),
      store_(store),
      clock_(clock),
      log_(std::move(log)),
      options_(options),
      refusals_(clock_, log_) {}

Server::~Server() = default;

void Server::set_config(std::shared_ptr<const config::Config> cfg, std::string fingerprint) {
    config_ = std::move(cfg);
    fingerprint_ = std::move(fingerprint);
}

Expected<tcp::endpoint, std::string> Server::listen(int inherited_fd) {
    const auto& server = config_->server;
    boost::system::error_code ec;
    if (server.tls) {
        tls_.emplace(net::ssl::context::tls_server);
        tls_->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                          net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                          net::ssl::context::no_tlsv1_1);
        tls_->use_certificate_chain_file(server.tls->cert_file.string(), ec);
        if (ec) {
            return Unexpected{"cannot load TLS certificate " + server.tls->cert_file.string() +
                              ": " + ec.message()};
        }
        tls_->use_private_key_file(server.tls->key_file.string(), net::ssl::context::pem, ec);
        if (ec) {
            return Unexpected{"cannot load TLS key " + server.tls->key_file.string() + ": " +
                              ec.message()};
        }
    }
    acceptor_.emplace(ioc_);
    if (inherited_fd >= 0) {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        ::getsockname(inherited_fd, reinterpret_cast<sockaddr*>(&addr), &len);
        acceptor_->assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), inherited_fd, ec);
    } else {
        auto address = net::ip::make_address(server.listen.host, ec);
        tcp::endpoint ep{address, server.listen.port};
        if (!ec) {
            acceptor_->open(ep.protocol(), ec);
        }
        if (!ec) {
            acceptor_->set_option(net::socket_base::reuse_address(true), ec);
            acceptor_->bind(ep, ec);
        }
        if (!ec) {
            acceptor_->listen(net::socket_base::max_listen_connections, ec);
        }
    }
    if (ec) {
        return Unexpected{"cannot listen on " + server.listen.to_string() + ": " + ec.message()};
    }
    auto bound = acceptor_->local_endpoint(ec);
    if (ec) {
        return Unexpected{"cannot read the bound address: " + ec.message()};
    }
    return bound;
}

void Server::start() {
    ready_ = true;
    net::co_spawn(ioc_, accept_loop(), net::detached);
}

net::awaitable<void> Server::accept_loop() {
    while (acceptor_ && acceptor_->is_open()) {
        auto [ec, socket] = co_await acceptor_->async_accept(kNoThrow);
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor_->is_open()) {
                co_return;
            }
            log_->warn("accept failed: {}", ec.message());
            continue;
        }
        spawn_session(std::move(socket));
    }
}

// At the cap, the oldest connection that has sent nothing (an idle keep-alive, or a client
// that connected and waits) is closed to make room: sockets held open must not lock honest
// senders out until server.request_timeout cuts them. A client already sending is never cut.
bool Server::shed_idle_connection() {
    const auto idle = std::find_if(live_.begin(), live_.end(), [](const Session* s) {
        return !s->shed && s->nothing_received();
    });
    if (idle == live_.end()) {
        return false;
    }
    (*idle)->shed = true;
    (*idle)->conn->cut();
    if (shed_++ % 100 == 0) {  // a flood of connections would flood the log too
        log_->warn(
            "{} connections open (the limit): closing the oldest idle one to make room "
            "({} so far)",
            sessions_, shed_);
    }
    return true;
}

void Server::spawn_session(tcp::socket socket) {
    if (sessions_ >= options_.max_connections && !shed_idle_connection()) {
        // Bounded: refusing one connection beats exhausting file descriptors for all. (Every
        // open connection is sending a request: none is idle to make room.)
        log_->warn("refusing a connection: {} already open, none idle", sessions_);
        boost::system::error_code ec;
        socket.close(ec);
        return;
    }
    ++sessions_;
    metrics_.connection_opened();
    net::co_spawn(
        ioc_,
        [this, s = std::move(socket)]() mutable -> net::awaitable<void> {
            try {
                if (tls_) {
                    beast::ssl_stream<beast::tcp_stream> stream(std::move(s), *tls_);
                    TcpConnection conn(beast::get_lowest_layer(stream));
                    co_await run_session(stream, conn);
                } else {
                    beast::tcp_stream stream(std::move(s));
                    TcpConnection conn(stream);
                    co_await run_session(stream, conn);
                }
            } catch (const std::exception& e) {
                // Building the stream failed (run_session catches what its session throws):
                // the connection was counted but never registered.
                log_->error("connection failed: {}", e.what());
                --sessions_;
                metrics_.connection_closed();
            }
        },
        net::detached);
}

net::awaitable<Response> Server::handle(Request& req, const Session& session) {
    auto which = route(req.method(), req.target());
    switch (which) {
        case Route::healthz:
            co_return text_response(req, http::status::ok, R"({"status":"ok"})",
                                    "application/json");
        case Route::readyz:
            if (ready_ && !draining_) {
                co_return text_response(req, http::status::ok, R"({"status":"ready"})",
                                        "application/json");
            }
            co_return error_response(req.version(), req.keep_alive(),
                                     http::status::service_unavailable,
                                     draining_ ? "draining" : "not ready");
        case Route::metrics: {
            std::string body;
            metrics_.render(body);
            if (on_metrics_) {
                co_await on_metrics_(body);
            }
            // clang 14's analyzer walks this co_return's operand twice: `body` "moved twice".
            // NOLINTNEXTLINE(clang-analyzer-cplusplus.Move)
            co_return text_response(req, http::status::ok, std::move(body),
                                    "text/plain; version=0.0.4");
        }
        case Route::not_found:
            refusals_.note(Refusal::not_found, req.method_string(), req.target(), session.peer());
            co_return error_response(req.version(), req.keep_alive(), http::status::not_found,
                                     "no such endpoint");
        case Route::method_not_allowed: {
            refusals_.note(Refusal::method_not_allowed, req.method_string(), req.target(),
                           session.peer());
            auto res = error_response(req.version(), req.keep_alive(),
                                      http::status::method_not_allowed, "method not allowed");
            res.set(http::field::allow, req.target().starts_with("/webhooks/") ? "POST" : "GET");
            co_return res;
        }
        case Route::github:
        case Route::gitlab:
            break;
    }
    const auto cfg = config_;  // keeps this request's config alive across a reload
    const std::string provider = which == Route::github ? "github" : "gitlab";
    auto decision =
        decide_webhook(which, req, *cfg, fingerprint_, clock_.now(), random_delivery_id);
    if (auto* res = std::get_if<Response>(&decision)) {
        // The reason never holds a secret: verify.cpp reports only what was wrong.
        log_->log(res->result() == http::status::service_unavailable ? spdlog::level::err
                                                                     : spdlog::level::warn,
                  "{} webhook (delivery {}) rejected with {}: {}", provider,
                  claimed_delivery_id(which, req), res->result_int(), res->body());
        co_return std::move(*res);
    }
    auto& to_store = std::get<ToStore>(decision);
    const auto id = to_store.delivery.id;
    const auto event = to_store.delivery.event;
    const auto status = to_store.delivery.status;
    const auto repo = to_store.delivery.repo;
    const auto jobs = to_store.jobs.size();
    const bool verified = to_store.verified;
    std::vector<std::string> apps;
    for (const auto& j : to_store.jobs) {
        if (std::find(apps.begin(), apps.end(), j.app) == apps.end()) {
            apps.push_back(j.app);
        }
    }

    net::steady_timer deadline(co_await net::this_coro::executor);
    deadline.expires_after(cfg->server.request_timeout);
    // The timer's cancellation comes back as a value: with use_awaitable every commit that
    // beat the deadline threw and caught an operation_aborted (3% of the I/O thread's time).
    auto outcome =
        co_await (store_.accept(std::move(to_store.delivery), std::move(to_store.jobs)) ||
                  deadline.async_wait(kNoThrow));
    if (outcome.index() == 1) {
        log_->error("delivery {}: the state store did not commit within {} ms; answering 503", id,
                    cfg->server.request_timeout.count());
        co_return error_response(req.version(), req.keep_alive(), http::status::service_unavailable,
                                 "state store too slow; redeliver later");
    }
    auto& result = std::get<0>(outcome);
    if (!result) {
        log_->error("delivery {}: cannot store it ({}): {}; answering 503", id,
                    store::to_string(result.error().kind), result.error().message);
        metrics_.delivery(provider, event, "unavailable", verified);
        co_return error_response(req.version(), req.keep_alive(), http::status::service_unavailable,
                                 "state store unavailable: " + result.error().message);
    }
    if (result->duplicate) {
        log_->info("delivery {} ({} {} {}): duplicate, ignored", id, provider, event, repo);
        metrics_.delivery(provider, event, "duplicate", verified);
        co_return accepted(req, id, "duplicate", 0);
    }
    log_->info("delivery {} ({} {} {}{}): {}, {} job(s)", id, provider, event, repo,
               verified ? "" : ", unsigned", status, jobs);
    metrics_.delivery(provider, event, status, verified);
    if (jobs > 0 && on_jobs_queued_) {
        on_jobs_queued_(std::move(apps));
    }
    co_return accepted(req, id, status, jobs);
}

net::awaitable<void> Server::drain(std::chrono::milliseconds timeout) {
    draining_ = true;
    boost::system::error_code ec;
    if (acceptor_ && acceptor_->is_open()) {
        // Closing a listener resets the connections waiting in its accept queue, although
        // their clients saw the connect succeed and may have sent a request. Take them all
        // first, with no suspension before close(), so only connects after it are refused.
        acceptor_->non_blocking(true, ec);
        for (std::size_t taken = 0; !ec && taken < options_.max_connections; ++taken) {
            tcp::socket socket(ioc_);
            acceptor_->accept(socket, ec);
            if (!ec) {
                spawn_session(std::move(socket));
            }
        }
        acceptor_->close(ec);
    }
    net::steady_timer timer(co_await net::this_coro::executor);
    const auto started = clock_.steady_now();
    const auto grace_end =
        started + std::min<std::chrono::milliseconds>(options_.drain_idle_grace, timeout);
    const auto until = started + timeout;
    bool idle_closed = false;
    while (sessions_ > 0 && clock_.steady_now() < until) {
        if (!idle_closed && clock_.steady_now() >= grace_end) {
            // Connections that sent nothing during the grace are not about to: close them.
            idle_closed = true;
            for (auto* s : live_) {
                if (s->nothing_received()) {
                    s->conn->cut();
                }
            }
        }
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(kNoThrow);
    }
    if (sessions_ > 0) {
        log_->warn("drain: {} connection(s) still open after {} ms; closing them", sessions_,
                   timeout.count());
        for (auto* s : live_) {
            s->conn->close();
        }
    }
}

}  // namespace linkpilot::ingress
