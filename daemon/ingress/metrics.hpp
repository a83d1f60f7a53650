#pragma once

// Ingress counters for /metrics (Prometheus text format). Updated from the ingress thread
// and read by /metrics on the same thread; atomics keep a future second thread honest.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

namespace linkpilot::ingress {

inline constexpr std::array<double, 10> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                          0.025,  0.05,  0.1,    0.5,   2.5};

class Metrics {
  public:
    // verified false: accepted unsigned under providers.<p>.allow_unsigned.
    void delivery(const std::string& provider, const std::string& event, const std::string& status,
                  bool verified);
    void answer(unsigned code);
    void latency(double seconds);
    void connection_opened() { ++open_connections_; }
    void connection_closed() { --open_connections_; }
    [[nodiscard]] std::int64_t open_connections() const { return open_connections_; }

    void render(std::string& out) const;

  private:
    std::map<std::tuple<std::string, std::string, std::string, bool>, std::uint64_t> deliveries_;
    std::map<unsigned, std::uint64_t> answers_;
    std::array<std::uint64_t, kLatencyBounds.size() + 1> latency_buckets_{};
    double latency_sum_ = 0;
    std::uint64_t latency_count_ = 0;
    std::atomic<std::int64_t> open_connections_{0};
};

}  // namespace linkpilot::ingress
