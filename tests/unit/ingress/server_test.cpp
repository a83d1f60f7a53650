// The session loop (daemon/ingress/session.hpp) over beast::test::stream, with the real Server
// behind it: routing, the handler, the group committer and an SQLite store in a temporary
// directory. No sockets and no sleeps: deadlines run on a FakeClock (TestConnection).
#include "daemon/ingress/server.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/load.hpp"
#include "daemon/ingress/session.hpp"
#include "daemon/store/group_commit.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_connection.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot::ingress {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

constexpr std::string_view kGithubSecret = "gh-secret";
constexpr std::string_view kGitlabToken = "gl-token";
constexpr std::chrono::seconds kRequestTimeout{10};  // the config's default

// Both forges configured, one rule for every push, and a body limit the tests can pass.
constexpr std::string_view kConfig = R"(version: 1
server: { max_body_bytes: 16384 }
scalingo: { dry_run: true }
providers:
  github: { secrets: [gh-secret] }
  gitlab: { tokens: [gl-token] }
rules:
  - { name: every-push, on: push, deploy: { app: app-aa } }
)";

std::string get(std::string_view target, std::string_view extra_headers = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: linkpilot.test\r\n" +
           std::string(extra_headers) + "\r\n";
}

// A fixture as GitHub sends it: signed with the configured secret.
std::string github_request(std::string_view event, const std::string& body,
                           std::string_view delivery, std::string_view extra_headers = "") {
    return "POST /webhooks/github HTTP/1.1\r\nHost: linkpilot.test\r\n"
           "Content-Type: application/json\r\nX-GitHub-Event: " +
           std::string(event) + "\r\nX-GitHub-Delivery: " + std::string(delivery) +
           "\r\nX-Hub-Signature-256: " + testing::github_signature(kGithubSecret, body) + "\r\n" +
           std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

// A fixture as GitLab sends it: with the configured token (or `token`).
std::string gitlab_request(std::string_view event, const std::string& body,
                           std::string_view delivery, std::string_view token = kGitlabToken) {
    return "POST /webhooks/gitlab HTTP/1.1\r\nHost: linkpilot.test\r\n"
           "Content-Type: application/json\r\nX-Gitlab-Event: " +
           std::string(event) + "\r\nX-Gitlab-Event-UUID: " + std::string(delivery) +
           "\r\nX-Gitlab-Token: " + std::string(token) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Every answer the client received, in order (100 Continue included).
std::vector<Response> answers(std::string_view received) {
    net::io_context ioc;
    beast::test::stream in(ioc);
    in.append(received);
    in.close_remote();
    beast::flat_buffer buffer;
    std::vector<Response> out;
    for (;;) {
        http::response_parser<http::string_body> parser;
        boost::system::error_code ec;
        http::read(in, buffer, parser, ec);
        if (ec) {
            break;
        }
        out.push_back(parser.release());
    }
    EXPECT_EQ(buffer.size(), 0u) << "bytes left that are not an answer";
    return out;
}

class Ingress_Session : public ::testing::Test {
  protected:
    // One client connection: the server's end runs the session, the client's end collects the
    // answers.
    struct Conn {
        Conn(net::io_context& ioc, const testing::FakeClock& clock)
            : server_side(ioc), client(ioc), seam(server_side, clock) {
            server_side.connect(client);
        }
        beast::test::stream server_side;
        beast::test::stream client;
        testing::TestConnection seam;
        bool ended = false;

        [[nodiscard]] std::vector<Response> received() const { return answers(client.str()); }
    };

    Ingress_Session() {
        auto s = store::open_sqlite(store::SqliteOptions{dir_.path() / "state.db"});
        if (!s) {
            ADD_FAILURE() << s.error().message;
            return;
        }
        committer_ = std::make_unique<store::GroupCommitter>(std::move(*s), clock_);
        server_ = std::make_unique<Server>(ioc_, *committer_, clock_, logger_);
        auto cfg = config::load_string(
            kConfig, "t.yaml",
            [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
        if (!cfg) {
            ADD_FAILURE() << cfg.error().front().to_string();
            return;
        }
        server_->set_config(std::make_shared<const config::Config>(std::move(*cfg)), "fp-test");
    }
    ~Ingress_Session() override {
        server_.reset();
        if (committer_) {
            committer_->stop();
        }
    }
    Ingress_Session(const Ingress_Session&) = delete;
    Ingress_Session& operator=(const Ingress_Session&) = delete;

    // Starts a session on which the client has sent `bytes`; with `then_close`, the client
    // closes its sending side after them. `read_size` caps every read of the server's end.
    std::unique_ptr<Conn> open(std::string_view bytes, bool then_close = true,
                               std::size_t read_size = 0) {
        auto c = std::make_unique<Conn>(ioc_, clock_);
        if (read_size > 0) {
            c->server_side.read_size(read_size);
        }
        c->server_side.append(bytes);
        if (then_close) {
            c->client.close();
        }
        net::co_spawn(ioc_, server_->serve_connection(c->server_side, c->seam),
                      [conn = c.get()](const std::exception_ptr& e) {
                          if (e) {
                              ADD_FAILURE() << "the session threw";
                          }
                          conn->ended = true;
                      });
        return c;
    }

    // Runs the io_context until `done()` (the store answers from its own thread). The bound
    // on real time only keeps a broken test from hanging.
    template <class Pred>
    void run_until(Pred done) {
        const auto give_up = std::chrono::steady_clock::now() + 20s;
        while (!done()) {
            if (std::chrono::steady_clock::now() > give_up) {
                ADD_FAILURE() << "timed out waiting for the session";
                return;
            }
            if (ioc_.stopped()) {
                ioc_.restart();
            }
            ioc_.run_one_for(50ms);
        }
    }

    // Runs every handler ready now (the session is then waiting for the client or a timer).
    void settle() {
        ioc_.restart();
        ioc_.poll();
    }

    // Serves a connection that sends `bytes` and closes, to its end; returns the answers.
    std::vector<Response> exchange(std::string_view bytes, std::size_t read_size = 0) {
        auto c = open(bytes, true, read_size);
        run_until([&] { return c->ended; });
        return c->received();
    }

    // A second connection to the database the server writes.
    std::unique_ptr<store::Store> reader() {
        auto s = store::open_sqlite(store::SqliteOptions{dir_.path() / "state.db"});
        if (!s) {
            ADD_FAILURE() << s.error().message;
            return nullptr;
        }
        return std::move(*s);
    }

    [[nodiscard]] std::string log() const { return log_.str(); }

    store::TempDir dir_;
    testing::FakeClock clock_;
    net::io_context ioc_;
    std::ostringstream log_;
    std::shared_ptr<spdlog::logger> logger_ = [this] {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(log_);
        sink->set_pattern("%l %v");
        return std::make_shared<spdlog::logger>("ingress-session-test", sink);
    }();
    std::unique_ptr<store::GroupCommitter> committer_;
    std::unique_ptr<Server> server_;
};

TEST_F(Ingress_Session, KeepAliveServesTwoRequestsOnOneConnection) {
    auto c = open(get("/healthz") + get("/readyz"));
    run_until([&] { return c->ended; });
    const auto got = c->received();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].result(), http::status::ok);
    EXPECT_EQ(got[0].body(), R"({"status":"ok"})");
    EXPECT_EQ(got[0][http::field::content_type], "application/json");
    EXPECT_TRUE(got[0].keep_alive());
    // Not started: the listener is not ready.
    EXPECT_EQ(got[1].result(), http::status::service_unavailable);
    EXPECT_EQ(got[1].body(), R"({"error":"not ready"})");
    EXPECT_TRUE(got[1].keep_alive());
    // The session ended on the client's close: the sending side shut once, nothing left open.
    EXPECT_EQ(c->seam.shutdowns(), 1);
    EXPECT_EQ(server_->metrics().open_connections(), 0);
}

TEST_F(Ingress_Session, ArmsTheRequestTimeoutBeforeEveryReadAndWrite) {
    auto c = open(get("/healthz") + get("/healthz"));
    run_until([&] { return c->ended; });
    ASSERT_EQ(c->received().size(), 2u);
    // Per request: the header read, the answer; then the read that meets the end of stream.
    const auto& armed = c->seam.armed();
    ASSERT_EQ(armed.size(), 5u);
    for (const auto& a : armed) {
        EXPECT_EQ(a, kRequestTimeout);
    }
}

TEST_F(Ingress_Session, AnIdleKeepAliveConnectionClosesWhenItsDeadlinePasses) {
    auto c = open(get("/healthz"), /*then_close=*/false);
    run_until([&] { return c->received().size() == 1; });
    settle();
    EXPECT_FALSE(c->ended) << "a keep-alive connection waits for the next request";
    ASSERT_FALSE(c->seam.armed().empty());
    EXPECT_EQ(c->seam.armed().back(), kRequestTimeout);
    clock_.advance(kRequestTimeout - 1ms);
    EXPECT_FALSE(c->seam.expire());
    settle();
    EXPECT_FALSE(c->ended);
    clock_.advance(1ms);
    EXPECT_TRUE(c->seam.expire());
    run_until([&] { return c->ended; });
    EXPECT_EQ(c->received().size(), 1u);
    EXPECT_EQ(server_->metrics().open_connections(), 0);
}

TEST_F(Ingress_Session, ConnectionCloseEndsTheSessionAfterItsAnswer) {
    // The client does not close: the session ends on its own, and the second request (sent
    // after a `Connection: close` one) is never read.
    auto c = open(get("/healthz", "Connection: close\r\n") + get("/healthz"), false);
    run_until([&] { return c->ended; });
    const auto got = c->received();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].result(), http::status::ok);
    EXPECT_FALSE(got[0].keep_alive());
    EXPECT_EQ(got[0][http::field::connection], "close");
    EXPECT_EQ(c->seam.shutdowns(), 1);
}

