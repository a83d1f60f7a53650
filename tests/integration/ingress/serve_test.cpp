// `linkpilot serve` over loopback: every real fixture and corpus payload accepted with its
// signature or token, each SPEC 3 error row, dedupe, and a SIGKILL in the middle of a stream of
// deliveries. The daemon is the real binary; the test reads its state file afterwards.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <thread>

#include "common/clock.hpp"
#include "daemon/ingress/github/parse.hpp"
#include "daemon/ingress/gitlab/parse.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "rules/report.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot {
namespace {

using testing::http_request;
using testing::HttpResult;
using testing::Process;

constexpr std::string_view kSecret1 = "old-secret-1";
constexpr std::string_view kSecret2 = "new-secret-2";
constexpr std::string_view kGitlabToken = "gitlab-token-xyz";

// A daemon on 127.0.0.1:0 with its own state directory.
class Daemon {
  public:
    explicit Daemon(std::filesystem::path dir, std::uint64_t max_body = 26214400,
                    std::string_view request_timeout = "5s")
        : dir_(std::move(dir)) {
        std::filesystem::create_directories(dir_);
        config_ = dir_ / "linkpilot.yaml";
        std::ofstream(config_)
            << "version: 1\n"
            << "server: { listen: \"127.0.0.1:0\", max_body_bytes: " << max_body
            << ", request_timeout: " << request_timeout << " }\n"
            << "state: { path: \"" << (dir_ / "state.db").string() << "\" }\n"
            << "scalingo: { dry_run: true }\n"
            << "providers:\n"
            << "  github: { secrets: [\"" << kSecret1 << "\", \"" << kSecret2 << "\"] }\n"
            << "  gitlab: { tokens: [\"" << kGitlabToken << "\"] }\n"
            << "rules:\n"
            << "  - { name: every-push, on: push, deploy: { app: shop-staging } }\n"
            << "  - name: every-pr\n    on: pull_request\n"
            << "    review_app: { app: shop-staging }\n";
        start();
    }

    void start() {
        proc_ = std::make_unique<Process>(
            LINKPILOT_BINARY, std::vector<std::string>{"serve", "-c", config_.string()});
        port_ = proc_->listening_port();
    }

    HttpResult post(const std::string& path, const std::string& body,
                    std::map<std::string, std::string> headers) const {
        if (!headers.contains("Content-Type")) {
            headers["Content-Type"] = "application/json";
        }
        return http_request("127.0.0.1", port_, "POST", path, body, headers);
    }

    HttpResult github(const std::string& event, const std::string& body, const std::string& id,
                      std::string_view secret = kSecret1) const {
        return post("/webhooks/github", body,
                    {{"X-GitHub-Event", event},
                     {"X-GitHub-Delivery", id},
                     {"X-Hub-Signature-256", testing::github_signature(secret, body)}});
    }

    HttpResult gitlab(const std::string& event, const std::string& body,
                      const std::string& id) const {
        return post("/webhooks/gitlab", body,
                    {{"X-Gitlab-Event", event},
                     {"X-Gitlab-Event-UUID", id},
                     {"X-Gitlab-Token", std::string(kGitlabToken)}});
    }

    Process& process() { return *proc_; }
    [[nodiscard]] unsigned short port() const { return port_; }
    [[nodiscard]] std::filesystem::path state() const { return dir_ / "state.db"; }

  private:
    std::filesystem::path dir_;
    std::filesystem::path config_;
    std::unique_ptr<Process> proc_;
    unsigned short port_ = 0;
};

boost::json::value status_of(const HttpResult& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    return ec ? boost::json::value{} : v;
}

std::unique_ptr<store::Store> open_state(const std::filesystem::path& p) {
    auto s = store::open_sqlite({.path = p});
    EXPECT_TRUE(s.has_value());
    return s ? std::move(*s) : nullptr;
}

class Ingress_Serve : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::make_temp_dir("linkpilot-serve"); }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

