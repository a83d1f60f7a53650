// `linkpilot serve` under systemd's protocols, with the test playing systemd: sd_notify
// messages on a $NOTIFY_SOCKET datagram socket the test owns (READY=1 once the listener is up,
// WATCHDOG=1 keep-alives when $WATCHDOG_USEC is set, STOPPING=1 on SIGTERM), a listening
// socket passed as fd 3 with $LISTEN_FDS/$LISTEN_PID (socket activation), and the units in
// systemd/ through `systemd-analyze verify`.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

namespace linkpilot {
namespace {

using namespace std::chrono_literals;
using testing::http_request;
using testing::Process;

constexpr auto kStartTimeout = 30s;  // the ASan build starts slowly on a loaded machine

// The systemd side of sd_notify(3): a unix datagram socket collecting every line it receives.
class NotifySocket {
  public:
    explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const auto p = path_.string();
        if (fd_ < 0 || p.size() >= sizeof addr.sun_path) {
            throw std::runtime_error("notify socket: cannot create " + p);
        }
        std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("notify socket: bind " + p + ": " + std::strerror(errno));
        }
    }
    ~NotifySocket() { ::close(fd_); }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    [[nodiscard]] std::string path() const { return path_.string(); }

    // Receives until a line equal to (or, for "KEY=", starting with) `line` arrives; returns its
    // index in lines(), nullopt on timeout. Earlier lines are searched too, from `from`.
    std::optional<std::size_t> wait_for(const std::string& line, std::chrono::milliseconds timeout,
                                        std::size_t from = 0) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            for (std::size_t i = from; i < lines_.size(); ++i) {
                if (matches(lines_[i], line)) {
                    return i;
                }
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left <= 0ms) {
                return std::nullopt;
            }
            from = lines_.size();
            receive(left);
        }
    }

    // Takes whatever is queued now, without waiting.
    void drain() {
        while (receive(0ms)) {
        }
    }

    [[nodiscard]] const std::vector<std::string>& lines() const { return lines_; }
    [[nodiscard]] std::size_t count(const std::string& line) const {
        std::size_t n = 0;
        for (const auto& l : lines_) {
            n += matches(l, line) ? 1 : 0;
        }
        return n;
    }
    [[nodiscard]] std::string dump() const {
        std::string s;
        for (const auto& l : lines_) {
            s += "  " + l + "\n";
        }
        return s;
    }

  private:
    static bool matches(const std::string& got, const std::string& want) {
        return want.back() == '=' ? got.starts_with(want) : got == want;
    }

    bool receive(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
            return false;
        }
        std::string buf(4096, '\0');
        const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n <= 0) {
            return false;
        }
        buf.resize(static_cast<std::size_t>(n));
        std::istringstream in(buf);
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty()) {
                lines_.push_back(line);
            }
        }
        return true;
    }

    std::filesystem::path path_;
    int fd_ = -1;
    std::vector<std::string> lines_;
};

class Cli_Systemd : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::make_temp_dir("linkpilot-systemd");
        config_ = dir_ / "linkpilot.yaml";
        std::ofstream(config_)
            << "version: 1\n"
            << "server: { listen: \"127.0.0.1:0\", request_timeout: 5s }\n"
            << "state: { path: \"" << (dir_ / "state.db").string() << "\" }\n"
            << "scalingo: { dry_run: true }\n"
            << "providers:\n"
            << "  github: { secrets: [\"s3cret\"] }\n"
            << "rules:\n"
            << "  - { name: every-push, on: push, deploy: { app: shop-staging } }\n";
    }
    void TearDown() override {
        if (listener_ >= 0) {
            ::close(listener_);
        }
        std::filesystem::remove_all(dir_);
    }

    // A listening TCP socket on 127.0.0.1:0, inheritable (no CLOEXEC) like systemd's.
    unsigned short make_listener() {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            ::listen(listener_, 16) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error(std::string("listener: ") + std::strerror(errno));
        }
        return ntohs(addr.sin_port);
    }

    // `serve` started the way systemd starts it after socket activation: `fd_source` becomes
    // fd 3, LISTEN_FDS=1 and LISTEN_PID=<the daemon's own pid> (bash's $$ survives the exec).
    std::unique_ptr<Process> serve_with_fd3(const std::string& fd_source) {
        return std::make_unique<Process>(
            "/bin/bash",
            std::vector<std::string>{
                "-c", fd_source + "; LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" serve -c \"$1\"",
                LINKPILOT_BINARY, config_.string()},
            std::map<std::string, std::string>{{"NOTIFY_SOCKET", ""}});
    }

    std::filesystem::path dir_;
    std::filesystem::path config_;
    int listener_ = -1;
};

TEST_F(Cli_Systemd, ServesOnAnInheritedListeningSocket) {
    const auto port = make_listener();
    // Moved to fd 3 unless it is fd 3 already (moving a fd onto itself would close it).
    auto daemon =
        serve_with_fd3(listener_ == 3 ? ":" : "exec 3<&" + std::to_string(listener_) + "-");
    // From here only the daemon holds the socket.
    ::close(listener_);
    listener_ = -1;

    EXPECT_EQ(daemon->listening_port(kStartTimeout), port) << daemon->stderr_text();
    EXPECT_TRUE(daemon->wait_for_line("inherited from systemd (socket activation)", 1s))
        << daemon->stderr_text();
    const auto health = http_request("127.0.0.1", port, "GET", "/healthz");
    EXPECT_EQ(health.status, 200) << health.error << "\n" << daemon->stderr_text();
    EXPECT_EQ(daemon->terminate(), 0) << daemon->stderr_text();
}