TEST_F(Ingress_Session, AnHttp10RequestWithoutKeepAliveIsAnsweredThenClosed) {
    auto c = open("GET /healthz HTTP/1.0\r\n\r\n" + get("/healthz"), false);
    run_until([&] { return c->ended; });
    const auto got = c->received();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].version(), 10u);
    EXPECT_EQ(got[0].result(), http::status::ok);
    EXPECT_FALSE(got[0].keep_alive());
}

TEST_F(Ingress_Session, GarbageClosesTheConnectionWithoutAnAnswer) {
    // Unparsable bytes get no answer (request_reader.hpp: "close"), not a 400.
    auto c = open("NOT AN HTTP REQUEST\r\n\r\n" + get("/healthz"));
    run_until([&] { return c->ended; });
    EXPECT_TRUE(c->received().empty());
    EXPECT_EQ(server_->metrics().open_connections(), 0);
}

TEST_F(Ingress_Session, UnknownPathsAndWrongMethodsAreRefusedAndTheConnectionKept) {
    const auto got = exchange(get("/nope?token=hunter2") +
                              "DELETE /healthz HTTP/1.1\r\nHost: linkpilot.test\r\n\r\n" +
                              get("/webhooks/gitlab") +
                              "POST /metrics HTTP/1.1\r\nHost: linkpilot.test\r\n"
                              "Content-Length: 2\r\n\r\n{}" +
                              get("/healthz"));
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[0].result(), http::status::not_found);
    EXPECT_EQ(got[0].body(), R"({"error":"no such endpoint"})");
    EXPECT_EQ(got[1].result(), http::status::method_not_allowed);
    EXPECT_EQ(got[1].body(), R"({"error":"method not allowed"})");
    EXPECT_EQ(got[1][http::field::allow], "GET");
    EXPECT_EQ(got[2].result(), http::status::method_not_allowed);
    EXPECT_EQ(got[2][http::field::allow], "POST");
    EXPECT_EQ(got[3].result(), http::status::method_not_allowed);
    EXPECT_EQ(got[3][http::field::allow], "GET");
    EXPECT_EQ(got[4].result(), http::status::ok);
    for (const auto& res : got) {
        EXPECT_TRUE(res.keep_alive());
    }
    // The refusal log: one line per kind (rate-limited), path without its query, the peer.
    const auto text = log();
    EXPECT_NE(text.find("answered 404"), std::string::npos) << text;
    EXPECT_NE(text.find("\"/nope?...\" from 192.0.2.7:4242"), std::string::npos) << text;
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
    EXPECT_NE(text.find("answered 405"), std::string::npos) << text;
}

