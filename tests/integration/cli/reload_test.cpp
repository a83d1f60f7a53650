// Config reload of a running `linkpilot serve`: SIGHUP with a valid config applies the new rules
// while a client keeps sending (no request fails), an invalid one is refused with FILE:LINE:COL
// and the old rules stay, and a change of the file itself reloads without a signal, however it
// is replaced: rewritten in place (all a single-file bind mount sees), renamed over, or swapped
// through a symlink the way Kubernetes updates a mounted ConfigMap.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/eventually.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/process.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::eventually;
using testing::Process;

constexpr auto kStartTimeout = 30s;  // the ASan build starts slowly on a loaded machine
constexpr std::string_view kSecret = "reload-secret";

// The config: one rule gives one job per push, two rules give two, so the 202 body tells which
// config answered. `extra` is appended as is (a broken line for the invalid case).
std::string config_text(const fs::path& state, int rules, const std::string& extra = {}) {
    std::string out =
        "version: 1\n"
        "server: { listen: \"127.0.0.1:0\", request_timeout: 5s }\n"
        "state: { path: \"" +
        state.string() +
        "\" }\n"
        "scalingo: { dry_run: true }\n"
        "providers:\n"
        "  github: { secrets: [\"" +
        std::string(kSecret) +
        "\"] }\n"
        "rules:\n"
        "  - { name: staging, on: push, deploy: { app: shop-staging } }\n";
    if (rules > 1) {
        out += "  - { name: production, on: push, deploy: { app: shop-production } }\n";
    }
    return out + extra;
}

class Cli_Reload : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::make_temp_dir("linkpilot-reload");
        // The config in a directory of its own, as /etc/linkpilot or a container mount.
        fs::create_directories(dir_ / "etc");
        config_ = dir_ / "etc" / "linkpilot.yaml";
        payload_ = testing::sample_push();
    }
    void TearDown() override { fs::remove_all(dir_); }

    [[nodiscard]] std::string config(int rules, const std::string& extra = {}) const {
        return config_text(dir_ / "state.db", rules, extra);
    }

    void start() {
        daemon_ = std::make_unique<Process>(
            LINKPILOT_BINARY, std::vector<std::string>{"serve", "-c", config_},
            std::map<std::string, std::string>{{"NOTIFY_SOCKET", ""}});
        port_ = daemon_->listening_port(kStartTimeout);
        ASSERT_NE(port_, 0) << daemon_->stderr_text();
        ASSERT_TRUE(daemon_->wait_for_line("config: watching", 5s)) << daemon_->stderr_text();
    }

    // The jobs a push produces now (-1 when the delivery was not accepted).
    int jobs_per_push() {
        const auto res = testing::send_github(port_, "push", payload_,
                                              "reload-" + std::to_string(++sent_), kSecret);
        if (res.status != 202) {
            return -1;
        }
        return static_cast<int>(boost::json::parse(res.body).at("jobs").as_int64());
    }

    // Polls with fresh deliveries until a push gives `jobs` jobs.
    bool eventually_jobs(int jobs) {
        return eventually([&] { return jobs_per_push() == jobs; }, 10s);
    }

    [[nodiscard]] std::size_t count_lines(const std::string& needle) const {
        const auto text = daemon_->stderr_text();
        std::size_t n = 0;
        for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
            ++n;
        }
        return n;
    }

    fs::path dir_;
    fs::path config_;
    std::string payload_;
    std::unique_ptr<Process> daemon_;
    unsigned short port_ = 0;
    int sent_ = 0;
};

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
}

ino_t inode(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_ino;
}

TEST_F(Cli_Reload, SighupAppliesAValidConfigWithoutFailingARequest) {
    write_file(config_, config(1));
    start();
    // A client sending back to back across the reload: every delivery must be accepted, by
    // the old rules (1 job) until the reload and by the new ones (2 jobs) after, never a mix.
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<std::string> outcomes;  // "202:<jobs>" or the failure
    std::thread client([&] {
        for (int i = 0; !stop; ++i) {
            const auto res =
                testing::send_github(port_, "push", payload_, "loop-" + std::to_string(i), kSecret);
            std::string outcome = std::to_string(res.status) + ":";
            outcome += res.status == 202
                           ? std::to_string(boost::json::parse(res.body).at("jobs").as_int64())
                           : res.error + res.body;
            const std::lock_guard lock(mutex);
            outcomes.push_back(std::move(outcome));
        }
    });
    auto sent = [&] {
        const std::lock_guard lock(mutex);
        return outcomes.size();
    };
    ASSERT_TRUE(eventually([&] { return sent() >= 5; })) << daemon_->stderr_text();
    write_file(config_, config(2));  // the watcher may see it first; either way it applies
    ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
    const auto before = sent();
    EXPECT_TRUE(eventually([&] {
        const std::lock_guard lock(mutex);
        return outcomes.size() > before + 5 && outcomes.back() == "202:2";
    })) << daemon_->stderr_text();
    stop = true;
    client.join();

    const std::lock_guard lock(mutex);
    bool switched = false;
    for (const auto& o : outcomes) {
        ASSERT_TRUE(o == "202:1" || o == "202:2") << "a request failed across the reload: " << o;
        EXPECT_FALSE(switched && o == "202:1") << "old rules answered after the new ones";
        switched = switched || o == "202:2";
    }
    EXPECT_TRUE(switched);
    EXPECT_TRUE(daemon_->wait_for_line("config " + config_.string() + " applied", 1s));
    EXPECT_EQ(daemon_->terminate(), 0) << daemon_->stderr_text();
}