TEST_F(Cli_Systemd, BindsServerListenAndSaysSoWithoutSocketActivation) {
    Process daemon(LINKPILOT_BINARY, {"serve", "-c", config_.string()}, {{"NOTIFY_SOCKET", ""}});
    const auto port = daemon.listening_port(kStartTimeout);
    ASSERT_NE(port, 0) << daemon.stderr_text();
    EXPECT_TRUE(daemon.wait_for_line("listener: bound server.listen 127.0.0.1:0", 1s))
        << daemon.stderr_text();
    EXPECT_EQ(http_request("127.0.0.1", port, "GET", "/healthz").status, 200);
    EXPECT_EQ(daemon.terminate(), 0) << daemon.stderr_text();
}

TEST_F(Cli_Systemd, RefusesAnInheritedFdThatIsNotAListeningTcpSocket) {
    auto daemon = serve_with_fd3("exec 3</dev/null");
    const auto code = daemon->wait(kStartTimeout);
    ASSERT_TRUE(code.has_value()) << "serve kept running:\n" << daemon->stderr_text();
    EXPECT_NE(*code, 0);
    EXPECT_NE(daemon->stderr_text().find("fd 3 is not a listening TCP socket"), std::string::npos)
        << daemon->stderr_text();
}

TEST_F(Cli_Systemd, NotifiesReadyAfterTheListenerAndStoppingOnSigterm) {
    NotifySocket notify(dir_ / "notify");
    Process daemon(LINKPILOT_BINARY, {"serve", "-c", config_.string()},
                   {{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", ""}});

    const auto ready = notify.wait_for("READY=1", kStartTimeout);
    ASSERT_TRUE(ready) << daemon.stderr_text() << "\nreceived:\n" << notify.dump();
    // READY=1 comes after the bind: the port is logged already and answers at once.
    const auto listening = daemon.wait_for_line("listening on http://", 0ms);
    ASSERT_TRUE(listening) << daemon.stderr_text();
    const auto port = daemon.listening_port(0ms);
    EXPECT_EQ(http_request("127.0.0.1", port, "GET", "/healthz").status, 200);
    EXPECT_TRUE(notify.wait_for("STATUS=accepting webhooks; 0 job(s) in flight", 0ms))
        << notify.dump();

    ASSERT_EQ(::kill(daemon.pid(), SIGTERM), 0);
    EXPECT_TRUE(notify.wait_for("STOPPING=1", 20s, *ready)) << notify.dump();
    EXPECT_EQ(daemon.wait(20s), std::optional<int>(0)) << daemon.stderr_text();
    notify.drain();
    // No watchdog was asked for, so none is sent.
    EXPECT_EQ(notify.count("WATCHDOG=1"), 0u) << notify.dump();
}

TEST_F(Cli_Systemd, SendsWatchdogKeepAlivesWhenSystemdAsksForThem) {
    NotifySocket notify(dir_ / "notify");
    // 200ms: keep-alives every 100ms from the event loop.
    Process daemon(LINKPILOT_BINARY, {"serve", "-c", config_.string()},
                   {{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "200000"}});

    const auto ready = notify.wait_for("READY=1", kStartTimeout);
    ASSERT_TRUE(ready) << daemon.stderr_text() << "\nreceived:\n" << notify.dump();
    const auto first = notify.wait_for("WATCHDOG=1", 10s, *ready);
    ASSERT_TRUE(first) << notify.dump();
    EXPECT_TRUE(notify.wait_for("WATCHDOG=1", 10s, *first + 1)) << notify.dump();

    ASSERT_EQ(::kill(daemon.pid(), SIGTERM), 0);
    EXPECT_TRUE(notify.wait_for("STOPPING=1", 20s, *ready)) << notify.dump();
    EXPECT_EQ(daemon.wait(20s), std::optional<int>(0)) << daemon.stderr_text();
}

TEST_F(Cli_Systemd, WatchdogForAnotherPidIsIgnored) {
    NotifySocket notify(dir_ / "notify");
    // WATCHDOG_PID names another process (sd_watchdog_enabled(3)): no keep-alives.
    Process daemon(LINKPILOT_BINARY, {"serve", "-c", config_.string()},
                   {{"NOTIFY_SOCKET", notify.path()},
                    {"WATCHDOG_USEC", "200000"},
                    {"WATCHDOG_PID", std::to_string(::getpid())}});
    const auto ready = notify.wait_for("READY=1", kStartTimeout);
    ASSERT_TRUE(ready) << daemon.stderr_text() << "\nreceived:\n" << notify.dump();
    ASSERT_EQ(::kill(daemon.pid(), SIGTERM), 0);
    EXPECT_TRUE(notify.wait_for("STOPPING=1", 20s, *ready)) << notify.dump();
    EXPECT_EQ(daemon.wait(20s), std::optional<int>(0)) << daemon.stderr_text();
    notify.drain();
    EXPECT_EQ(notify.count("WATCHDOG=1"), 0u) << notify.dump();
}

TEST(Cli_SystemdUnits, PassSystemdAnalyzeVerifyAndSecurity) {
    const std::string script = std::string(LINKPILOT_SOURCE_DIR) + "/systemd/verify";
    const std::string cmd =
        "LINKPILOT_BINARY='" + std::string(LINKPILOT_BINARY) + "' '" + script + "' >/dev/null 2>&1";
    const int status = std::system(cmd.c_str());  // NOLINT(cert-env33-c): a fixed test script
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        GTEST_SKIP() << "systemd-analyze is not installed";
    }
    EXPECT_EQ(WEXITSTATUS(status), 0) << "run " << script << " to see why";
}

}  // namespace
}  // namespace linkpilot