TEST_F(Ingress_Session, ABodyOverTheLimitIs413AndClosesTheConnection) {
    // Content-Length over server.max_body_bytes: refused before the body is read.
    const std::string body(20000, 'x');
    const auto got = exchange(
        "POST /webhooks/github HTTP/1.1\r\nHost: linkpilot.test\r\n"
        "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
        "Content-Length: 20000\r\n\r\n" +
        body + get("/healthz"));
    ASSERT_EQ(got.size(), 1u) << "nothing after the refusal is answered";
    EXPECT_EQ(got[0].result(), http::status::payload_too_large);
    EXPECT_EQ(got[0].body(), R"j({"error":"body exceeds server.max_body_bytes (16384 bytes)"})j");
    EXPECT_FALSE(got[0].keep_alive());
    EXPECT_NE(log().find("answered 413"), std::string::npos) << log();
    EXPECT_NE(log().find("\"/webhooks/github\" from 192.0.2.7:4242"), std::string::npos) << log();
    auto db = reader();
    ASSERT_NE(db, nullptr);
    auto jobs = db->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_TRUE(jobs->empty());
}

TEST_F(Ingress_Session, AChunkedBodyGrowingOverTheLimitIs413) {
    std::string request =
        "POST /webhooks/github HTTP/1.1\r\nHost: linkpilot.test\r\n"
        "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) {
        request += "2000\r\n" + std::string(0x2000, 'x') + "\r\n";  // 3 x 8 KiB > 16 KiB
    }
    request += "0\r\n\r\n";
    const auto got = exchange(request);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].result(), http::status::payload_too_large);
    EXPECT_FALSE(got[0].keep_alive());
}