// Must show 1: every payload of both indexes is accepted, and what the daemon journalled as
// the normalised event is what the forge parser (asserted field by field in
// tests/unit/ingress) makes of it.
void accept_every_payload(const std::filesystem::path& set_dir, const std::filesystem::path& tmp) {
    Daemon d(tmp);
    int n = 0;
    std::vector<std::pair<std::string, testing::FixtureEntry>> sent;
    for (const auto& e : testing::read_index(set_dir)) {
        auto body = testing::read_file(e.path);
        auto id = "fx-" + std::to_string(n++);
        auto r = e.provider == "github" ? d.github(e.event_header, body, id)
                                        : d.gitlab(e.event_header, body, id);
        ASSERT_EQ(r.status, 202) << e.file << ": " << r.body << r.error;
        auto v = status_of(r);
        EXPECT_EQ(v.at("delivery").as_string(), id) << e.file;
        sent.emplace_back(id, e);
    }
    auto st = open_state(d.state());
    ASSERT_TRUE(st);
    for (const auto& [id, e] : sent) {
        auto delivery = st->get_delivery(id);
        ASSERT_TRUE(delivery && delivery->has_value()) << e.file;
        const auto& stored = **delivery;
        auto body = testing::read_file(e.path);
        auto payload = boost::json::parse(body).as_object();
        auto parsed = e.provider == "github" ? ingress::github::parse(e.event_header, payload)
                                             : ingress::gitlab::parse(e.event_header, payload);
        ASSERT_TRUE(parsed.has_value()) << e.file;
        EXPECT_EQ(boost::json::parse(stored.event_json), rules::event_to_json(*parsed)) << e.file;
        EXPECT_EQ(stored.payload.value_or(""), body) << e.file;
        EXPECT_EQ(stored.repo, parsed->repo) << e.file;
    }
}

TEST_F(Ingress_Serve, AcceptsEveryFixturePayload) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    accept_every_payload(fixtures, dir_);
}

TEST_F(Ingress_Serve, AcceptsEveryCorpusPayload) {
    LINKPILOT_CORPUS_OR_SKIP(corpus);
    accept_every_payload(corpus, dir_);
}

// Must show 2: one test per SPEC 3 error row.
class Ingress_Errors : public Ingress_Serve {
  protected:
    void SetUp() override {
        Ingress_Serve::SetUp();
        daemon_ = std::make_unique<Daemon>(dir_, 4096);
    }
    std::unique_ptr<Daemon> daemon_;
    const std::string push_ =
        R"({"ref":"refs/heads/main","after":"abc","repository":{"full_name":"acme/shop"},"commits":[]})";
};

void expect_error(const HttpResult& r, int status, std::string_view needle) {
    EXPECT_EQ(r.status, status) << r.body << r.error;
    auto v = status_of(r);
    ASSERT_TRUE(v.is_object()) << r.body;
    ASSERT_TRUE(v.as_object().contains("error")) << r.body;
    EXPECT_NE(std::string(v.at("error").as_string()).find(needle), std::string::npos) << r.body;
}

TEST_F(Ingress_Errors, WrongSignatureIs401) {
    expect_error(daemon_->github("push", push_, "e1", "not-the-secret"), 401, "does not match");
}

TEST_F(Ingress_Errors, MissingSignatureIs401) {
    expect_error(daemon_->post("/webhooks/github", push_,
                               {{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "e2"}}),
                 401, "missing X-Hub-Signature-256");
}

TEST_F(Ingress_Errors, RotatedSecondSecretIsAccepted) {
    auto r = daemon_->github("push", push_, "e3", kSecret2);
    EXPECT_EQ(r.status, 202) << r.body;
}

