// The daemon's log framing: timestamps on a terminal, `<N>` syslog priorities and no timestamp
// under journald, one valid JSON object per line with `log.format: json` whatever the message
// holds, and journald detected only on the stream $JOURNAL_STREAM names.
#include "daemon/app/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <stdio.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace linkpilot::app {
namespace {

// "YYYY-MM-DDTHH:MM:SS.<fraction>Z" with `fraction` digits.
bool is_utc_timestamp(std::string_view s, std::size_t fraction) {
    const std::string shape = "dddd-dd-ddTdd:dd:dd." + std::string(fraction, 'd') + "Z";
    if (s.size() != shape.size()) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool ok = shape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == shape[i];
        if (!ok) {
            return false;
        }
    }
    return true;
}

struct Captured {
    std::ostringstream out;
    std::shared_ptr<spdlog::logger> log;

    Captured(config::LogFormat format, bool journald) {
        log =
            make_logger("linkpilot", format,
                        LogTarget{std::make_shared<spdlog::sinks::ostream_sink_st>(out), journald});
    }
    std::vector<std::string> lines() const {
        std::vector<std::string> v;
        std::istringstream in(out.str());
        for (std::string line; std::getline(in, line);) {
            v.push_back(line);
        }
        return v;
    }
};

TEST(App_Logging, TerminalLinesStartWithAnUtcTimestampAndTheLevel) {
    Captured c(config::LogFormat::text, false);
    c.log->info("delivery d-1 (github push acme/shop): queued, 1 job(s)");
    const auto lines = c.lines();
    ASSERT_EQ(lines.size(), 1u);
    const auto space = lines[0].find(' ');
    EXPECT_TRUE(is_utc_timestamp(std::string_view(lines[0]).substr(0, space), 3)) << lines[0];
    EXPECT_EQ(lines[0].substr(space),
              " info delivery d-1 (github push acme/shop): queued, 1 job(s)");
}

TEST(App_Logging, JournaldLinesCarryTheSyslogPriorityAndNoTimestamp) {
    Captured c(config::LogFormat::text, true);
    c.log->critical("c");
    c.log->error("e");
    c.log->warn("w");
    c.log->info("i");
    c.log->set_level(spdlog::level::debug);
    c.log->debug("d");
    const std::vector<std::string> want{"<2>critical c", "<3>error e", "<4>warning w", "<6>info i",
                                        "<7>debug d"};
    EXPECT_EQ(c.lines(), want);
}

TEST(App_Logging, JsonLinesStayValidWhateverTheMessageHolds) {
    Captured c(config::LogFormat::json, false);
    // A rules reason quotes payload values; a payload may hold anything.
    const std::string nasty = "branch: \"ma\\in\" does not match \"main\"\n\ttab \x01 \xc3\xa9";
    c.log->warn("job 7 deploy shop (delivery d-2): {}", nasty);
    const auto lines = c.lines();
    ASSERT_EQ(lines.size(), 1u) << "a newline in the message must not split the line";
    boost::system::error_code ec;
    const auto v = boost::json::parse(lines[0], ec);
    ASSERT_FALSE(ec) << lines[0];
    EXPECT_EQ(v.at("msg").as_string(), "job 7 deploy shop (delivery d-2): " + nasty);
    EXPECT_EQ(v.at("level").as_string(), "warning");
    EXPECT_EQ(v.at("logger").as_string(), "linkpilot");
    EXPECT_TRUE(is_utc_timestamp(v.at("time").as_string(), 6)) << lines[0];
}

TEST(App_Logging, JsonUnderJournaldKeepsThePriorityOutsideTheObject) {
    Captured c(config::LogFormat::json, true);
    c.log->error("store unavailable");
    const auto lines = c.lines();
    ASSERT_EQ(lines.size(), 1u);
    ASSERT_TRUE(lines[0].starts_with("<3>{")) << lines[0];
    // journald strips the prefix; what it stores must be the JSON object alone.
    EXPECT_EQ(boost::json::parse(lines[0].substr(3)).at("msg").as_string(), "store unavailable");
}

TEST(App_Logging, JournalStreamMatchesOnlyTheStreamItNames) {
    FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    struct stat st {};
    ASSERT_EQ(::fstat(::fileno(f), &st), 0);
    const auto mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    EXPECT_TRUE(is_journal_stream(mine.c_str(), ::fileno(f)));
    const auto other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
    EXPECT_FALSE(is_journal_stream(other.c_str(), ::fileno(f)));
    EXPECT_FALSE(is_journal_stream(nullptr, ::fileno(f)));
    EXPECT_FALSE(is_journal_stream("", ::fileno(f)));
    EXPECT_FALSE(is_journal_stream("not-a-stream", ::fileno(f)));
    std::fclose(f);
}

TEST(App_Logging, SyslogPrioritiesFollowSdDaemon) {
    EXPECT_EQ(syslog_priority(spdlog::level::critical), 2);
    EXPECT_EQ(syslog_priority(spdlog::level::err), 3);
    EXPECT_EQ(syslog_priority(spdlog::level::warn), 4);
    EXPECT_EQ(syslog_priority(spdlog::level::info), 6);
    EXPECT_EQ(syslog_priority(spdlog::level::debug), 7);
    EXPECT_EQ(syslog_priority(spdlog::level::trace), 7);
}

}  // namespace
}  // namespace linkpilot::app
