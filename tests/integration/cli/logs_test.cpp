// What `linkpilot serve` writes to stderr, as an operator reads it: under journald (stderr is
// the stream $JOURNAL_STREAM names) every line has a `<N>` syslog priority and no timestamp of
// its own; with `log.format: json` every line is one JSON object; either way every line about a
// delivery names it, every line about a job names the job and its delivery, and no configured
// secret ever shows.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/eventually.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::eventually;
using testing::Process;

constexpr auto kStartTimeout = 30s;
constexpr std::string_view kSecret = "logs-webhook-secret";
constexpr std::string_view kApiToken = "tk-us-logs-api-token";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            out.push_back(line);
        }
    }
    return out;
}

bool contains(const std::string& text, std::string_view needle) {
    return text.find(needle) != std::string::npos;
}

class Cli_Logs : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::make_temp_dir("linkpilot-logs");
        payload_ = testing::sample_push();
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path write_config(std::string_view format) {
        const auto path = dir_ / "linkpilot.yaml";
        std::ofstream(path) << "version: 1\n"
                            << "server: { listen: \"127.0.0.1:0\" }\n"
                            << "state: { path: \"" << (dir_ / "state.db").string() << "\" }\n"
                            << "scalingo: { dry_run: true, token: \"" << kApiToken << "\" }\n"
                            << "log: { format: " << format << " }\n"
                            << "providers:\n"
                            << "  github: { secrets: [\"" << kSecret << "\"] }\n"
                            << "rules:\n"
                            << "  - { name: staging, on: push, deploy: { app: shop-staging } }\n";
        return path;
    }

    // One accepted push (its job runs in dry-run) and one with a bad signature.
    void send_traffic(unsigned short port) {
        const auto ok = testing::send_github(port, "push", payload_, "logs-good-1", kSecret);
        ASSERT_EQ(ok.status, 202) << ok.body;
        const auto bad =
            testing::send_github(port, "push", payload_, "logs-bad-1", "not-the-secret");
        ASSERT_EQ(bad.status, 401) << bad.body;
    }

    fs::path dir_;
    std::string payload_;
};

// The checks common to both formats, on the messages alone.
void expect_ids_and_no_secrets(const std::vector<std::string>& messages) {
    bool saw_job = false;
    bool saw_delivery = false;
    bool saw_rejection = false;
    for (const auto& m : messages) {
        EXPECT_FALSE(contains(m, kSecret)) << m;
        EXPECT_FALSE(contains(m, kApiToken)) << m;
        if (m.starts_with("job ")) {
            saw_job = true;
            EXPECT_TRUE(contains(m, "deploy shop-staging (delivery logs-good-1)")) << m;
        }
        if (m.starts_with("delivery ")) {
            saw_delivery = true;
            EXPECT_TRUE(m.starts_with("delivery logs-good-1 ")) << m;
        }
        if (contains(m, "rejected")) {
            saw_rejection = true;
            EXPECT_TRUE(contains(m, "(delivery logs-bad-1)")) << m;
        }
    }
    EXPECT_TRUE(saw_job && saw_delivery && saw_rejection);
}

TEST_F(Cli_Logs, UnderJournaldEveryLineHasAPriorityAndNoTimestamp) {
    const auto config = write_config("text");
    const auto log_file = dir_ / "journal-stream";
    // What systemd does: stderr is the journal stream, and JOURNAL_STREAM names its dev:inode.
    Process daemon("/bin/bash",
                   {"-c",
                    "exec 2>\"$2\"; JOURNAL_STREAM=$(stat -L -c '%d:%i' /proc/self/fd/2) "
                    "exec \"$0\" serve -c \"$1\"",
                    LINKPILOT_BINARY, config.string(), log_file.string()},
                   {{"NOTIFY_SOCKET", ""}});
    unsigned short port = 0;
    ASSERT_TRUE(eventually(
        [&] {
            const auto text = testing::read_file(log_file);
            const auto at = text.find("listening on http://127.0.0.1:");
            if (at != std::string::npos) {
                port = static_cast<unsigned short>(std::stoi(
                    text.substr(at + std::string("listening on http://127.0.0.1:").size())));
            }
            return port != 0;
        },
        kStartTimeout))
        << testing::read_file(log_file);
    send_traffic(port);
    ASSERT_TRUE(eventually([&] { return contains(testing::read_file(log_file), ": done: "); }))
        << testing::read_file(log_file);
    EXPECT_EQ(daemon.terminate(), 0);

    std::vector<std::string> messages;
    for (const auto& line : lines_of(testing::read_file(log_file))) {
        // "<N>level message", N a syslog priority, and nothing that looks like a date.
        ASSERT_TRUE(line.size() > 4 && line[0] == '<' && line[2] == '>') << line;
        const auto rest = line.substr(3);
        const auto level = rest.substr(0, rest.find(' '));
        const char priority = line[1];
        if (level == "info") {
            EXPECT_EQ(priority, '6') << line;
        } else if (level == "warning") {
            EXPECT_EQ(priority, '4') << line;
        } else if (level == "error") {
            EXPECT_EQ(priority, '3') << line;
        } else {
            ADD_FAILURE() << "unexpected level in " << line;
        }
        EXPECT_FALSE(contains(line.substr(0, 30), "T") && contains(line.substr(0, 30), "Z "))
            << "a timestamp under journald: " << line;
        messages.push_back(rest.substr(level.size() + 1));
    }
    expect_ids_and_no_secrets(messages);
    // The rejected webhook is a warning, the stop an info.
    EXPECT_TRUE(contains(testing::read_file(log_file), "<4>warning github webhook (delivery "));
    EXPECT_TRUE(contains(testing::read_file(log_file), "<6>info stopped"));
}

TEST_F(Cli_Logs, JsonFormatGivesOneObjectPerLine) {
    const auto config = write_config("json");
    Process daemon(LINKPILOT_BINARY, {"serve", "-c", config.string()}, {{"NOTIFY_SOCKET", ""}});
    const auto port = daemon.listening_port(kStartTimeout);
    ASSERT_NE(port, 0) << daemon.stderr_text();
    send_traffic(port);
    ASSERT_TRUE(daemon.wait_for_line(": done: ", 20s)) << daemon.stderr_text();
    EXPECT_EQ(daemon.terminate(), 0);

    std::vector<std::string> messages;
    for (const auto& line : lines_of(daemon.stderr_text())) {
        boost::system::error_code ec;
        const auto v = boost::json::parse(line, ec);
        ASSERT_FALSE(ec) << "not JSON: " << line;
        ASSERT_TRUE(v.is_object()) << line;
        for (const auto* key : {"time", "level", "logger", "msg"}) {
            ASSERT_TRUE(v.as_object().contains(key)) << key << " missing in " << line;
        }
        messages.emplace_back(v.at("msg").as_string());
    }
    expect_ids_and_no_secrets(messages);
}

}  // namespace
}  // namespace linkpilot
