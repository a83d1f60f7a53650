#include "daemon/scalingo/metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace linkpilot::scalingo {
namespace {

using namespace std::chrono_literals;

std::string rendered(const Metrics& m) {
    std::string out;
    m.render_prometheus(out);
    return out;
}

void expect_lines(const std::string& out, std::initializer_list<std::string> lines) {
    for (const auto& line : lines) {
        EXPECT_NE(out.find(line), std::string::npos) << line << out;
    }
}

TEST(Scalingo_Metrics, BeforeAnyCallRendersTheNamesWithEmptyHistograms) {
    const auto out = rendered(Metrics{});
    expect_lines(out, {
                          "# TYPE linkpilot_scalingo_calls_total counter\n",
                          "# TYPE linkpilot_scalingo_call_seconds histogram\n",
                          "linkpilot_scalingo_call_seconds_count 0\n",
                          "# TYPE linkpilot_scalingo_pacing_seconds histogram\n",
                          "linkpilot_scalingo_pacing_seconds_bucket{le=\"+Inf\"} 0\n",
                      });
    EXPECT_EQ(out.find("linkpilot_scalingo_calls_total{"), std::string::npos) << out;
}

TEST(Scalingo_Metrics, PacingBucketsAreCumulativeFromZero) {
    Metrics m;
    m.observe_pacing(0ms);
    m.observe_pacing(1500ms);
    m.observe_pacing(400s);  // a long queue: beyond the last bound
    expect_lines(rendered(m), {
                                  "linkpilot_scalingo_pacing_seconds_bucket{le=\"0\"} 1\n",
                                  "linkpilot_scalingo_pacing_seconds_bucket{le=\"1\"} 1\n",
                                  "linkpilot_scalingo_pacing_seconds_bucket{le=\"2.5\"} 2\n",
                                  "linkpilot_scalingo_pacing_seconds_bucket{le=\"300\"} 2\n",
                                  "linkpilot_scalingo_pacing_seconds_bucket{le=\"+Inf\"} 3\n",
                                  "linkpilot_scalingo_pacing_seconds_sum 401.5\n",
                                  "linkpilot_scalingo_pacing_seconds_count 3\n",
                              });
}

TEST(Scalingo_Metrics, StatusOutOfRangeIsNoAnswerAndNegativeTimeIsZero) {
    Metrics m;
    m.count_call(ApiCall::links, 700, -5ms);  // must not wrap the unsigned sum
    EXPECT_EQ(m.calls(ApiCall::links, 0), 1U);
    expect_lines(rendered(m), {
                                  "linkpilot_scalingo_calls_total{call=\"links\",status=\"0\"} 1\n",
                                  "linkpilot_scalingo_call_seconds_bucket{le=\"0.05\"} 1\n",
                                  "linkpilot_scalingo_call_seconds_sum 0\n",
                              });
}

}  // namespace
}  // namespace linkpilot::scalingo
