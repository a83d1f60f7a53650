#include "daemon/app/systemd_notify.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <system_error>

namespace linkpilot::app {

namespace net = boost::asio;

namespace {

// Without a watchdog the STATUS= line is still refreshed, at this pace.
constexpr std::chrono::seconds kStatusEvery{5};

}  // namespace

Expected<int, std::string> inherited_listen_fd() {
    // unset_environment=1: children of the daemon must not believe the fds are theirs.
    const int n = sd_listen_fds(1);
    if (n < 0) {
        return Unexpected{"socket activation: " + std::generic_category().message(-n)};
    }
    if (n == 0) {
        return -1;
    }
    if (n > 1) {
        return Unexpected{"socket activation: " + std::to_string(n) +
                          " sockets passed; linkpilot.socket must listen on exactly one"};
    }
    const int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0) {
        return Unexpected{std::string("socket activation: fd ") + std::to_string(fd) +
                          " is not a listening TCP socket (ListenStream=HOST:PORT)"};
    }
    return fd;
}

SystemdNotifier::SystemdNotifier(const net::any_io_executor& io,
                                 std::function<std::string()> detail)
    : timer_(io), detail_(std::move(detail)) {
    const char* socket = std::getenv("NOTIFY_SOCKET");  // NOLINT(concurrency-mt-unsafe)
    enabled_ = socket != nullptr && *socket != '\0';
    std::uint64_t usec = 0;
    if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        keepalive_every_ = std::chrono::microseconds(usec / 2);
    }
}

std::string SystemdNotifier::status() const {
    std::string s = stopping_ ? "draining" : "accepting webhooks";
    if (detail_) {
        s += "; " + detail_();
    }
    return s;
}

void SystemdNotifier::ready() {
    if (!enabled_) {
        return;
    }
    last_status_ = status();
    sd_notify(0, ("READY=1\nSTATUS=" + last_status_).c_str());
    const auto every = keepalive_every_.value_or(kStatusEvery);
    net::co_spawn(timer_.get_executor(), loop(every), net::detached);
}

void SystemdNotifier::stopping() {
    if (!enabled_) {
        return;
    }
    stopping_ = true;
    last_status_ = status();
    sd_notify(0, ("STOPPING=1\nSTATUS=" + last_status_).c_str());
}

void SystemdNotifier::stop() {
    stopped_ = true;
    timer_.cancel();
}

net::awaitable<void> SystemdNotifier::loop(std::chrono::microseconds every) {
    while (!stopped_) {
        timer_.expires_after(every);
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
        if (stopped_) {
            break;
        }
        // Sent from the loop itself: if the io_context is stuck, the keep-alives stop.
        std::string message = keepalive_every_ ? "WATCHDOG=1\n" : "";
        if (auto s = status(); s != last_status_) {
            last_status_ = s;
            message += "STATUS=" + s;
        }
        if (!message.empty()) {
            sd_notify(0, message.c_str());
        }
    }
}

}  // namespace linkpilot::app