TEST_F(Cli_Reload, SighupWithAnInvalidConfigKeepsTheRunningRulesAndSaysWhere) {
    write_file(config_, config(1));
    start();
    ASSERT_EQ(jobs_per_push(), 1);
    // Two rules, but the file also has an unknown key: nothing of it may apply.
    write_file(config_, config(2, "frobnicate: true\n"));
    ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
    const auto error = daemon_->wait_for_line(config_.string() + ":", 10s);
    ASSERT_TRUE(error) << daemon_->stderr_text();
    EXPECT_NE(error->find("frobnicate"), std::string::npos) << *error;
    // FILE:LINE:COL, with the line of the bad key (the 10th).
    EXPECT_NE(error->find(config_.string() + ":10:"), std::string::npos) << *error;
    EXPECT_TRUE(daemon_->wait_for_line("the running config stays in force", 1s));
    EXPECT_EQ(jobs_per_push(), 1);
    EXPECT_EQ(jobs_per_push(), 1);
    EXPECT_EQ(daemon_->terminate(), 0) << daemon_->stderr_text();
}

// A single-file bind mount (`-v ./linkpilot.yaml:/etc/linkpilot/linkpilot.yaml`) pins the
// inode: the container sees the host's edits only when they rewrite that same file.
TEST_F(Cli_Reload, FileRewrittenInPlaceIsReloadedWithoutASignal) {
    write_file(config_, config(1));
    start();
    ASSERT_EQ(jobs_per_push(), 1);
    const auto before = inode(config_);
    write_file(config_, config(2));
    ASSERT_EQ(inode(config_), before) << "the test must rewrite the same inode";
    EXPECT_TRUE(eventually_jobs(2)) << daemon_->stderr_text();
    EXPECT_TRUE(daemon_->wait_for_line("reload (file changed): config", 1s));
    EXPECT_EQ(daemon_->terminate(), 0) << daemon_->stderr_text();
}

// Editors, `sed -i` and configuration management write a new file and rename it over.
TEST_F(Cli_Reload, FileReplacedByRenameIsReloadedWithoutASignal) {
    write_file(config_, config(1));
    start();
    ASSERT_EQ(jobs_per_push(), 1);
    const auto before = inode(config_);
    const auto next = dir_ / "etc" / ".linkpilot.yaml.new";
    write_file(next, config(2));
    fs::rename(next, config_);
    ASSERT_NE(inode(config_), before);
    EXPECT_TRUE(eventually_jobs(2)) << daemon_->stderr_text();
    // The new inode is watched too: a second change is seen as well.
    write_file(config_, config(1));
    EXPECT_TRUE(eventually_jobs(1)) << daemon_->stderr_text();
    EXPECT_EQ(daemon_->terminate(), 0) << daemon_->stderr_text();
}

// Kubernetes mounts a ConfigMap as `linkpilot.yaml -> ..data/linkpilot.yaml` with
// `..data -> ..<timestamp>/`, and updates it by renaming a new `..data` link over the old one.
TEST_F(Cli_Reload, ConfigMapSymlinkSwapIsReloadedWithoutASignal) {
    const auto etc = dir_ / "etc";
    fs::create_directories(etc / "..v1");
    write_file(etc / "..v1" / "linkpilot.yaml", config(1));
    fs::create_directory_symlink("..v1", etc / "..data");
    fs::create_symlink("..data/linkpilot.yaml", config_);
    start();
    ASSERT_EQ(jobs_per_push(), 1);

    fs::create_directories(etc / "..v2");
    write_file(etc / "..v2" / "linkpilot.yaml", config(2));
    fs::create_directory_symlink("..v2", etc / "..data_tmp");
    fs::rename(etc / "..data_tmp", etc / "..data");
    fs::remove_all(etc / "..v1");
    EXPECT_TRUE(eventually_jobs(2)) << daemon_->stderr_text();
    EXPECT_EQ(daemon_->terminate(), 0) << daemon_->stderr_text();
}

TEST_F(Cli_Reload, RewritingTheSameBytesDoesNotReload) {
    write_file(config_, config(1));
    start();
    write_file(config_, config(1));  // same bytes: seen, compared, not applied
    // Only so that the two writes fall in separate settle windows (250 ms) and the first is
    // really looked at on its own; the assertion below does not depend on timing.
    std::this_thread::sleep_for(600ms);
    write_file(config_, config(2));  // then a real change, which must be the only reload
    EXPECT_TRUE(eventually_jobs(2)) << daemon_->stderr_text();
    EXPECT_EQ(count_lines("reload (file changed): config"), 1u) << daemon_->stderr_text();
    EXPECT_EQ(daemon_->terminate(), 0) << daemon_->stderr_text();
}

}  // namespace
}  // namespace linkpilot
