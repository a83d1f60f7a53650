#pragma once

// The session loop of the ingress (SPEC 3), generic over the stream: Server's member templates
// that serve one connection. server.cpp runs them on accepted TCP and TLS connections; the unit
// tests (tests/unit/ingress/server_test.cpp) and the HTTP fuzz target (fuzz/http_request.cpp)
// include this header to run them over beast::test::stream. The loop does I/O only: reading a
// request goes through request_reader.hpp, answering it through Server::handle (handler.hpp).

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/ingress/connection.hpp"
#include "daemon/ingress/handler.hpp"
#include "daemon/ingress/request_reader.hpp"
#include "daemon/ingress/server.hpp"

namespace linkpilot::ingress {

namespace session_detail {

// Expected outcomes (end_of_stream, timeouts, resets) come back as values, not exceptions.
inline constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);
// What a lingering close reads and throws away at most after an early error answer.
inline constexpr std::size_t kLingerBytes = 4 * 1024 * 1024;
// Each connection's read buffer. Beast reads max(512, free capacity) at a time, and a buffer
// never asked for more does not grow: an 8.8 KB push took 18 reads (each arming the timeout).
// 16 KiB takes most deliveries, headers and body, in one; the connection cap bounds the total.
inline constexpr std::size_t kReadBufferBytes = 16 * 1024;

// TLS streams get a handshake before the session and a close_notify after it.
template <class Stream>
inline constexpr bool kIsTls = false;
template <class Next>
inline constexpr bool kIsTls<boost::beast::ssl_stream<Next>> = true;

}  // namespace session_detail

struct Server::Session {
    Connection* conn = nullptr;
    const boost::beast::flat_buffer* buffer = nullptr;  // bytes read but not yet parsed
    bool idle = true;                                   // waiting for the first byte of a request
    bool shed = false;  // closed to make room (shed_idle_connection)

    // Idle with nothing received: neither parsed, nor buffered, nor waiting in the kernel.
    [[nodiscard]] bool nothing_received() const {
        if (!idle || conn == nullptr || (buffer != nullptr && buffer->size() > 0)) {
            return false;
        }
        const auto pending = conn->unread();
        return pending && *pending == 0;
    }

    // "address:port" of the client, for log lines ("" when unknown).
    [[nodiscard]] std::string peer() const {
        return conn == nullptr ? std::string() : conn->peer();
    }
};

// GCC 12 at -O1, instantiating these for beast::test::stream (the unit tests), pairs the
// coroutine frames' operator delete with a different allocation function after inlining Asio's
// recycling allocator, and warns (-Wmismatched-new-delete): a false positive, Asio allocates
// and frees every awaitable frame through awaitable_frame_base's own new and delete.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

template <class Stream>
boost::asio::awaitable<void> Server::serve_connection(Stream& stream, Connection& conn) {
    ++sessions_;
    metrics_.connection_opened();
    co_await run_session(stream, conn);
}

template <class Stream>
boost::asio::awaitable<void> Server::run_session(Stream& stream, Connection& conn) {
    using session_detail::kNoThrow;
    Session session;
    session.conn = &conn;
    live_.push_back(&session);
    try {
        if constexpr (session_detail::kIsTls<Stream>) {
            conn.arm(config_->server.request_timeout);
            auto [hec] =
                co_await stream.async_handshake(boost::asio::ssl::stream_base::server, kNoThrow);
            if (!hec) {
                co_await serve(stream, session);
                conn.arm(std::chrono::seconds(2));
                co_await stream.async_shutdown(kNoThrow);
            }
        } else {
            co_await serve(stream, session);
            conn.shutdown_send();
        }
    } catch (const std::exception& e) {
        log_->error("connection failed: {}", e.what());
    }
    std::erase(live_, &session);
    --sessions_;
    metrics_.connection_closed();
}

template <class Stream>
boost::asio::awaitable<void> Server::serve(Stream& stream, Session& session) {
    namespace net = boost::asio;
    namespace beast = boost::beast;
    using session_detail::kNoThrow;
    Connection& conn = *session.conn;
    beast::flat_buffer buffer;
    buffer.reserve(session_detail::kReadBufferBytes);
    session.buffer = &buffer;
    for (;;) {
        // Read the config once per request: a reload between requests applies to the next.
        const auto cfg = config_;
        const auto timeout = cfg->server.request_timeout;
        const ReadLimits limits{options_.max_header_bytes, cfg->server.max_body_bytes};
        RequestParser parser;
        apply_limits(parser, limits);
        session.idle = buffer.size() == 0;
        if (draining_ && session.idle) {
            // Closing an idle connection at once would race a request the client is sending
            // right now: wait the grace for its first bytes, then read that request in full.
            conn.arm(
                std::min<std::chrono::steady_clock::duration>(timeout, options_.drain_idle_grace));
            auto [fec, fn] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
            if (fec) {
                co_return;
            }
            buffer.commit(fn);
        }
        // One deadline covers the header and the body: a trickling client is cut.
        conn.arm(timeout);
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
        session.idle = false;
        auto answer = [&](Response res) -> net::awaitable<bool> {
            metrics_.answer(res.result_int());
            conn.arm(timeout);
            auto [wec, wn] = co_await http::async_write(stream, res, kNoThrow);
            co_return !wec && res.keep_alive();
        };
        // After answering before the request was read, a plain close with unread bytes makes
        // the kernel send a reset that can destroy our answer before the client reads it, so
        // stop sending and discard what is still coming, briefly and within a byte budget.
        // (Under TLS too, from the TCP stream below: nothing more is decrypted.)
        auto linger = [&]() -> net::awaitable<void> {
            conn.shutdown_send();
            conn.arm(std::chrono::seconds(1));
            auto& raw = beast::get_lowest_layer(stream);
            std::array<char, 16384> sink{};
            for (std::size_t total = 0; total < session_detail::kLingerBytes;) {
                auto [rec, rn] = co_await raw.async_read_some(net::buffer(sink), kNoThrow);
                if (rec) {
                    break;
                }
                total += rn;
            }
        };
        auto step = after_header(ec, parser, limits);
        const auto started = clock_.steady_now();
        if (step.kind == ReadStep::Kind::proceed && !parser.is_done()) {
            if (expects_continue(parser)) {
                http::response<http::empty_body> cont{http::status::continue_,
                                                      parser.get().version()};
                conn.arm(timeout);
                co_await http::async_write(stream, cont, kNoThrow);
            }
            auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
            step = after_body(bec, parser, limits);
        }
        if (step.kind == ReadStep::Kind::refuse) {
            if (step.refusal->result() == http::status::payload_too_large) {
                // The request line is parsed by then; the body was not read (or only in part).
                refusals_.note(Refusal::too_large, parser.get().method_string(),
                               parser.get().target(), session.peer());
            }
            co_await answer(std::move(*step.refusal));
            co_await linger();
            co_return;
        }
        if (step.kind == ReadStep::Kind::close) {
            co_return;
        }
        Request req = parser.release();
        Response res = co_await handle(req, session);
        if (draining_) {
            res.keep_alive(false);
        }
        bool again = co_await answer(std::move(res));
        metrics_.latency(std::chrono::duration<double>(clock_.steady_now() - started).count());
        if (!again) {
            co_return;
        }
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace linkpilot::ingress
