// scalingo::Client against the real `linkpilot simulate-scalingo` over TLS, with a CA and
// server certificates generated at test time (issue 6, must-show 1), plus fault tests where
// the retry policy (scalingo::decide) drives the attempts against the simulator's
// POST /_sim/faults (must-show 2 and 3, end to end).

#include "daemon/scalingo/client.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "daemon/scalingo/http.hpp"
#include "daemon/scalingo/retry.hpp"
#include "tests/integration/scalingo/certificates.hpp"
#include "tests/support/coroutines.hpp"
#include "tests/support/process.hpp"

// GCC 12 warns falsely on Asio coroutine frames at -O1 (see daemon/scalingo/CMakeLists.txt).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace linkpilot::scalingo {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;
using linkpilot::testing::Attempts;
using linkpilot::testing::LeafCertificate;
using linkpilot::testing::Process;
using linkpilot::testing::run;
using linkpilot::testing::TestPki;
using linkpilot::testing::with_retries;
using net::ip::tcp;
using namespace net::experimental::awaitable_operators;

constexpr auto kUse = net::as_tuple(net::use_awaitable);
constexpr const char* kApiToken = "tk-us-integration";

// A minimal HTTP CONNECT proxy on 127.0.0.1:0 (what HTTPS_PROXY points at in a corporate
// network): records each CONNECT target, then pipes bytes both ways without looking at them.
class ConnectProxy {
  public:
    explicit ConnectProxy(net::io_context& ioc)
        : acceptor_(ioc, {net::ip::make_address("127.0.0.1"), 0}) {
        net::co_spawn(ioc, accept_loop(), net::detached);
    }

    [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }
    [[nodiscard]] const std::vector<std::string>& targets() const { return targets_; }

  private:
    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(kUse);
            if (ec) {
                co_return;
            }
            net::co_spawn(acceptor_.get_executor(), tunnel(std::move(socket)), net::detached);
        }
    }

    net::awaitable<void> tunnel(tcp::socket client) {
        boost::beast::flat_buffer buffer;
        http::request_parser<http::empty_body> parser;
        auto [ec, n] = co_await http::async_read_header(client, buffer, parser, kUse);
        if (ec || parser.get().method() != http::verb::connect) {
            co_return;
        }
        const std::string target(parser.get().target());
        targets_.push_back(target);
        const auto colon = target.rfind(':');
        tcp::resolver resolver(client.get_executor());
        auto [rec, endpoints] = co_await resolver.async_resolve(target.substr(0, colon),
                                                                target.substr(colon + 1), kUse);
        tcp::socket upstream(client.get_executor());
        boost::system::error_code cec = rec;
        if (!cec) {
            auto [c, endpoint] = co_await net::async_connect(upstream, endpoints, kUse);
            cec = c;
        }
        const std::string answer = cec ? "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"
                                       : "HTTP/1.1 200 Connection established\r\n\r\n";
        auto [wec, w] = co_await net::async_write(client, net::buffer(answer), kUse);
        if (cec || wec) {
            co_return;
        }
        co_await (pipe(client, upstream) || pipe(upstream, client));
    }

    static net::awaitable<void> pipe(tcp::socket& from, tcp::socket& to) {
        std::array<char, 16384> data{};
        for (;;) {
            auto [ec, n] = co_await from.async_read_some(net::buffer(data), kUse);
            if (ec) {
                co_return;
            }
            auto [wec, w] = co_await net::async_write(to, net::buffer(data.data(), n), kUse);
            if (wec) {
                co_return;
            }
        }
    }

    tcp::acceptor acceptor_;
    std::vector<std::string> targets_;
};

