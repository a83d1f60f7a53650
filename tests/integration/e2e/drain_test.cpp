// Issue 9, must show 4: SIGTERM under load. Client threads keep posting signed deliveries
// (fresh connections and keep-alive ones) while `linkpilot serve` is told to stop: every
// request is either answered in full or refused at connect, the daemon exits 0, and the store
// holds every acknowledged delivery with its jobs, done or still pending (none left running).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "daemon/store/sqlite_store.hpp"
#include "tests/support/e2e/harness.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot {
namespace {

namespace json = boost::json;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using testing::Daemon;
using testing::Simulator;

constexpr std::array kApps = {"drain-a", "drain-b", "drain-c", "drain-d"};
// A stuck request shows up as a failure, never as a hang.
constexpr std::chrono::seconds kIoTimeout{15};

enum class Outcome {
    answered,  // a complete HTTP response was read
    refused,   // connect() failed (ECONNREFUSED, or ECONNRESET mid-handshake): nothing sent
    broken,    // anything else: reset or EOF after sending, partial answer, timeout
};

struct Exchange {
    Outcome outcome = Outcome::broken;
    std::string delivery;
    int status = 0;
    std::string body;
    bool keep_alive = false;
    bool after_sigterm = false;  // the answer (or refusal) came after SIGTERM was sent
    std::string error;           // for `broken`: which step failed and how
};

// One signed GitHub push delivery, written by hand so each step's failure is told apart
// (tests/support/http_client folds them all into status 0).
http::request<http::string_body> push_request(const std::string& body,
                                              const std::string& delivery) {
    http::request<http::string_body> req{http::verb::post, "/webhooks/github", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set("X-GitHub-Event", "push");
    req.set("X-GitHub-Delivery", delivery);
    req.set("X-Hub-Signature-256", testing::github_signature(testing::kGithubSecret, body));
    req.body() = body;
    req.prepare_payload();
    return req;
}

void set_socket_timeouts(tcp::socket& socket) {
    const timeval tv{static_cast<time_t>(kIoTimeout.count()), 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A blocking HTTP/1.1 client that keeps its connection open while the server allows it and
// classifies every exchange as answered, refused at connect, or broken.
class Sender {
  public:
    Sender(unsigned short port, bool keep_alive) : port_(port), keep_alive_(keep_alive) {}

    Exchange send(const std::string& body, const std::string& delivery) {
        Exchange ex;
        ex.delivery = delivery;
        boost::system::error_code ec;
        if (!socket_.is_open()) {
            buffer_.clear();
            socket_.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port_}, ec);
            // A connect() that fails sent nothing: refused by the closed listener, or reset
            // when the listener closed during the handshake (a gap Linux cannot close).
            if (ec == net::error::connection_refused || ec == net::error::connection_reset) {
                socket_.close(ec);
                ex.outcome = Outcome::refused;
                return ex;
            }
            if (ec) {
                return broken(ex, "connect", ec);
            }
            set_socket_timeouts(socket_);
        }
        auto req = push_request(body, delivery);
        req.keep_alive(keep_alive_);
        http::write(socket_, req, ec);
        if (ec) {
            return broken(ex, "write", ec);
        }
        http::response_parser<http::string_body> parser;
        http::read(socket_, buffer_, parser, ec);
        if (ec) {
            return broken(ex, "read", ec);
        }
        const auto& res = parser.get();
        ex.outcome = Outcome::answered;
        ex.status = static_cast<int>(res.result_int());
        ex.body = res.body();
        ex.keep_alive = res.keep_alive();
        if (!keep_alive_ || !res.keep_alive()) {
            socket_.shutdown(tcp::socket::shutdown_both, ec);
            socket_.close(ec);
        }
        return ex;
    }

  private:
    Exchange& broken(Exchange& ex, const char* step, const boost::system::error_code& ec) {
        ex.outcome = Outcome::broken;
        ex.error = std::string(step) + ": " + ec.message();
        boost::system::error_code ignored;
        socket_.close(ignored);
        return ex;
    }

    net::io_context ioc_;
    tcp::socket socket_{ioc_};
    beast::flat_buffer buffer_;
    unsigned short port_;
    bool keep_alive_;
};

class E2E_Drain : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::make_temp_dir("linkpilot-e2e-drain"); }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

TEST_F(E2E_Drain, SigtermUnderLoadAnswersOrRefusesEveryRequestAndKeepsPendingJobs) {
    // The project's own demo payload (acme/shop, push to main), not a fixture.
    const auto push = testing::sample_push();
    ASSERT_FALSE(push.empty());

    Simulator sim(dir_ / "sim", testing::seed_linked({kApps[0], kApps[1], kApps[2], kApps[3]}));
    // Each deploy takes 400 ms: a few run per app before SIGTERM, most are still queued.
    testing::slow_deploys(sim, 400, 100000);
    std::string rules = "rules:\n";
    for (const char* app : kApps) {
        rules +=
            "  - { name: to-" + std::string(app) + ", on: push, deploy: { app: " + app + " } }\n";
    }
    Daemon daemon(dir_ / "daemon", sim, rules, "  rate_limit: 1000/s\n");

    // Two threads on fresh connections (one request each), two on keep-alive connections.
    constexpr int kThreads = 4;
    constexpr int kAcceptedBeforeSigterm = 60;
    std::atomic<int> accepted{0};
    std::atomic<bool> sigterm_sent{false};
    std::mutex mu;
    std::vector<std::vector<Exchange>> per_thread(kThreads);
    std::vector<std::thread> threads;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Sender sender(daemon.port(), /*keep_alive=*/t % 2 == 1);
            std::vector<Exchange> mine;
            for (int i = 0; std::chrono::steady_clock::now() < give_up; ++i) {
                auto ex = sender.send(push, "drain-" + std::to_string(t) + "-" + std::to_string(i));
                ex.after_sigterm = sigterm_sent.load();
                if (ex.outcome == Outcome::answered && ex.status == 202) {
                    ++accepted;
                }
                const bool stop = ex.outcome == Outcome::refused;
                mine.push_back(std::move(ex));
                if (stop) {
                    break;  // the listener is closed: the daemon is going away
                }
            }
            std::lock_guard lock(mu);
            per_thread[t] = std::move(mine);
        });
    }
    const bool loaded = testing::eventually([&] { return accepted >= kAcceptedBeforeSigterm; },
                                            std::chrono::seconds(60));
    sigterm_sent = true;
    const int exit_code = daemon.terminate();  // SIGTERM, then waits for the exit
    for (auto& th : threads) {
        th.join();
    }
    ASSERT_TRUE(loaded) << "only " << accepted << " deliveries accepted before SIGTERM\n"
                        << daemon.process().stderr_text();
    EXPECT_EQ(exit_code, 0) << daemon.process().stderr_text();

    // Every exchange: a complete answer (202, or a 503 with a JSON error while draining) or a
    // refusal at connect. Each thread ends on a refusal: it ran until the listener closed.
    std::map<std::string, int> acknowledged;  // delivery -> the jobs its 202 announced
    int answered_before = 0;
    int answered_after = 0;
    int refused = 0;
    int unavailable = 0;
    for (int t = 0; t < kThreads; ++t) {
        const auto& mine = per_thread[t];
        ASSERT_FALSE(mine.empty());
        EXPECT_EQ(mine.back().outcome, Outcome::refused)
            << "thread " << t << " stopped without being refused";
        for (const auto& ex : mine) {
            switch (ex.outcome) {
                case Outcome::broken:
                    ADD_FAILURE() << "thread " << t << " delivery " << ex.delivery
                                  << (ex.after_sigterm ? " (after SIGTERM)" : "")
                                  << " got no complete answer: " << ex.error;
                    break;
                case Outcome::refused:
                    ++refused;
                    EXPECT_TRUE(ex.after_sigterm) << "refused before SIGTERM: " << ex.delivery;
                    break;
                case Outcome::answered: {
                    (ex.after_sigterm ? answered_after : answered_before) += 1;
                    if (ex.status == 503) {
                        ++unavailable;
                        EXPECT_TRUE(ex.after_sigterm) << ex.delivery;
                        EXPECT_TRUE(json::parse(ex.body).as_object().contains("error")) << ex.body;
                        break;
                    }
                    ASSERT_EQ(ex.status, 202) << ex.delivery << ": " << ex.body;
                    const auto doc = json::parse(ex.body).as_object();
                    EXPECT_EQ(doc.at("delivery").as_string(), ex.delivery);
                    EXPECT_EQ(doc.at("status").as_string(), "queued") << ex.body;
                    acknowledged[ex.delivery] = static_cast<int>(doc.at("jobs").as_int64());
                    break;
                }
            }
        }
    }
    std::cout << "[ drain    ] answered before SIGTERM: " << answered_before
              << ", answered after SIGTERM was sent: " << answered_after << " (" << unavailable
              << " of them 503), refused at connect: " << refused << "\n";
    EXPECT_EQ(refused, kThreads);
    EXPECT_GE(static_cast<int>(acknowledged.size()), kAcceptedBeforeSigterm);

    // The store: every acknowledged delivery with the jobs its answer announced, nothing
    // else; jobs either done (their Scalingo call finished during the drain at the latest)
    // or pending for the next start; none left running.
    auto st = store::open_sqlite({.path = daemon.state()});
    ASSERT_TRUE(st) << st.error().message;
    for (const auto& [id, n] : acknowledged) {
        EXPECT_EQ(n, static_cast<int>(kApps.size())) << id;
        auto d = (*st)->get_delivery(id);
        ASSERT_TRUE(d.has_value()) << d.error().message;
        EXPECT_TRUE(d->has_value()) << "acknowledged delivery " << id << " is not in the store";
    }
    auto jobs = (*st)->list_jobs({});
    ASSERT_TRUE(jobs.has_value()) << jobs.error().message;
    std::map<std::string, int> jobs_per_delivery;
    std::map<std::string, int> by_state;
    for (const auto& j : *jobs) {
        ++jobs_per_delivery[j.delivery_id];
        ++by_state[j.state];
    }
    const auto in_state = [&by_state](const std::string& state) {
        auto it = by_state.find(state);
        return it == by_state.end() ? 0 : it->second;
    };
    int announced = 0;
    for (const auto& [id, n] : acknowledged) {
        announced += n;
        EXPECT_EQ(jobs_per_delivery[id], n) << id;
    }
    EXPECT_EQ(jobs_per_delivery.size(), acknowledged.size())
        << "the store holds jobs of deliveries that were never acknowledged";
    EXPECT_EQ(static_cast<int>(jobs->size()), announced);
    EXPECT_EQ(in_state("running"), 0);
    EXPECT_EQ(in_state("failed"), 0);
    EXPECT_EQ(in_state("done") + in_state("pending"), announced);
    EXPECT_GT(in_state("pending"), 0) << "SIGTERM came after every job had run";
    // A job is done exactly when its deploy reached Scalingo: none lost, none run twice.
    int deploys = 0;
    for (const auto& c : sim.api_calls()) {
        if (c.at("path").as_string().ends_with("/manual_deploy")) {
            ++deploys;
        }
    }
    EXPECT_EQ(deploys, in_state("done"));
    std::cout << "[ drain    ] jobs: " << in_state("done") << " done, " << in_state("pending")
              << " pending, of " << announced << " queued by " << acknowledged.size()
              << " acknowledged deliveries\n";

    // `linkpilot jobs --json`, as an operator would check after the stop, agrees.
    const auto [code, out] = daemon.cli({"jobs", "--json"});
    ASSERT_EQ(code, 0) << out;
    std::map<std::string, int> cli_states;
    const auto listed = json::parse(out);  // kept alive: the loop below walks into it
    for (const auto& j : listed.as_array()) {
        ++cli_states[std::string(j.at("state").as_string())];
    }
    EXPECT_EQ(cli_states, by_state);
    EXPECT_NE(daemon.process().stderr_text().find("received SIGTERM; draining"), std::string::npos);
}

}  // namespace
}  // namespace linkpilot