TEST_F(Ingress_Errors, WrongGitlabTokenIs401) {
    expect_error(daemon_->post("/webhooks/gitlab", "{}",
                               {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", "nope"}}),
                 401, "X-Gitlab-Token");
}

TEST_F(Ingress_Errors, MalformedJsonIs400) {
    std::string body = "{\"ref\": ";
    expect_error(daemon_->github("push", body, "e4"), 400, "malformed JSON");
}

TEST_F(Ingress_Errors, NonObjectJsonIs400) {
    expect_error(daemon_->github("push", "[1,2]", "e5"), 400, "JSON object");
}

TEST_F(Ingress_Errors, NestingDeeperThan64Is400) {
    std::string body = "{\"a\":" + std::string(70, '[') + std::string(70, ']') + "}";
    expect_error(daemon_->github("push", body, "e6"), 400, "deeper than 64");
}

TEST_F(Ingress_Errors, MissingEventHeaderIs400) {
    expect_error(
        daemon_->post("/webhooks/github", push_,
                      {{"X-GitHub-Delivery", "e7"},
                       {"X-Hub-Signature-256", testing::github_signature(kSecret1, push_)}}),
        400, "missing X-GitHub-Event");
}

// Found by fuzz/http_request: a signed request with a non-UTF-8 delivery id got a 202 whose
// body was not JSON (the id was copied into it, and into the store, byte for byte).
TEST_F(Ingress_Errors, DeliveryIdThatIsNotPrintableAsciiIs400) {
    expect_error(daemon_->github("push", push_, "\xff\xfe-push"), 400, "delivery id header");
    expect_error(daemon_->github("push", push_, std::string(129, 'd')), 400, "delivery id header");
    EXPECT_EQ(daemon_->github("push", push_, std::string(128, 'd')).status, 202);
}

// The event name becomes a metric label and a stored field: quotes or newlines must not pass.
TEST_F(Ingress_Errors, EventHeaderWithQuotesIs400) {
    expect_error(daemon_->github("pu\"sh", push_, "e-quote"), 400, "X-GitHub-Event must be");
}

TEST_F(Ingress_Errors, BodyOneByteOverTheLimitIs413) {
    std::string body = push_;
    body.insert(body.size() - 1,
                ",\"pad\":\"" + std::string(4096 - body.size() - 9 + 1, 'x') + "\"");
    ASSERT_EQ(body.size(), 4097u);
    expect_error(daemon_->github("push", body, "e8"), 413, "max_body_bytes");
    std::string fits = body;
    fits.erase(fits.size() - 3, 1);  // one byte of padding less: exactly the limit
    EXPECT_EQ(daemon_->github("push", fits, "e8b").status, 202);
}

TEST_F(Ingress_Errors, WrongContentTypeIs415) {
    expect_error(
        daemon_->post("/webhooks/github", push_,
                      {{"Content-Type", "text/plain"},
                       {"X-GitHub-Event", "push"},
                       {"X-Hub-Signature-256", testing::github_signature(kSecret1, push_)}}),
        415, "Content-Type");
}

TEST_F(Ingress_Errors, GithubFormEncodingIsAccepted) {
    std::string form = "payload=";
    for (char c : push_) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            form += c;
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
            form += buf;
        }
    }
    auto r = daemon_->post("/webhooks/github", form,
                           {{"Content-Type", "application/x-www-form-urlencoded"},
                            {"X-GitHub-Event", "push"},
                            {"X-GitHub-Delivery", "e9"},
                            {"X-Hub-Signature-256", testing::github_signature(kSecret1, form)}});
    EXPECT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(status_of(r).at("jobs").as_int64(), 1);
}

TEST_F(Ingress_Errors, WrongMethodIs405) {
    auto r = http_request("127.0.0.1", daemon_->port(), "GET", "/webhooks/github");
    expect_error(r, 405, "method not allowed");
    EXPECT_EQ(r.headers["allow"], "POST");
}

TEST_F(Ingress_Errors, UnknownPathIs404) {
    expect_error(http_request("127.0.0.1", daemon_->port(), "GET", "/nope"), 404,
                 "no such endpoint");
}