// The real simulator, serving HTTPS with `leaf`, seeded with app "shop" linked to a repo.
class Simulator {
  public:
    Simulator(const TestPki& pki, const LeafCertificate& leaf) {
        const auto seed = pki.dir() / "seed.json";
        std::ofstream(seed) << R"({"apps": ["shop"],
            "links": [{"app": "shop", "source": "https://github.com/acme/shop",
                       "branch": "main"}]})";
        process_ = std::make_unique<Process>(
            LINKPILOT_BINARY,
            std::vector<std::string>{"simulate-scalingo", "--listen", "127.0.0.1:0", "--seed",
                                     seed.string(), "--token", kApiToken, "--tls-cert",
                                     leaf.cert.string(), "--tls-key", leaf.key.string()});
        port_ = process_->listening_port();
    }
    // Process removes its output folder itself (after archiving it for scripts/scan-secrets).
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    [[nodiscard]] unsigned short port() const { return port_; }
    [[nodiscard]] std::string url(const std::string& host) const {
        return "https://" + host + ":" + std::to_string(port_);
    }
    Process& process() { return *process_; }

  private:
    std::unique_ptr<Process> process_;
    unsigned short port_ = 0;
};

class ScalingoIntegration : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!pki_.error().empty()) {
            GTEST_SKIP() << "cannot make test certificates: " << pki_.error();
        }
        leaf_ = pki_.issue("server", common_name_, san_);
        ASSERT_TRUE(pki_.error().empty()) << pki_.error();
        sim_ = std::make_unique<Simulator>(pki_, leaf_);
        ASSERT_NE(sim_->port(), 0) << sim_->process().stderr_text();
    }

    ClientOptions options(const std::string& host = "127.0.0.1", bool trust_ca = true,
                          std::string token = kApiToken) const {
        ClientOptions o;
        o.endpoint = Endpoint{sim_->url(host), sim_->url(host)};
        o.token = config::Secret(std::move(token));
        if (trust_ca) {
            o.ca_file = pki_.ca_cert();
        }
        o.rate_limit.requests = 0;  // the simulator runs without --rate-limit
        o.timeouts = Timeouts{5s, 5s, 10s};
        return o;
    }

    std::unique_ptr<Client> client(ClientOptions o) {
        auto c = Client::create(std::move(o), clock_, ioc_.get_executor(), nullptr);
        if (!c) {
            ADD_FAILURE() << c.error();
            return nullptr;
        }
        return std::move(*c);
    }

    // A test-control call (/_sim/...) over the same TLS transport the client uses.
    json::value control(http::verb method, const std::string& target, std::string body = {}) {
        HttpOptions http_options;
        http_options.ca_file = pki_.ca_cert();
        http_options.user_agent = "linkpilot-test";
        auto transport = HttpTransport::create(ioc_.get_executor(), std::move(http_options));
        if (!transport) {
            ADD_FAILURE() << transport.error();
            return nullptr;
        }
        auto origin = parse_origin(sim_->url("127.0.0.1"));
        if (!origin) {
            ADD_FAILURE() << origin.error();
            return nullptr;
        }
        HttpRequest req;
        req.method = method;
        req.target = target;
        req.body = std::move(body);
        auto res = run<Expected<HttpResponse, CallError>>(
            ioc_, [&]() -> net::awaitable<Expected<HttpResponse, CallError>> {
                co_return co_await (*transport)
                    ->send(*origin, req, std::chrono::steady_clock::now() + 10s);
            });
        if (!res) {
            ADD_FAILURE() << target << ": " << res.error().message;
            return nullptr;
        }
        if (res->status >= 300) {
            ADD_FAILURE() << target << ": " << res->status << " " << res->body;
            return nullptr;
        }
        return res->body.empty() ? json::value(nullptr) : json::parse(res->body);
    }

    // The simulator's log of Scalingo calls (test controls excluded) as "METHOD PATH STATUS".
    std::vector<std::string> calls() {
        std::vector<std::string> out;
        const auto log = control(http::verb::get, "/_sim/calls");
        if (!log.is_array()) {
            return out;
        }
        for (const auto& c : log.as_array()) {
            out.push_back(std::string(c.at("method").as_string()) + " " +
                          std::string(c.at("path").as_string()) + " " +
                          std::to_string(c.at("status").to_number<unsigned>()));
        }
        return out;
    }

    // The names the simulator's certificate is issued for.
    std::string common_name_ = "localhost";
    std::string san_ = "DNS:localhost,IP:127.0.0.1";
    TestPki pki_;
    LeafCertificate leaf_;
    std::unique_ptr<Simulator> sim_;
    net::io_context ioc_;
    SystemClock clock_;
};

