#pragma once

// Watches the config file for changes so a container's bind-mounted config (or a Kubernetes
// ConfigMap) reloads without a SIGHUP. Watches the path's parent directory (a file replaced by
// rename, or a ConfigMap's `..data` symlink swap) and the file itself (a file rewritten in
// place, which is all a single-file bind mount can see), not only one inode.

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/expected.hpp"

namespace linkpilot::app {

class ConfigWatcher {
  public:
    // Fails when inotify cannot be set up (then SIGHUP remains the only way to reload).
    [[nodiscard]] static Expected<std::unique_ptr<ConfigWatcher>, std::string> create(
        const boost::asio::any_io_executor& executor, std::filesystem::path file,
        std::chrono::milliseconds settle);
    ~ConfigWatcher();
    ConfigWatcher(const ConfigWatcher&) = delete;
    ConfigWatcher& operator=(const ConfigWatcher&) = delete;

    // Calls `changed` once the file's directory entry or contents changed and then stayed
    // quiet for `settle` (an editor's or kubelet's several writes give one call). The call may
    // come for a change that left the bytes as they were: compare contents before reloading.
    // Returns after stop().
    boost::asio::awaitable<void> run(std::function<void()> changed);
    void stop();

  private:
    ConfigWatcher(const boost::asio::any_io_executor& executor, int fd, std::filesystem::path file,
                  std::chrono::milliseconds settle);
    // (Re)watches the file the path names now: after a rename it is another inode.
    void watch_file();
    // Whether the events in the first `n` bytes of buffer_ concern the config file.
    [[nodiscard]] bool concerns_config(std::size_t n) const;

    boost::asio::posix::stream_descriptor inotify_;
    boost::asio::steady_timer settle_timer_;
    std::filesystem::path file_;
    std::chrono::milliseconds settle_;
    int dir_watch_ = -1;
    int file_watch_ = -1;
    bool stopped_ = false;
    alignas(8) std::array<char, 4096> buffer_{};
};

}  // namespace linkpilot::app
