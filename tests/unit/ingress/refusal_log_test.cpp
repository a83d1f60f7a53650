#include "daemon/ingress/refusal_log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/support/fake_clock.hpp"

namespace linkpilot::ingress {
namespace {

using namespace std::chrono_literals;

class Ingress_RefusalLog : public ::testing::Test {
  protected:
    [[nodiscard]] std::vector<std::string> lines() const {
        std::vector<std::string> out;
        std::istringstream in(out_.str());
        for (std::string line; std::getline(in, line);) {
            out.push_back(line);
        }
        return out;
    }

    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> logger_ = [this] {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out_);
        sink->set_pattern("%l %v");
        return std::make_shared<spdlog::logger>("ingress-test", sink);
    }();
    testing::FakeClock clock_;
    RefusalLog log_{clock_, logger_};
};

TEST_F(Ingress_RefusalLog, OneWarnLinePerKindPerIntervalThenTheCountLeftOut) {
    for (int i = 0; i < 20; ++i) {
        log_.note(Refusal::not_found, "GET", "/nope", "192.0.2.7:4242");
        clock_.advance(100ms);  // 20 requests in 2 s: well inside the 10 s
    }
    ASSERT_EQ(lines().size(), 1U);
    EXPECT_EQ(lines()[0],
              R"(warning answered 404 (no such endpoint) to GET "/nope" from 192.0.2.7:4242)");

    clock_.advance(RefusalLog::kInterval);  // now 12 s after the first line
    log_.note(Refusal::not_found, "GET", "/again", "192.0.2.7:4243");
    ASSERT_EQ(lines().size(), 2U);
    EXPECT_EQ(lines()[1],
              R"(warning answered 404 (no such endpoint) to GET "/again" from 192.0.2.7:4243 )"
              R"((19 more 404 answers since the previous such line; at most one line per 10s))");

    // The count starts again from that line.
    clock_.advance(RefusalLog::kInterval);
    log_.note(Refusal::not_found, "GET", "/third", "");
    ASSERT_EQ(lines().size(), 3U);
    EXPECT_EQ(lines()[2], R"(warning answered 404 (no such endpoint) to GET "/third" from -)");
}

TEST_F(Ingress_RefusalLog, KindsAreLimitedSeparately) {
    log_.note(Refusal::not_found, "GET", "/nope", "192.0.2.7:1");
    log_.note(Refusal::method_not_allowed, "DELETE", "/webhooks/github", "192.0.2.7:2");
    log_.note(Refusal::too_large, "POST", "/webhooks/gitlab", "192.0.2.7:3");
    log_.note(Refusal::not_found, "GET", "/nope", "192.0.2.7:4");  // left out
    const auto got = lines();
    ASSERT_EQ(got.size(), 3U) << out_.str();
    EXPECT_EQ(got[1],
              R"(warning answered 405 (method not allowed) to DELETE "/webhooks/github" from )"
              R"(192.0.2.7:2)");
    EXPECT_EQ(
        got[2],
        R"(warning answered 413 (body over server.max_body_bytes) to POST "/webhooks/gitlab" )"
        R"(from 192.0.2.7:3)");
}

// The query may hold a token a sender put in its webhook URL: only the path is shown.
TEST(Ingress_LoggablePath, DropsTheQueryEscapesAndCuts) {
    EXPECT_EQ(loggable_path("/nope?private_token=s3cret"), "/nope?...");
    EXPECT_EQ(loggable_path("/a\x01\x7f\xff\"\\b"), R"(/a\x01\x7f\xff\x22\x5cb)");
    EXPECT_EQ(loggable_path(std::string(300, 'x')), std::string(200, 'x') + "...");
    EXPECT_EQ(loggable_path("/ok/path-1.2_~%20"), "/ok/path-1.2_~%20");
}

}  // namespace
}  // namespace linkpilot::ingress