// Between attempts, a real timer: the simulator's Retry-After is honoured in real time.
net::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_after(d);
    auto [ec] = co_await timer.async_wait(kUse);
    (void)ec;
}

const std::string kDeployPath = "/v1/apps/shop/scm_repo_link/manual_deploy";

TEST_F(ScalingoIntegration, CallSucceedsOverTlsWithCaFile) {
    auto c = client(options("127.0.0.1"));
    ASSERT_NE(c, nullptr);
    auto link = run<Expected<ScmRepoLink, CallError>>(
        ioc_, [&]() -> Call<ScmRepoLink> { co_return co_await c->link("shop"); });
    ASSERT_TRUE(link) << link.error().message;
    EXPECT_EQ(link->owner, "acme");
    EXPECT_EQ(link->repo, "shop");
    EXPECT_EQ(link->branch, "main");
    auto deploy = run<Expected<Deployment, CallError>>(
        ioc_, [&]() -> Call<Deployment> { co_return co_await c->manual_deploy("shop", "main"); });
    ASSERT_TRUE(deploy) << deploy.error().message;
    EXPECT_FALSE(deploy->id.empty());
    EXPECT_EQ(c->exchanges(), 1U);
}

TEST_F(ScalingoIntegration, DnsNameInTheCertificateIsAccepted) {
    auto c = client(options("localhost"));
    ASSERT_NE(c, nullptr);
    auto link = run<Expected<ScmRepoLink, CallError>>(
        ioc_, [&]() -> Call<ScmRepoLink> { co_return co_await c->link("shop"); });
    ASSERT_TRUE(link) << link.error().message;
    EXPECT_EQ(link->branch, "main");
}

TEST_F(ScalingoIntegration, UntrustedCertificateIsRefusedClearly) {
    auto c = client(options("127.0.0.1", /*trust_ca=*/false));
    ASSERT_NE(c, nullptr);
    auto link = run<Expected<ScmRepoLink, CallError>>(
        ioc_, [&]() -> Call<ScmRepoLink> { co_return co_await c->link("shop"); });
    ASSERT_FALSE(link);
    EXPECT_EQ(link.error().kind, ErrorKind::fatal);  // retrying does not make a CA trusted
    EXPECT_EQ(link.error().status, 0U);
    EXPECT_NE(link.error().message.find("certificate verification failed"), std::string::npos)
        << link.error().message;
    EXPECT_NE(link.error().message.find("unable to get local issuer certificate"),
              std::string::npos)
        << link.error().message;
    EXPECT_NE(link.error().message.find("scalingo.ca_file"), std::string::npos)
        << link.error().message;
    EXPECT_TRUE(calls().empty());  // not even the token went over the untrusted connection
}

// A certificate from the trusted CA, but for another name than the one the client dialled.
class ScalingoWrongHost : public ScalingoIntegration {
  protected:
    ScalingoWrongHost() {
        common_name_ = "api.scalingo.invalid";
        san_ = "DNS:api.scalingo.invalid";
    }
};

