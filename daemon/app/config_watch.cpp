#include "daemon/app/config_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace linkpilot::app {

namespace net = boost::asio;

namespace {

constexpr auto kAwait = net::as_tuple(net::use_awaitable);

// Directory events that can change what the path names. Not IN_MODIFY: the state database may
// live in the same directory, and its writes must not wake the watcher.
constexpr std::uint32_t kDirEvents =
    IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE;
// Events on the file itself: rewritten in place (a single-file bind mount sees only these),
// or replaced.
constexpr std::uint32_t kFileEvents =
    IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

Expected<std::unique_ptr<ConfigWatcher>, std::string> ConfigWatcher::create(
    const net::any_io_executor& executor, std::filesystem::path file,
    std::chrono::milliseconds settle) {
    file = std::filesystem::absolute(file);
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        return Unexpected{"inotify: " + std::generic_category().message(errno)};
    }
    std::unique_ptr<ConfigWatcher> w(new ConfigWatcher(executor, fd, std::move(file), settle));
    w->dir_watch_ =
        ::inotify_add_watch(fd, w->file_.parent_path().c_str(), kDirEvents | IN_ONLYDIR);
    if (w->dir_watch_ < 0) {
        return Unexpected{"inotify: cannot watch " + w->file_.parent_path().string() + ": " +
                          std::generic_category().message(errno)};
    }
    w->watch_file();
    return w;
}

ConfigWatcher::ConfigWatcher(const net::any_io_executor& executor, int fd,
                             std::filesystem::path file, std::chrono::milliseconds settle)
    : inotify_(executor, fd), settle_timer_(executor), file_(std::move(file)), settle_(settle) {}

ConfigWatcher::~ConfigWatcher() = default;  // closing the descriptor drops every watch

void ConfigWatcher::watch_file() {
    // Follows symlinks: a ConfigMap's file is a link into `..data/`. Re-adding a watch on the
    // same inode only updates it; a missing file (mid-replace) is watched again next time.
    file_watch_ = ::inotify_add_watch(inotify_.native_handle(), file_.c_str(), kFileEvents);
}

bool ConfigWatcher::concerns_config(std::size_t n) const {
    const auto name = file_.filename().string();
    std::size_t at = 0;
    while (at + sizeof(inotify_event) <= n) {
        inotify_event ev{};
        std::memcpy(&ev, buffer_.data() + at, sizeof ev);
        if (ev.wd == file_watch_) {
            return true;
        }
        if (ev.wd == dir_watch_ && ev.len > 0) {
            const std::string entry(buffer_.data() + at + sizeof ev);
            // `..data` and friends: Kubernetes swaps a ConfigMap's files through a symlink.
            if (entry == name || entry.starts_with("..")) {
                return true;
            }
        }
        at += sizeof ev + ev.len;
    }
    return false;
}

net::awaitable<void> ConfigWatcher::run(std::function<void()> changed) {
    while (!stopped_) {
        auto [ec, n] = co_await inotify_.async_read_some(net::buffer(buffer_), kAwait);
        if (ec || stopped_) {
            break;
        }
        if (!concerns_config(n)) {
            continue;
        }
        // Let the writer finish (truncate + write, or write + rename), then drop the events
        // that came meanwhile: they are this same change.
        settle_timer_.expires_after(settle_);
        co_await settle_timer_.async_wait(kAwait);
        if (stopped_) {
            break;
        }
        for (;;) {
            const auto got = ::read(inotify_.native_handle(), buffer_.data(), buffer_.size());
            if (got <= 0) {
                break;
            }
        }
        watch_file();
        changed();
    }
}

void ConfigWatcher::stop() {
    stopped_ = true;
    boost::system::error_code ignored;
    inotify_.cancel(ignored);
    settle_timer_.cancel();
}

}  // namespace linkpilot::app
