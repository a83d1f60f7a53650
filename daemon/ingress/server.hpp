#pragma once

// The HTTP/1.1 ingress (SPEC 3) on Boost.Beast with awaitable coroutines: keep-alive, one
// request at a time per connection (pipelining-safe), a deadline on every read and write,
// header and body caps checked before reading, a bound on open connections, optional TLS.
// A webhook is answered 202 only once its delivery and jobs are committed (GroupCommitter).

#include <spdlog/logger.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/expected.hpp"
#include "config/config.hpp"
#include "daemon/ingress/connection.hpp"
#include "daemon/ingress/handler.hpp"
#include "daemon/ingress/metrics.hpp"
#include "daemon/ingress/refusal_log.hpp"
#include "daemon/store/group_commit.hpp"

namespace linkpilot::ingress {

struct ServerOptions {
    std::size_t max_connections = 1024;
    std::size_t max_header_bytes = 64 * 1024;  // SPEC 3: 431 beyond
    // During a drain, how long a connection with nothing received may still start a request
    // (capped by server.request_timeout). A busy keep-alive client sends its next request
    // within it and gets an answer with `Connection: close` instead of a close racing its send.
    std::chrono::milliseconds drain_idle_grace{1000};
};

class Server {
  public:
    Server(boost::asio::io_context& ioc, store::GroupCommitter& store, const Clock& clock,
           std::shared_ptr<spdlog::logger> log, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // The config in force; swapped whole on reload (the ingress thread only).
    void set_config(std::shared_ptr<const config::Config> cfg, std::string fingerprint);
    // Called after each delivery that queued jobs (wakes the job executor).
    // Called with the apps a stored delivery queued jobs for.
    void on_jobs_queued(std::function<void(std::vector<std::string>)> fn) {
        on_jobs_queued_ = std::move(fn);
    }
    // Extra /metrics text (executor, store).
    void on_metrics(std::function<boost::asio::awaitable<void>(std::string&)> fn) {
        on_metrics_ = std::move(fn);
    }

    // Binds the configured address (or takes an inherited listening socket when `fd` >= 0) and
    // loads TLS files; returns the bound endpoint.
    Expected<boost::asio::ip::tcp::endpoint, std::string> listen(int inherited_fd = -1);
    // Starts accepting (on the io_context).
    void start();
    // SIGTERM: /readyz answers 503; the connections the kernel already completed are accepted
    // and the listener closes (later connects are refused); every request that starts within
    // `drain_idle_grace` is finished and answered with `Connection: close`; connections still
    // idle after the grace are closed. Completes when none is left or `timeout` passes.
    boost::asio::awaitable<void> drain(std::chrono::milliseconds timeout);

    // One connection's whole life over any Beast stream, as spawn_session runs it on an
    // accepted one: counted (max_connections, drain), served request after request until it
    // closes, then its sending side shut (`stream` reads and writes; `conn` arms deadlines and
    // half-closes). Tests and the HTTP fuzz target drive it over beast::test::stream. Defined
    // in daemon/ingress/session.hpp, which the caller includes.
    template <class Stream>
    boost::asio::awaitable<void> serve_connection(Stream& stream, Connection& conn);

    [[nodiscard]] bool ready() const { return ready_; }
    [[nodiscard]] const Metrics& metrics() const { return metrics_; }

  private:
    struct Session;
    boost::asio::awaitable<void> accept_loop();
    void spawn_session(boost::asio::ip::tcp::socket socket);
    bool shed_idle_connection();
    // A connection already counted in sessions_: registered in live_, TLS handshake (ssl
    // streams), the session loop, shutdown, unregistered and uncounted.
    template <class Stream>
    boost::asio::awaitable<void> run_session(Stream& stream, Connection& conn);
    // The session loop: one request at a time until the connection closes.
    template <class Stream>
    boost::asio::awaitable<void> serve(Stream& stream, Session& session);
    boost::asio::awaitable<Response> handle(Request& req, const Session& session);

    boost::asio::io_context& ioc_;
    store::GroupCommitter& store_;
    const Clock& clock_;
    std::shared_ptr<spdlog::logger> log_;
    ServerOptions options_;
    std::shared_ptr<const config::Config> config_;
    std::string fingerprint_;
    std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
    std::optional<boost::asio::ssl::context> tls_;
    std::function<void(std::vector<std::string>)> on_jobs_queued_;
    std::function<boost::asio::awaitable<void>(std::string&)> on_metrics_;
    Metrics metrics_;
    RefusalLog refusals_;  // 413, 404 and 405 answers, rate-limited
    bool ready_ = false;
    bool draining_ = false;
    std::size_t sessions_ = 0;
    // Open sessions; drain() closes those still idle after the grace.
    std::vector<Session*> live_;  // oldest first
    std::size_t shed_ = 0;        // idle connections closed to make room at the cap
};

}  // namespace linkpilot::ingress
