// Issue 10, disk faults: the state store cannot grow (the daemon runs under a file size limit,
// RLIMIT_FSIZE, so SQLite's writes fail the way they do on a full disk). The ingress must answer
// 503 instead of 202 (the forge shows the failure and can redeliver), say why in the log, stay
// alive, and accept again once writes succeed (the limit is lifted from outside with
// prlimit(1), as freeing space would); nothing acknowledged before is lost.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
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

constexpr std::string_view kSecret = "disk-full-secret";
// Room for a few deliveries past the empty database; the WAL then cannot grow.
constexpr int kFileSizeLimitKiB = 600;

class Reliability_DiskFull : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::make_temp_dir("linkpilot-disk-full"); }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(Reliability_DiskFull, AnswersServiceUnavailableWhileTheStoreCannotGrowThenRecovers) {
    const auto config = dir_ / "linkpilot.yaml";
    const auto state = dir_ / "state.db";
    testing::write_dry_run_config(config, state, kSecret);
    const auto push = testing::sample_push();
    // SIGXFSZ ignored (its default would kill the process), the soft limit set so that it can
    // be raised again; bash execs, so the daemon keeps this pid.
    Process daemon("/bin/bash",
                   {"-c",
                    "trap '' XFSZ; ulimit -S -f " + std::to_string(kFileSizeLimitKiB) +
                        "; exec \"$0\" serve -c \"$1\"",
                    LINKPILOT_BINARY, config.string()},
                   {{"NOTIFY_SOCKET", ""}});
    const auto port = daemon.listening_port(30s);
    ASSERT_NE(port, 0) << daemon.stderr_text();

    std::vector<std::string> acked;
    std::string refused;
    testing::HttpResult refusal;
    for (int i = 0; i < 500 && refused.empty(); ++i) {
        const auto id = "full-" + std::to_string(i);
        auto r = testing::send_github(port, "push", push, id, kSecret);
        if (r.status == 202) {
            acked.push_back(id);
        } else {
            refused = id;
            refusal = std::move(r);
        }
    }
    ASSERT_FALSE(refused.empty()) << "the store never filled up";
    ASSERT_FALSE(acked.empty()) << "the limit left no room for a first delivery";
    EXPECT_EQ(refusal.status, 503) << refusal.body << refusal.error;
    EXPECT_NE(refusal.body.find("state store unavailable"), std::string::npos) << refusal.body;
    EXPECT_TRUE(daemon.wait_for_line("delivery " + refused + ": cannot store it", 5s))
        << daemon.stderr_text();
    // Still full: still refused, and the daemon is alive.
    EXPECT_EQ(testing::send_github(port, "push", push, refused, kSecret).status, 503);
    EXPECT_EQ(testing::http_request("127.0.0.1", port, "GET", "/healthz").status, 200);

    // Space comes back.
    Process lift("/usr/bin/prlimit", {"--pid", std::to_string(daemon.pid()), "--fsize=unlimited:"});
    ASSERT_EQ(lift.wait(10s), 0) << lift.stderr_text();

    // The forge's redelivery of the refused one is accepted, and so are new ones.
    EXPECT_TRUE(testing::eventually([&] {
        return testing::send_github(port, "push", push, refused, kSecret).status == 202;
    })) << daemon.stderr_text();
    acked.push_back(refused);
    for (int i = 0; i < 3; ++i) {
        const auto id = "after-" + std::to_string(i);
        ASSERT_EQ(testing::send_github(port, "push", push, id, kSecret).status, 202);
        acked.push_back(id);
    }
    // The executor's writes failed too while the disk was full; its jobs still all finish.
    EXPECT_TRUE(testing::eventually([&] {
        return testing::all_done(testing::read_sqlite_jobs(state));
    })) << daemon.stderr_text();
    EXPECT_EQ(daemon.terminate(), 0) << daemon.stderr_text();

    // Every acknowledged delivery is in the store with its one job.
    testing::expect_one_job_per_delivery(testing::read_sqlite_jobs(state), acked);
}

}  // namespace
}  // namespace linkpilot
