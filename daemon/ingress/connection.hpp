#pragma once

// The seam between the session loop (session.hpp) and the transport under it. The loop reads
// and writes through a Beast stream (beast::tcp_stream, ssl_stream over it, or
// beast::test::stream in tests and the HTTP fuzz target); everything else it and the server ask
// of a connection goes through `Connection`: the deadline of the next operations, half-closing,
// cutting it (shedding, drain), and what drain and the refusal log want to know about it.

#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace linkpilot::ingress {

class Connection {
  public:
    Connection() = default;
    virtual ~Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    Connection(Connection&&) = delete;
    Connection& operator=(Connection&&) = delete;

    // The operations started from now on fail, and the connection closes, once `timeout` has
    // passed (tcp_stream::expires_after). The session arms it before every read and write.
    virtual void arm(std::chrono::steady_clock::duration timeout) = 0;
    // Stops sending (FIN): the client reads what was written, then the end of the stream.
    // Reading goes on.
    virtual void shutdown_send() = 0;
    // Shuts both directions and cancels what is pending (an idle connection shed or drained).
    virtual void cut() = 0;
    // Closes at once (the drain gave up waiting).
    virtual void close() = 0;
    // Bytes received and not yet read by the session (in the kernel); nullopt when unknown.
    [[nodiscard]] virtual std::optional<std::size_t> unread() const = 0;
    // "address:port" of the client, for log lines; "" when unknown.
    [[nodiscard]] virtual std::string peer() const = 0;
};

// A TCP connection (under TLS too): deadlines through tcp_stream::expires_after.
class TcpConnection final : public Connection {
  public:
    explicit TcpConnection(boost::beast::tcp_stream& tcp) : tcp_(tcp) {}

    void arm(std::chrono::steady_clock::duration timeout) override;
    void shutdown_send() override;
    void cut() override;
    void close() override;
    [[nodiscard]] std::optional<std::size_t> unread() const override;
    [[nodiscard]] std::string peer() const override;

  private:
    boost::beast::tcp_stream& tcp_;
};

}  // namespace linkpilot::ingress