// Issue 22: the 404, 405 and 413 answers were counted but never logged. Each kind is logged at
// warn level, at most once per 10 s (a burst of twenty 404s is one line), with the method, the
// path without its query and the peer; never the body.
TEST_F(Ingress_Errors, RefusalsAreLoggedOncePerBurstWithoutBodyOrQuery) {
    const std::string marker = "BODY-MARKER-c0ffee";
    const std::string body = R"({"note":")" + marker + R"("})";
    expect_error(daemon_->post("/nope?token=QUERY-MARKER-f00d", body, {}), 404, "no such endpoint");
    for (int i = 0; i < 19; ++i) {
        ASSERT_EQ(daemon_->post("/nope", body, {}).status, 404);
    }
    expect_error(daemon_->post("/healthz", body, {}), 405, "method not allowed");
    const std::string big = R"({"note":")" + marker + std::string(5000, 'x') + R"("})";
    expect_error(daemon_->github("push", big, "too-big-1"), 413, "max_body_bytes");

    auto& p = daemon_->process();
    const auto not_found = p.wait_for_line("answered 404", std::chrono::seconds(5));
    ASSERT_TRUE(not_found) << p.stderr_text();
    EXPECT_NE(not_found->find(
                  R"(warning answered 404 (no such endpoint) to POST "/nope?..." from 127.0.0.1:)"),
              std::string::npos)
        << *not_found;
    const auto bad_method = p.wait_for_line("answered 405", std::chrono::seconds(5));
    ASSERT_TRUE(bad_method) << p.stderr_text();
    EXPECT_NE(
        bad_method->find(
            R"(warning answered 405 (method not allowed) to POST "/healthz" from 127.0.0.1:)"),
        std::string::npos)
        << *bad_method;
    const auto too_large = p.wait_for_line("answered 413", std::chrono::seconds(5));
    ASSERT_TRUE(too_large) << p.stderr_text();
    EXPECT_NE(too_large->find(R"(warning answered 413 (body over server.max_body_bytes) to POST )"
                              R"("/webhooks/github" from 127.0.0.1:)"),
              std::string::npos)
        << *too_large;

    const auto log = p.stderr_text() + p.stdout_text();
    std::size_t lines_404 = 0;
    for (auto at = log.find("answered 404"); at != std::string::npos;
         at = log.find("answered 404", at + 1)) {
        ++lines_404;
    }
    EXPECT_EQ(lines_404, 1U) << log;
    EXPECT_EQ(log.find(marker), std::string::npos) << log;
    EXPECT_EQ(log.find("QUERY-MARKER"), std::string::npos) << log;
}

// The server answers before the client has finished sending 70 KB of headers, so this client
// ignores write errors and reads the answer, as curl does (the blocking helper gives up).
TEST_F(Ingress_Errors, HeadersOver64KiBAre431) {
    namespace net = boost::asio;
    net::io_context ioc;
    net::ip::tcp::socket sock(ioc);
    sock.connect({net::ip::make_address("127.0.0.1"), daemon_->port()});
    std::string req =
        "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(70000, 'p') +
        "\r\nContent-Length: 0\r\n\r\n";
    boost::system::error_code ec;
    net::write(sock, net::buffer(req), ec);
    std::string answer;
    std::array<char, 4096> buf{};
    for (;;) {
        auto n = sock.read_some(net::buffer(buf), ec);
        answer.append(buf.data(), n);
        if (ec) {
            break;
        }
    }
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 431 ")) << answer.substr(0, 200);
    EXPECT_NE(answer.find(R"({"error":"request headers exceed 64 KiB"})"), std::string::npos);
}

TEST_F(Ingress_Errors, DuplicateDeliveryIsAcknowledgedOnce) {
    auto first = daemon_->github("push", push_, "dup-1");
    EXPECT_EQ(status_of(first).at("status").as_string(), "queued");
    EXPECT_EQ(status_of(first).at("jobs").as_int64(), 1);
    auto again = daemon_->github("push", push_, "dup-1");
    EXPECT_EQ(again.status, 202);
    EXPECT_EQ(status_of(again).at("status").as_string(), "duplicate");
    EXPECT_EQ(status_of(again).at("jobs").as_int64(), 0);
}

