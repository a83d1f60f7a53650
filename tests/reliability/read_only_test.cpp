// Issue 10, disk faults: the state directory turns read-only. The state lives on a small ext4
// file system (a loop device, `errors=remount-ro`) and the test makes the kernel remount it
// read-only under the running daemon, the way a disk error does (ext4's `trigger_fs_error`):
// SQLite's open files can no longer be written. The ingress must answer 503 (the forge shows the
// failure and redelivers), say why in the log, and stay alive. A file system remounted read-only
// on an error stays so until it is unmounted and checked, so recovery is the operator's: stop
// the daemon, fsck, mount, start it again; then nothing acknowledged is lost and the refused
// delivery is accepted when redelivered. A daemon started on a read-only directory refuses to
// start and says why.
//
// Mounting needs root and loop devices (CI has both); elsewhere these tests skip and say so.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/reliability/dry_run_config.hpp"
#include "tests/reliability/sqlite_jobs.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Process;

constexpr std::string_view kSecret = "read-only-secret";

// Runs a command to completion; its exit code, or nullopt when it could not run or hung.
std::optional<int> run(const std::string& exe, const std::vector<std::string>& args,
                       std::string* output = nullptr) {
    try {
        Process p(exe, args);
        auto rc = p.wait(60s);
        if (output != nullptr) {
            *output = p.stdout_text() + p.stderr_text();
        }
        if (!rc) {
            p.kill();
        }
        return rc;
    } catch (const std::exception& e) {
        if (output != nullptr) {
            *output = e.what();
        }
        return std::nullopt;
    }
}

// Whether the kernel refuses to create a file in `dir` as read-only. (statvfs's ST_RDONLY and
// access(2) are not enough: ext4's emergency read-only state after an error leaves the mount `rw`.)
bool read_only(const fs::path& dir) {
    const auto probe = dir / ".probe";
    const int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
        ::unlink(probe.c_str());
        return false;
    }
    return errno == EROFS;
}

// A 32 MiB ext4 file system in a file, on its own loop device, mounted at `mnt`.
class Reliability_ReadOnly : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::make_temp_dir("linkpilot-read-only");
        image_ = dir_ / "state.img";
        mnt_ = dir_ / "mnt";
        fs::create_directories(mnt_);
        if (::geteuid() != 0) {
            GTEST_SKIP() << "SKIPPED: mounting a file system needs root (CI runs as root)";
        }
        std::string out;
        std::ofstream(image_).close();
        fs::resize_file(image_, 32U << 20U);
        if (run("/usr/bin/env", {"mkfs.ext4", "-q", "-F", image_.string()}, &out) != 0) {
            GTEST_SKIP() << "SKIPPED: mkfs.ext4 failed (e2fsprogs installed?): " << out;
        }
        if (run("/usr/bin/env", {"losetup", "--find", "--show", image_.string()}, &out) != 0) {
            GTEST_SKIP() << "SKIPPED: no loop device: " << out;
        }
        device_ = out.substr(0, out.find('\n'));
        if (!mount()) {
            GTEST_SKIP() << "SKIPPED: cannot mount " << device_ << ": " << out;
        }
    }

    void TearDown() override {
        if (mounted_) {
            run("/usr/bin/env", {"umount", "--lazy", mnt_.string()});
        }
        if (!device_.empty()) {
            run("/usr/bin/env", {"losetup", "--detach", device_});
        }
        fs::remove_all(dir_);
    }

    bool mount() {
        mounted_ = run("/usr/bin/env", {"mount", "-t", "ext4", "-o", "errors=remount-ro", device_,
                                        mnt_.string()}) == 0;
        return mounted_;
    }
    bool umount() {
        if (run("/usr/bin/env", {"umount", mnt_.string()}) != 0) {
            return false;
        }
        mounted_ = false;
        return true;
    }

    // What a disk error does: ext4 records it and, with errors=remount-ro, turns the whole file
    // system read-only at once, open files included.
    bool fail_the_file_system() {
        const auto name = fs::path(device_).filename().string();
        std::ofstream("/sys/fs/ext4/" + name + "/trigger_fs_error") << "linkpilot test\n";
        return testing::eventually([&] { return read_only(mnt_); });
    }

    fs::path write_config() {
        const auto config = dir_ / "linkpilot.yaml";
        testing::write_dry_run_config(config, state(), kSecret);
        return config;
    }
    [[nodiscard]] fs::path state() const { return mnt_ / "linkpilot" / "state.db"; }

    fs::path dir_, image_, mnt_;
    std::string device_;
    bool mounted_ = false;
};

