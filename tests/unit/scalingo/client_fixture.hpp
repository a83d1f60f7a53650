#pragma once

// A Client against the loopback fake of Scalingo, for the client's and the dry-run wrapper's
// tests.

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "daemon/scalingo/client.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/unit/scalingo/loopback.hpp"

namespace linkpilot::scalingo::testing {

using namespace std::chrono_literals;
namespace net = boost::asio;

constexpr const char* kApiToken = "tk-us-loopback-secret";

// Everything a loopback test needs, in destruction-safe order (the io_context goes last).
struct ClientFixture {
    net::io_context ioc;
    linkpilot::testing::FakeClock clock;
    FakeScalingo fake{clock, kApiToken};
    LoopbackServer server{ioc, fake};
    std::ostringstream log;
    std::shared_ptr<spdlog::logger> logger = [this] {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
        auto l = std::make_shared<spdlog::logger>("scalingo-test", sink);
        l->set_level(spdlog::level::trace);
        return l;
    }();

    ClientOptions options(std::string token = kApiToken) const {
        ClientOptions o;
        o.endpoint = Endpoint{server.url(), server.url()};
        o.token = config::Secret(std::move(token));
        o.rate_limit.requests = 0;  // pacing has its own tests; keep these instant
        o.timeouts.read = 2s;
        o.timeouts.connect = 2s;
        o.timeouts.total = 5s;
        return o;
    }

    std::unique_ptr<Client> client(ClientOptions o) {
        auto c = Client::create(std::move(o), clock, ioc.get_executor(), logger);
        EXPECT_TRUE(c) << c.error();
        return std::move(*c);
    }
};

inline std::string rendered(const Client& client) {
    std::string out;
    client.metrics().render_prometheus(out);
    return out;
}

}  // namespace linkpilot::scalingo::testing
