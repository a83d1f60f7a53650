#pragma once

// The systemd side of `serve` (sd_notify(3), sd_listen_fds(3)): READY=1, STOPPING=1, a STATUS=
// line, WATCHDOG=1 keep-alives sent from the event loop itself (a stuck loop stops them and
// systemd restarts the service), and the listening socket of linkpilot.socket. Outside systemd
// ($NOTIFY_SOCKET, $WATCHDOG_USEC and $LISTEN_FDS unset) every call is a no-op.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/expected.hpp"

namespace linkpilot::app {

// The listening socket passed by socket activation, -1 when there is none; an error when
// $LISTEN_FDS passes something that is not one listening TCP socket.
Expected<int, std::string> inherited_listen_fd();

class SystemdNotifier {
  public:
    // `detail` is called on the event loop for the STATUS= line ("N job(s) in flight").
    SystemdNotifier(const boost::asio::any_io_executor& io, std::function<std::string()> detail);
    SystemdNotifier(const SystemdNotifier&) = delete;
    SystemdNotifier& operator=(const SystemdNotifier&) = delete;

    // READY=1 (call once the listener is bound), then keep-alives and STATUS= refreshes.
    void ready();
    // STOPPING=1 when the drain starts; keep-alives go on until stop().
    void stopping();
    // Ends the keep-alive loop (before the io_context stops).
    void stop();

  private:
    boost::asio::awaitable<void> loop(std::chrono::microseconds every);
    [[nodiscard]] std::string status() const;

    boost::asio::steady_timer timer_;
    std::function<std::string()> detail_;
    // Half of $WATCHDOG_USEC when systemd asked for keep-alives.
    std::optional<std::chrono::microseconds> keepalive_every_;
    bool enabled_ = false;  // $NOTIFY_SOCKET is set
    bool stopping_ = false;
    bool stopped_ = false;
    std::string last_status_;
};

}  // namespace linkpilot::app
