#include "daemon/ingress/metrics.hpp"

#include <fmt/format.h>

#include "common/prometheus.hpp"

namespace linkpilot::ingress {

void Metrics::delivery(const std::string& provider, const std::string& event,
                       const std::string& status, bool verified) {
    ++deliveries_[{provider, event, status, verified}];
}

void Metrics::answer(unsigned code) { ++answers_[code]; }

void Metrics::latency(double seconds) {
    for (std::size_t i = 0; i < kLatencyBounds.size(); ++i) {
        if (seconds <= kLatencyBounds[i]) {
            ++latency_buckets_[i];
        }
    }
    ++latency_buckets_.back();
    latency_sum_ += seconds;
    ++latency_count_;
}

void Metrics::render(std::string& out) const {
    out +=
        "# HELP linkpilot_deliveries_total Webhook deliveries by provider, event, status and "
        "whether a signature or token verified them (false: allow_unsigned).\n";
    out += "# TYPE linkpilot_deliveries_total counter\n";
    for (const auto& [key, n] : deliveries_) {
        const auto& [provider, event, status, verified] = key;
        out += fmt::format(
            "linkpilot_deliveries_total{{provider=\"{}\",event=\"{}\",status=\"{}\",verified=\"{}"
            "\"}} {}\n",
            provider, event, status, verified, n);
    }
    out += "# HELP linkpilot_http_responses_total HTTP answers by status code.\n";
    out += "# TYPE linkpilot_http_responses_total counter\n";
    for (const auto& [code, n] : answers_) {
        out += fmt::format("linkpilot_http_responses_total{{code=\"{}\"}} {}\n", code, n);
    }
    append_histogram(out, "linkpilot_http_request_seconds",
                     "Time from request read to answer written.", kLatencyBounds, latency_buckets_,
                     latency_sum_, latency_count_);
    out += "# HELP linkpilot_open_connections Open HTTP connections.\n";
    out += "# TYPE linkpilot_open_connections gauge\n";
    out += fmt::format("linkpilot_open_connections {}\n", open_connections_.load());
}

}  // namespace linkpilot::ingress