TEST_F(Reliability_ReadOnly, AnswersServiceUnavailableOnceTheFileSystemTurnsReadOnlyLosesNothing) {
    const auto config = write_config();
    const auto push = testing::sample_push();
    std::vector<std::string> acked;
    {
        Process daemon(LINKPILOT_BINARY, {"serve", "-c", config.string()}, {{"NOTIFY_SOCKET", ""}});
        const auto port = daemon.listening_port(30s);
        ASSERT_NE(port, 0) << daemon.stderr_text();
        for (int i = 0; i < 5; ++i) {
            const auto id = "before-" + std::to_string(i);
            ASSERT_EQ(testing::send_github(port, "push", push, id, kSecret).status, 202);
            acked.push_back(id);
        }

        ASSERT_TRUE(fail_the_file_system()) << mnt_ << " is still writable";
        const auto refused = testing::send_github(port, "push", push, "during", kSecret);
        EXPECT_EQ(refused.status, 503) << refused.body << refused.error;
        EXPECT_NE(refused.body.find("state store unavailable"), std::string::npos) << refused.body;
        // The log names the delivery and the operating system's reason.
        const auto line = daemon.wait_for_line("delivery during: cannot store it", 5s);
        ASSERT_TRUE(line) << daemon.stderr_text();
        EXPECT_NE(line->find("Read-only file system"), std::string::npos) << daemon.stderr_text();
        // Still read-only: still refused; the process is alive and answers.
        EXPECT_EQ(testing::send_github(port, "push", push, "during", kSecret).status, 503);
        EXPECT_EQ(testing::http_request("127.0.0.1", port, "GET", "/healthz").status, 200);
        // SIGTERM still stops it (the final writes fail; it must not hang on them).
        const int code = daemon.terminate(20s);
        EXPECT_LT(code, 128) << "not stopped by SIGTERM in time\n" << daemon.stderr_text();
    }

    // The operator's repair: unmount, check, mount again, start the daemon again.
    ASSERT_TRUE(umount());
    std::string out;
    const auto fsck = run("/usr/bin/env", {"e2fsck", "-f", "-y", image_.string()}, &out);
    ASSERT_TRUE(fsck && (*fsck == 0 || *fsck == 1)) << out;  // 1: errors corrected
    ASSERT_TRUE(mount());
    ASSERT_FALSE(read_only(mnt_));

    Process daemon(LINKPILOT_BINARY, {"serve", "-c", config.string()}, {{"NOTIFY_SOCKET", ""}});
    const auto port = daemon.listening_port(30s);
    ASSERT_NE(port, 0) << daemon.stderr_text();
    // The forge's redelivery of the refused one is accepted now.
    EXPECT_EQ(testing::send_github(port, "push", push, "during", kSecret).status, 202);
    acked.push_back("during");
    EXPECT_TRUE(testing::eventually([&] {
        return testing::all_done(testing::read_sqlite_jobs(state()));
    })) << daemon.stderr_text();
    EXPECT_EQ(daemon.terminate(), 0) << daemon.stderr_text();

    // Every acknowledged delivery is in the store with its one job, done.
    const auto jobs = testing::read_sqlite_jobs(state());
    EXPECT_TRUE(testing::all_done(jobs));
    testing::expect_one_job_per_delivery(jobs, acked);
}

TEST_F(Reliability_ReadOnly, RefusesToStartOnAReadOnlyStateDirectoryAndSaysWhy) {
    const auto config = write_config();
    // Once with the state already there, once with nothing created yet.
    {
        Process first(LINKPILOT_BINARY, {"serve", "-c", config.string()}, {{"NOTIFY_SOCKET", ""}});
        ASSERT_NE(first.listening_port(30s), 0) << first.stderr_text();
        ASSERT_EQ(first.terminate(), 0) << first.stderr_text();
    }
    for (const bool existing : {true, false}) {
        SCOPED_TRACE(existing ? "existing state" : "no state yet");
        if (!existing) {
            ASSERT_TRUE(umount());
            ASSERT_EQ(run("/usr/bin/env", {"mkfs.ext4", "-q", "-F", image_.string()}), 0);
            ASSERT_TRUE(mount());
            fs::create_directories(state().parent_path());
        }
        ASSERT_EQ(run("/usr/bin/env", {"mount", "-o", "remount,ro", mnt_.string()}), 0);
        ASSERT_TRUE(read_only(mnt_));

        Process daemon(LINKPILOT_BINARY, {"serve", "-c", config.string()}, {{"NOTIFY_SOCKET", ""}});
        const auto code = daemon.wait(30s);
        ASSERT_TRUE(code) << "serve started on a read-only state directory\n"
                          << daemon.stderr_text();
        EXPECT_NE(*code, 0);
        const auto err = daemon.stderr_text();
        EXPECT_NE(err.find(state().string()), std::string::npos) << err;
        EXPECT_NE(err.find("Read-only file system"), std::string::npos) << err;
        ASSERT_EQ(run("/usr/bin/env", {"mount", "-o", "remount,rw", mnt_.string()}), 0);
    }
}

}  // namespace
}  // namespace linkpilot