TEST_F(Ingress_Session, HeadersOverTheLimitAre431) {
    const auto got = exchange(get("/healthz", "X-Filler: " + std::string(70 * 1024, 'a') + "\r\n"));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].result(), http::status::request_header_fields_too_large);
    EXPECT_EQ(got[0].body(), R"({"error":"request headers exceed 64 KiB"})");
    EXPECT_FALSE(got[0].keep_alive());
}

TEST_F(Ingress_Session, ASignedGithubPushIsStoredThenAnswered202) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto body = testing::read_file(fixtures / "github/push/branch-updated.json");
    const auto got = exchange(github_request("push", body, "gh-delivery-1"));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].result(), http::status::accepted) << got[0].body();
    EXPECT_EQ(got[0].body(), R"({"delivery":"gh-delivery-1","status":"queued","jobs":1})");
    EXPECT_TRUE(got[0].keep_alive());

    auto db = reader();
    ASSERT_NE(db, nullptr);
    auto stored = db->get_delivery("gh-delivery-1");
    ASSERT_TRUE(stored.has_value());
    ASSERT_TRUE(stored->has_value());
    const auto& d = **stored;
    EXPECT_EQ(d.provider, "github");
    EXPECT_EQ(d.event, "push");
    EXPECT_EQ(d.repo, "woodpecker-ci/woodpecker");
    EXPECT_EQ(d.status, "queued");
    EXPECT_EQ(d.payload, body);
    EXPECT_EQ(d.config_fingerprint, "fp-test");
    EXPECT_EQ(d.received_at, clock_.now());
    auto jobs = db->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    ASSERT_EQ(jobs->size(), 1u);
    EXPECT_EQ((*jobs)[0].app, "app-aa");
    EXPECT_EQ((*jobs)[0].action, "deploy");
    EXPECT_EQ((*jobs)[0].delivery_id, "gh-delivery-1");
}

TEST_F(Ingress_Session, PipelinedDeliveriesFromBothForgesAreAllStored) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto gh = testing::read_file(fixtures / "github/push/branch-updated.json");
    const auto gl = testing::read_file(fixtures / "gitlab/push/push.json");
    const auto got =
        exchange(github_request("push", gh, "gh-1") + gitlab_request("Push Hook", gl, "gl-1") +
                 github_request("push", gh, "gh-1"));  // a redelivery
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].body(), R"({"delivery":"gh-1","status":"queued","jobs":1})");
    EXPECT_EQ(got[1].body(), R"({"delivery":"gl-1","status":"queued","jobs":1})");
    EXPECT_EQ(got[2].body(), R"({"delivery":"gh-1","status":"duplicate","jobs":0})");
    auto db = reader();
    ASSERT_NE(db, nullptr);
    auto gitlab = db->get_delivery("gl-1");
    ASSERT_TRUE(gitlab.has_value() && gitlab->has_value());
    EXPECT_EQ((*gitlab)->provider, "gitlab");
    EXPECT_EQ((*gitlab)->repo, "mike/diaspora");
    EXPECT_EQ((*gitlab)->payload, gl);
    auto jobs = db->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_EQ(jobs->size(), 2u);
}

