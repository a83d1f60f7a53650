#include "daemon/ingress/connection.hpp"

namespace linkpilot::ingress {

using tcp = boost::asio::ip::tcp;

void TcpConnection::arm(std::chrono::steady_clock::duration timeout) {
    tcp_.expires_after(timeout);
}

void TcpConnection::shutdown_send() {
    boost::system::error_code ignored;
    tcp_.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void TcpConnection::cut() {
    boost::system::error_code ignored;
    tcp_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_.cancel();
}

void TcpConnection::close() {
    boost::system::error_code ignored;
    tcp_.socket().close(ignored);
}

std::optional<std::size_t> TcpConnection::unread() const {
    boost::system::error_code ec;
    const auto pending = tcp_.socket().available(ec);
    if (ec) {
        return std::nullopt;
    }
    return pending;
}

std::string TcpConnection::peer() const {
    boost::system::error_code ec;
    const auto ep = tcp_.socket().remote_endpoint(ec);
    if (ec) {
        return {};
    }
    const auto address = ep.address().to_string();
    return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

}  // namespace linkpilot::ingress
