#pragma once

// ingress::Connection over a beast::test::stream, for session tests (tests/unit/ingress): the
// deadlines run on a FakeClock. expire() does what beast::tcp_stream does when an armed
// deadline passes: the pending operation fails and the connection is closed.

#include <boost/beast/_experimental/test/stream.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "daemon/ingress/connection.hpp"
#include "tests/support/fake_clock.hpp"

namespace linkpilot::testing {

class TestConnection final : public ingress::Connection {
  public:
    TestConnection(boost::beast::test::stream& stream, const FakeClock& clock)
        : stream_(stream), clock_(clock) {}

    void arm(std::chrono::steady_clock::duration timeout) override {
        armed_.push_back(timeout);
        deadline_ = clock_.steady_now() + timeout;
    }
    void shutdown_send() override {
        ++shutdowns_;
        stream_.close();
    }
    void cut() override {
        ++cuts_;
        stream_.close();
    }
    void close() override { stream_.close(); }
    [[nodiscard]] std::optional<std::size_t> unread() const override {
        return stream_.str().size();
    }
    [[nodiscard]] std::string peer() const override { return "192.0.2.7:4242"; }

    // Once the clock has passed the last armed deadline: closes the stream (the pending read
    // fails) and returns true.
    bool expire() {
        if (!deadline_ || clock_.steady_now() < *deadline_) {
            return false;
        }
        stream_.close();
        return true;
    }

    // Every timeout armed, in order.
    [[nodiscard]] const std::vector<std::chrono::steady_clock::duration>& armed() const {
        return armed_;
    }
    [[nodiscard]] int shutdowns() const { return shutdowns_; }
    [[nodiscard]] int cuts() const { return cuts_; }

  private:
    boost::beast::test::stream& stream_;
    const FakeClock& clock_;
    std::optional<std::chrono::steady_clock::time_point> deadline_;
    std::vector<std::chrono::steady_clock::duration> armed_;
    int shutdowns_ = 0;
    int cuts_ = 0;
};

}  // namespace linkpilot::testing