TEST_F(Ingress_Session, ARequestSplitAcrossManyReadsIsServedWhole) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto gl = testing::read_file(fixtures / "gitlab/push/push.json");
    auto c = open(gitlab_request("Push Hook", gl, "gl-split") + get("/healthz"), true,
                  /*read_size=*/7);
    run_until([&] { return c->ended; });
    const auto got = c->received();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].body(), R"({"delivery":"gl-split","status":"queued","jobs":1})");
    EXPECT_EQ(got[1].result(), http::status::ok);
    EXPECT_GT(c->server_side.nread(), (gl.size() / 7)) << "it did take many reads";
    auto db = reader();
    ASSERT_NE(db, nullptr);
    auto stored = db->get_delivery("gl-split");
    ASSERT_TRUE(stored.has_value() && stored->has_value());
    EXPECT_EQ((*stored)->payload, gl);
}

TEST_F(Ingress_Session, ExpectContinueGetsA100BeforeTheAnswer) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto gh = testing::read_file(fixtures / "github/push/branch-updated.json");
    const auto got =
        exchange(github_request("push", gh, "gh-continue", "Expect: 100-continue\r\n"));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].result(), http::status::continue_);
    EXPECT_EQ(got[1].result(), http::status::accepted);
}

TEST_F(Ingress_Session, ARejectedDeliveryIsAnsweredAndNotStored) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto gl = testing::read_file(fixtures / "gitlab/push/push.json");
    const std::string bad_json = "{\"object_kind\": ";
    const auto got = exchange(gitlab_request("Push Hook", gl, "gl-wrong", "not-the-token") +
                              gitlab_request("Push Hook", bad_json, "gl-bad") + get("/healthz"));
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].result(), http::status::unauthorized);
    EXPECT_EQ(got[0].body(), R"({"error":"X-Gitlab-Token does not match"})");
    EXPECT_EQ(got[1].result(), http::status::bad_request);
    EXPECT_TRUE(got[1].body().starts_with(R"({"error":"malformed JSON)")) << got[1].body();
    // Both keep the connection: the next request is served.
    EXPECT_EQ(got[2].result(), http::status::ok);
    EXPECT_NE(log().find("gitlab webhook (delivery gl-wrong) rejected with 401"), std::string::npos)
        << log();
    EXPECT_EQ(log().find("not-the-token"), std::string::npos) << "a token in a log line";
    auto db = reader();
    ASSERT_NE(db, nullptr);
    auto jobs = db->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_TRUE(jobs->empty());
}

TEST_F(Ingress_Session, DrainAnswersWithConnectionCloseAndClosesIdleOnesAfterTheGrace) {
    // An idle keep-alive connection, open before the drain.
    auto idle = open("", /*then_close=*/false);
    settle();
    bool drained = false;
    net::co_spawn(ioc_, server_->drain(30s), [&](const std::exception_ptr&) { drained = true; });
    settle();
    // A request that arrives during the grace is answered, with Connection: close.
    auto busy = open(get("/healthz"), /*then_close=*/false);
    run_until([&] { return busy->ended; });
    const auto got = busy->received();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].result(), http::status::ok);
    EXPECT_FALSE(got[0].keep_alive());
    // It waited for its first bytes for the grace (1 s) only, not server.request_timeout.
    ASSERT_FALSE(busy->seam.armed().empty());
    EXPECT_EQ(busy->seam.armed().front(), std::chrono::milliseconds(1000));
    // The idle connection is left alone until the grace has passed on the injected clock.
    settle();
    EXPECT_FALSE(drained);
    EXPECT_EQ(idle->seam.cuts(), 0);
    clock_.advance(1s);
    run_until([&] { return drained; });
    EXPECT_EQ(idle->seam.cuts(), 1);
    EXPECT_TRUE(idle->ended);
    EXPECT_TRUE(idle->received().empty());
    EXPECT_EQ(server_->metrics().open_connections(), 0);
}

}  // namespace
}  // namespace linkpilot::ingress