TEST_F(ScalingoWrongHost, HostNameNotInTheCertificateIsRefused) {
    auto c = client(options("localhost"));
    ASSERT_NE(c, nullptr);
    auto link = run<Expected<ScmRepoLink, CallError>>(
        ioc_, [&]() -> Call<ScmRepoLink> { co_return co_await c->link("shop"); });
    ASSERT_FALSE(link);
    EXPECT_EQ(link.error().kind, ErrorKind::fatal);
    EXPECT_NE(link.error().message.find("certificate verification failed"), std::string::npos)
        << link.error().message;
    EXPECT_NE(link.error().message.find("hostname mismatch"), std::string::npos)
        << link.error().message;
}

TEST_F(ScalingoWrongHost, IpAddressNotInTheCertificateIsRefused) {
    auto c = client(options("127.0.0.1"));
    ASSERT_NE(c, nullptr);
    auto link = run<Expected<ScmRepoLink, CallError>>(
        ioc_, [&]() -> Call<ScmRepoLink> { co_return co_await c->link("shop"); });
    ASSERT_FALSE(link);
    EXPECT_EQ(link.error().kind, ErrorKind::fatal);
    EXPECT_NE(link.error().message.find("IP address mismatch"), std::string::npos)
        << link.error().message;
}

TEST_F(ScalingoIntegration, HttpsProxyTunnelsThroughConnect) {
    ConnectProxy proxy(ioc_);
    auto o = options("localhost");
    auto via = parse_origin("http://127.0.0.1:" + std::to_string(proxy.port()));
    ASSERT_TRUE(via) << via.error();
    o.proxy.https_proxy = *via;
    auto c = client(std::move(o));
    ASSERT_NE(c, nullptr);
    auto link = run<Expected<ScmRepoLink, CallError>>(
        ioc_, [&]() -> Call<ScmRepoLink> { co_return co_await c->link("shop"); });
    ASSERT_TRUE(link) << link.error().message;
    EXPECT_EQ(link->branch, "main");
    // One tunnel, to the origin by name, reused by the exchange and the call (keep-alive);
    // TLS and host-name verification run end to end inside it.
    EXPECT_EQ(proxy.targets(),
              (std::vector<std::string>{"localhost:" + std::to_string(sim_->port())}));
}

TEST_F(ScalingoIntegration, NoProxyHostsBypassTheProxy) {
    ConnectProxy proxy(ioc_);
    auto o = options("localhost");
    auto via = parse_origin("http://127.0.0.1:" + std::to_string(proxy.port()));
    ASSERT_TRUE(via) << via.error();
    o.proxy.https_proxy = *via;
    o.proxy.no_proxy = {"localhost"};
    auto c = client(std::move(o));
    ASSERT_NE(c, nullptr);
    auto link = run<Expected<ScmRepoLink, CallError>>(
        ioc_, [&]() -> Call<ScmRepoLink> { co_return co_await c->link("shop"); });
    ASSERT_TRUE(link) << link.error().message;
    EXPECT_TRUE(proxy.targets().empty());
}

TEST_F(ScalingoIntegration, ServerErrorTwiceThenOkTakesThreeAttempts) {
    control(http::verb::post, "/_sim/faults",
            json::serialize(json::object{
                {"path", kDeployPath}, {"method", "POST"}, {"status", 500}, {"times", 2}}));
    auto c = client(options());
    ASSERT_NE(c, nullptr);
    const RetryPolicy policy{5, 20ms, 100ms};
    auto out = run<Attempts<Deployment>>(ioc_, [&]() -> net::awaitable<Attempts<Deployment>> {
        co_return co_await with_retries<Deployment>(
            [&]() -> Call<Deployment> { return c->manual_deploy("shop", "main"); }, policy,
            sleep_for);
    });
    ASSERT_TRUE(out.result && *out.result) << out.result->error().message;
    EXPECT_EQ(out.count, 3U);
    ASSERT_EQ(out.delays.size(), 2U);
    EXPECT_LE(out.delays[0], backoff_cap(policy, 1));
    EXPECT_LE(out.delays[1], backoff_cap(policy, 2));
    EXPECT_EQ(calls(), (std::vector<std::string>{
                           "POST /v1/tokens/exchange 200", "POST " + kDeployPath + " 500",
                           "POST " + kDeployPath + " 500", "POST " + kDeployPath + " 200"}));
    EXPECT_EQ(c->exchanges(), 1U);  // the bearer survives the failed attempts
}