// README: a delivery without a delivery id header gets a random id ("lp-" and 32 hex digits),
// so two such sends are two deliveries; a header, when present, is the id (above).
TEST_F(Ingress_Errors, DeliveryWithoutAnIdHeaderGetsARandomIdAndIsNotDeduplicated) {
    auto send = [&] {
        return daemon_->post("/webhooks/github", push_,
                             {{"X-GitHub-Event", "push"},
                              {"X-Hub-Signature-256", testing::github_signature(kSecret1, push_)}});
    };
    auto first = send();
    auto second = send();
    ASSERT_EQ(first.status, 202) << first.body;
    ASSERT_EQ(second.status, 202) << second.body;
    const std::string a(status_of(first).at("delivery").as_string());
    const std::string b(status_of(second).at("delivery").as_string());
    auto random_id = [](const std::string& id) {
        return id.size() == 35 && id.starts_with("lp-") &&
               std::all_of(id.begin() + 3, id.end(),
                           [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    };
    EXPECT_TRUE(random_id(a)) << a;
    EXPECT_TRUE(random_id(b)) << b;
    EXPECT_NE(a, b);
    EXPECT_EQ(status_of(second).at("status").as_string(), "queued");
    EXPECT_EQ(status_of(second).at("jobs").as_int64(), 1);
}

// A store that cannot commit within server.request_timeout (here another process holds the
// database's write lock, as a long `linkpilot migrate` or a stuck disk would): the sender gets a
// 503 it will retry, not a hung connection, and the log says why. Nothing is lost or doubled:
// once the lock is gone the redelivery is accepted, as new or as the duplicate of the commit
// that finished late.
TEST_F(Ingress_Serve, StoreSlowerThanTheRequestTimeoutIs503AndTheRedeliveryIsAcceptedOnce) {
    Daemon d(dir_, 26214400, "1s");
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(d.state().c_str(), &raw), SQLITE_OK);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> lock(raw, &sqlite3_close);
    // The daemon may be writing right after it starts (recovery, the first claim scan).
    sqlite3_busy_timeout(lock.get(), 10000);
    ASSERT_EQ(sqlite3_exec(lock.get(), "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);

    const std::string push = testing::sample_push();
    const auto started = std::chrono::steady_clock::now();
    auto refused = d.github("push", push, "slow-1");
    const auto took = std::chrono::steady_clock::now() - started;
    expect_error(refused, 503, "state store too slow; redeliver later");
    EXPECT_LT(took, std::chrono::seconds(4)) << "answered at the request timeout, not later";
    EXPECT_TRUE(d.process().wait_for_line("slow-1: the state store did not commit within 1000 ms",
                                          std::chrono::seconds(5)));

    ASSERT_EQ(sqlite3_exec(lock.get(), "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    lock.reset();
    HttpResult again;
    // Redelivered until accepted: the late commit may still hold the store for a moment.
    testing::eventually([&] {
        again = d.github("push", push, "slow-1");
        return again.status == 202;
    });
    ASSERT_EQ(again.status, 202) << again.body << again.error;
    const auto status = std::string(status_of(again).at("status").as_string());
    EXPECT_TRUE(status == "queued" || status == "duplicate") << status;
    EXPECT_EQ(d.process().terminate(), 0);
    auto st = open_state(d.state());
    ASSERT_TRUE(st);
    auto jobs = st->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    EXPECT_EQ(jobs->size(), 1U) << "one delivery, one job, whichever commit stored it";
}

TEST_F(Ingress_Errors, HealthReadyAndMetrics) {
    EXPECT_EQ(http_request("127.0.0.1", daemon_->port(), "GET", "/healthz").status, 200);
    EXPECT_EQ(http_request("127.0.0.1", daemon_->port(), "GET", "/readyz").status, 200);
    daemon_->github("push", push_, "m1");
    auto m = http_request("127.0.0.1", daemon_->port(), "GET", "/metrics");
    EXPECT_EQ(m.status, 200);
    EXPECT_NE(
        m.body.find(
            R"(linkpilot_deliveries_total{provider="github",event="push",status="queued",verified="true"} 1)"),
        std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find("linkpilot_http_request_seconds_bucket"), std::string::npos);
    // The delivery's commit: one batch of one, timed.
    EXPECT_NE(m.body.find("linkpilot_store_commit_seconds_count 1\n"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("linkpilot_store_commit_seconds_bucket{le=\"+Inf\"} 1\n"),
              std::string::npos);
    EXPECT_NE(m.body.find("linkpilot_store_batch_size_bucket{le=\"1\"} 1\n"), std::string::npos);
    EXPECT_NE(m.body.find("linkpilot_store_batch_size_sum 1\n"), std::string::npos);
}

TEST_F(Ingress_Errors, SigtermDrainsAndExitsZero) {
    EXPECT_EQ(daemon_->github("push", push_, "t1").status, 202);
    EXPECT_EQ(daemon_->process().terminate(), 0) << daemon_->process().stderr_text();
}

TEST_F(Ingress_Errors, SigtermRightAfterListeningDrainsAndExitsZero) {
    // SIGTERM as soon as "listening on" is logged: it must drain, not kill (the handler used
    // to be installed a few steps later, and a test that stopped a daemon at once saw 143).
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(daemon_->process().terminate(), 0) << daemon_->process().stderr_text();
        daemon_->start();
    }
}

// Must show 3: deliveries sent concurrently, SIGKILL midway, restart on the same state: every
// delivery that got a 202 is stored with its job, and none twice.
TEST_F(Ingress_Serve, SigkillLosesNoAcknowledgedDelivery) {
    Daemon d(dir_);
    const std::string body =
        R"({"ref":"refs/heads/main","after":"abc","repository":{"full_name":"acme/shop"},"commits":[]})";
    constexpr int kSenders = 4;
    constexpr int kPerSender = 150;
    std::vector<std::vector<std::string>> acked(kSenders);
    std::atomic<int> sent{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kSenders; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerSender; ++i) {
                auto id = "crash-" + std::to_string(t) + "-" + std::to_string(i);
                auto r = d.github("push", body, id);
                ++sent;
                if (r.status == 202) {
                    acked[t].push_back(id);
                }
            }
        });
    }
    while (sent < kSenders * kPerSender / 3) {
        std::this_thread::yield();
    }
    d.process().kill();
    for (auto& th : threads) {
        th.join();
    }
    std::size_t total_acked = 0;
    for (const auto& a : acked) {
        total_acked += a.size();
    }
    ASSERT_GT(total_acked, 0u);
    ASSERT_LT(total_acked, static_cast<std::size_t>(kSenders * kPerSender)) << "kill came too late";

    d.start();  // same state file
    // Resend everything: acknowledged ones must now be duplicates; the rest get stored.
    for (int t = 0; t < kSenders; ++t) {
        std::set<std::string> mine(acked[t].begin(), acked[t].end());
        for (int i = 0; i < kPerSender; ++i) {
            auto id = "crash-" + std::to_string(t) + "-" + std::to_string(i);
            auto r = d.github("push", body, id);
            ASSERT_EQ(r.status, 202);
            if (mine.contains(id)) {
                EXPECT_EQ(status_of(r).at("status").as_string(), "duplicate") << id;
            }
        }
    }
    EXPECT_EQ(d.process().terminate(), 0);
    auto st = open_state(d.state());
    ASSERT_TRUE(st);
    auto jobs = st->list_jobs({});
    ASSERT_TRUE(jobs.has_value());
    std::map<std::string, int> per_delivery;
    for (const auto& j : *jobs) {
        ++per_delivery[j.delivery_id];
    }
    EXPECT_EQ(per_delivery.size(), static_cast<std::size_t>(kSenders * kPerSender));
    for (const auto& a : acked) {
        for (const auto& id : a) {
            EXPECT_EQ(per_delivery[id], 1) << id << " acknowledged before the kill";
        }
    }
}

}  // namespace
}  // namespace linkpilot