TEST_F(ScalingoIntegration, TooManyRequestsWaitsForRetryAfter) {
    control(http::verb::post, "/_sim/faults",
            json::serialize(json::object{
                {"path", kDeployPath}, {"status", 429}, {"retry_after", 2}, {"times", 1}}));
    auto c = client(options());
    ASSERT_NE(c, nullptr);
    auto out = run<Attempts<Deployment>>(ioc_, [&]() -> net::awaitable<Attempts<Deployment>> {
        co_return co_await with_retries<Deployment>(
            [&]() -> Call<Deployment> { return c->manual_deploy("shop", "main"); },
            RetryPolicy{5, 20ms, 100ms}, sleep_for);
    });
    ASSERT_TRUE(out.result && *out.result) << out.result->error().message;
    EXPECT_EQ(out.count, 2U);
    ASSERT_EQ(out.delays.size(), 1U);
    EXPECT_EQ(out.delays[0], 2s);  // Retry-After wins over the (smaller) backoff
    // The simulator saw the second attempt at least 2 s after answering the first.
    const auto log = control(http::verb::get, "/_sim/calls");
    std::vector<const json::object*> deploys;
    for (const auto& entry : log.as_array()) {
        if (entry.at("path").as_string() == kDeployPath) {
            deploys.push_back(&entry.as_object());
        }
    }
    ASSERT_EQ(deploys.size(), 2U);
    EXPECT_EQ(deploys[0]->at("status").to_number<unsigned>(), 429U);
    EXPECT_EQ(deploys[1]->at("status").to_number<unsigned>(), 200U);
    EXPECT_GE(deploys[1]->at("started_at_ms").to_number<std::int64_t>() -
                  deploys[0]->at("finished_at_ms").to_number<std::int64_t>(),
              2000);
}

TEST_F(ScalingoIntegration, UnknownAppFailsAtOnceWithScalingosMessage) {
    auto c = client(options());
    ASSERT_NE(c, nullptr);
    auto out = run<Attempts<Deployment>>(ioc_, [&]() -> net::awaitable<Attempts<Deployment>> {
        co_return co_await with_retries<Deployment>(
            [&]() -> Call<Deployment> { return c->manual_deploy("ghost", "main"); },
            RetryPolicy{5, 20ms, 100ms}, sleep_for);
    });
    ASSERT_TRUE(out.result && !*out.result);
    EXPECT_EQ(out.count, 1U);
    EXPECT_EQ(out.result->error().status, 404U);
    EXPECT_EQ(out.result->error().message, "404 Not Found: app not found");
}

TEST_F(ScalingoIntegration, WrongApiTokenFailsOnceWithoutRetryStorm) {
    auto c = client(options("127.0.0.1", true, "tk-us-wrong"));
    ASSERT_NE(c, nullptr);
    auto out = run<Attempts<Deployment>>(ioc_, [&]() -> net::awaitable<Attempts<Deployment>> {
        co_return co_await with_retries<Deployment>(
            [&]() -> Call<Deployment> { return c->manual_deploy("shop", "main"); },
            RetryPolicy{5, 20ms, 100ms}, sleep_for);
    });
    ASSERT_TRUE(out.result && !*out.result);
    EXPECT_EQ(out.count, 1U);
    EXPECT_EQ(out.result->error().kind, ErrorKind::fatal);
    EXPECT_EQ(out.result->error().message, "Scalingo rejected the API token (401)");
    EXPECT_EQ(calls(), (std::vector<std::string>{"POST /v1/tokens/exchange 401"}));
}

}  // namespace
}  // namespace linkpilot::scalingo
