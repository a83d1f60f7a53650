// Fuzz target: the request path. Input: the raw bytes a client sends on one connection. They are
// read the way the session in daemon/ingress/server.cpp reads them (same Beast parser, same
// limits and early answers through daemon/ingress/request_reader.hpp, same buffer kept across
// pipelined requests), each request is routed, and webhooks go through decide_webhook against
// a fixed config twice: as received, and re-signed with the configured secret/token so the
// fuzzer gets past the signature check into JSON parsing, normalisation and rules.
// Aborts on a broken invariant: a status SPEC 3 does not list, a 202 without a correct
// signature or token, a 401 for a correctly signed request, an error body that is not
// {"error": "..."}, a 202 body or stored delivery that is inconsistent.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/load.hpp"
#include "daemon/ingress/handler.hpp"
#include "daemon/ingress/request_reader.hpp"

namespace linkpilot::fuzz {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using ingress::Decision;
using ingress::Request;
using ingress::Response;
using ingress::Route;

constexpr std::string_view kGithubSecret = "fuzz-github-secret";
constexpr std::string_view kGitlabToken = "fuzz-gitlab-token";

// Two rules over the repositories the shared fixtures come from, an allowlist that lets some of
// them through, and a body limit small enough for the fuzzer to reach (the fixtures are < 32 KiB).
constexpr std::string_view kConfig = R"(version: 1
server:
  max_body_bytes: 262144
scalingo: { token: fuzz-scalingo-token, dry_run: true }
providers:
  github:
    secrets: ["fuzz-github-secret"]
  gitlab:
    tokens: ["fuzz-gitlab-token"]
repos: ["Codertocat/*", "octo-org/*", "gitlabhq/*", "gitlab-org/**", "mike/*", "!Codertocat/legacy"]
rules:
  - name: staging-follows-main
    on: push
    if:
      branch: [main, master]
      paths: ["**", "!docs/**"]
      message: "!*[skip deploy]*"
    deploy: { app: "{{ repo.name }}-staging", branch: "{{ branch }}" }
    debounce: 30s
  - name: preview-prs
    on: pull_request
    if:
      action: [opened, reopened, synchronize, labeled]
      draft: false
      author: ["!dependabot[bot]"]
    review_app: { app: "{{ repo.name }}-staging" }
)";

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "http_request: invariant broken: %s\n", what);
    std::abort();
}

// Built once: libFuzzer calls the target millions of times, and the config never changes.
const config::Config& fuzz_config() {
    static const config::Config cfg = [] {
        auto no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
        auto loaded = config::load_string(kConfig, "fuzz.yaml", no_env);
        if (!loaded) {
            for (const auto& e : loaded.error()) {
                std::fprintf(stderr, "%s\n", e.to_string().c_str());
            }
            fail("the fuzz config does not load");
        }
        return std::move(*loaded);
    }();
    return cfg;
}

std::string github_signature(std::string_view body) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), kGithubSecret.data(), static_cast<int>(kGithubSecret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &len);
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "sha256=";
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[mac[i] >> 4];
        out += kHex[mac[i] & 0xF];
    }
    return out;
}

// Whether the request as received carries the configured signature or token (checked here
// independently of verify.cpp). The handler reads the first of repeated headers, as find() does.
bool authentic(Route which, const Request& req) {
    if (which == Route::github) {
        auto it = req.find("X-Hub-Signature-256");
        return it != req.end() && beast::iequals(it->value(), github_signature(req.body()));
    }
    auto it = req.find("X-Gitlab-Token");
    return it != req.end() && it->value() == kGitlabToken;
}

void check_error_body(const Response& res) {
    boost::system::error_code ec;
    auto v = json::parse(res.body(), ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* e = o != nullptr ? o->if_contains("error") : nullptr;
    if (e == nullptr || !e->is_string()) {
        fail("an error body is not {\"error\": \"...\"}");
    }
}

void check_accepted_body(const Response& res) {
    boost::system::error_code ec;
    auto v = json::parse(res.body(), ec);
    const json::object* o = ec ? nullptr : v.if_object();
    if (o == nullptr) {
        fail("a 202 body is not a JSON object");
    }
    const auto* delivery = o->if_contains("delivery");
    const auto* status = o->if_contains("status");
    const auto* jobs = o->if_contains("jobs");
    if (delivery == nullptr || !delivery->is_string() || status == nullptr ||
        !status->is_string() || jobs == nullptr || !(jobs->is_uint64() || jobs->is_int64())) {
        fail("a 202 body lacks delivery, status or jobs");
    }
    const auto& s = status->get_string();
    if (s != "queued" && s != "ignored" && s != "duplicate") {
        fail("a 202 status is not queued, ignored or duplicate");
    }
}

// SPEC 3's answers, and nothing else.
void check_response(const Response& res) {
    switch (res.result_int()) {
        case 200:
            return;
        case 202:
            check_accepted_body(res);
            return;
        case 400:
        case 401:
        case 404:
        case 405:
        case 413:
        case 415:
        case 431:
        case 503:
            check_error_body(res);
            return;
        default:
            fail("a status SPEC 3 does not list");
    }
}

void check_delivery(Route which, const Request& req, const ingress::ToStore& out) {
    const auto& d = out.delivery;
    if (d.provider != (which == Route::github ? "github" : "gitlab") || d.id.empty()) {
        fail("a stored delivery has the wrong provider or no id");
    }
    if ((d.status == "queued") != !out.jobs.empty() ||
        (d.status != "queued" && d.status != "ignored")) {
        fail("a stored delivery's status does not match its jobs");
    }
    auto header = req.find(which == Route::github ? "X-GitHub-Event" : "X-Gitlab-Event");
    if (header == req.end() || header->value() != d.event) {
        fail("a stored delivery's event is not the event header");
    }
    for (const auto& j : out.jobs) {
        if (j.app.empty() || j.action.empty()) {
            fail("a job has no app or no action");
        }
    }
}

// What Server::handle answers, without the store: a delivery to store is answered as stored.
Response answer(Route which, const Request& req, Decision decision) {
    if (auto* res = std::get_if<Response>(&decision)) {
        return std::move(*res);
    }
    auto& out = std::get<ingress::ToStore>(decision);
    check_delivery(which, req, out);
    return ingress::accepted(req, out.delivery.id, out.delivery.status, out.jobs.size());
}

Response handle(const Request& req) {
    const auto which = ingress::route(req.method(), req.target());
    switch (which) {
        case Route::healthz:
            return ingress::text_response(req, http::status::ok, R"({"status":"ok"})",
                                          "application/json");
        case Route::readyz:
            return ingress::text_response(req, http::status::ok, R"({"status":"ready"})",
                                          "application/json");
        case Route::metrics:
            return ingress::text_response(req, http::status::ok, "", "text/plain; version=0.0.4");
        case Route::not_found:
            return ingress::error_response(req.version(), req.keep_alive(), http::status::not_found,
                                           "no such endpoint");
        case Route::method_not_allowed: {
            auto res =
                ingress::error_response(req.version(), req.keep_alive(),
                                        http::status::method_not_allowed, "method not allowed");
            res.set(http::field::allow, req.target().starts_with("/webhooks/") ? "POST" : "GET");
            return res;
        }
        case Route::github:
        case Route::gitlab:
            break;
    }
    const auto& cfg = fuzz_config();
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'780'000'000));
    const auto fuzz_id = [] { return std::string("lp-fuzz"); };
    auto received = ingress::decide_webhook(which, req, cfg, "fuzz", now, fuzz_id);
    if (std::holds_alternative<ingress::ToStore>(received) && !authentic(which, req)) {
        fail("202 without a correct signature or token");
    }

    Request resigned = req;
    if (which == Route::github) {
        resigned.set("X-Hub-Signature-256", github_signature(resigned.body()));
    } else {
        resigned.set("X-Gitlab-Token", kGitlabToken);
    }
    auto again = ingress::decide_webhook(which, resigned, cfg, "fuzz", now, fuzz_id);
    auto res = answer(which, resigned, std::move(again));
    check_response(res);
    if (res.result() == http::status::unauthorized) {
        fail("401 for a correctly signed request");
    }
    return answer(which, req, std::move(received));
}

// The session loop of server.cpp over a connection that delivers `bytes` and then closes;
// returns the status of each answer, in order.
std::vector<unsigned> serve_bytes(std::string_view bytes) {
    boost::asio::io_context ioc;
    beast::test::stream conn(ioc);
    beast::test::stream peer(ioc);  // the client: receives the answers
    conn.connect(peer);
    conn.append(bytes);
    peer.close();
    const ingress::ReadLimits limits{64 * 1024, fuzz_config().server.max_body_bytes};
    std::vector<unsigned> statuses;
    auto send = [&](Response& res) {
        check_response(res);
        statuses.push_back(res.result_int());
        boost::system::error_code ignored;
        http::write(conn, res, ignored);
        peer.clear();
    };
    beast::flat_buffer buffer;
    for (;;) {
        ingress::RequestParser parser;
        ingress::apply_limits(parser, limits);
        boost::system::error_code ec;
        http::read_header(conn, buffer, parser, ec);
        auto step = ingress::after_header(ec, parser, limits);
        if (step.kind == ingress::ReadStep::Kind::proceed && !parser.is_done()) {
            if (ingress::expects_continue(parser)) {
                http::response<http::empty_body> cont{http::status::continue_,
                                                      parser.get().version()};
                http::write(conn, cont, ec);
            }
            http::read(conn, buffer, parser, ec);
            step = ingress::after_body(ec, parser, limits);
        }
        if (step.kind == ingress::ReadStep::Kind::refuse) {
            if (!step.refusal || step.refusal->keep_alive()) {
                fail("a refusal without an answer, or one that keeps the connection");
            }
            send(*step.refusal);
            break;
        }
        if (step.kind == ingress::ReadStep::Kind::close) {
            break;
        }
        Request req = parser.release();
        Response res = handle(req);
        send(res);
        if (!res.keep_alive()) {
            break;
        }
    }
    return statuses;
}

}  // namespace linkpilot::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    linkpilot::fuzz::serve_bytes(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}

#ifdef LINKPILOT_FUZZ_REPLAY
#include "fuzz/replay.hpp"

namespace linkpilot::fuzz {

// A fixture as its forge sends it: a POST with the event header, a delivery id and a correct
// signature (GitHub) or token (GitLab).
std::string signed_request(std::string_view provider, std::string_view event, std::string_view body,
                           std::string_view id) {
    const bool github = provider == "github";
    std::string out =
        github ? "POST /webhooks/github HTTP/1.1\r\n" : "POST /webhooks/gitlab HTTP/1.1\r\n";
    out += "Host: linkpilot.example\r\nContent-Type: application/json\r\n";
    if (github) {
        out += "User-Agent: GitHub-Hookshot/fuzz\r\nX-GitHub-Event: " + std::string(event) +
               "\r\nX-GitHub-Delivery: " + std::string(id) +
               "\r\nX-Hub-Signature-256: " + github_signature(body) + "\r\n";
    } else {
        out += "User-Agent: GitLab/16.0\r\nX-Gitlab-Event: " + std::string(event) +
               "\r\nX-Gitlab-Event-UUID: " + std::string(id) +
               "\r\nX-Gitlab-Token: " + std::string(kGitlabToken) + "\r\n";
    }
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out += body;
    return out;
}

// Every payload of both providers in the shared sets, as signed requests (name, bytes).
std::vector<std::pair<std::string, std::string>> fixture_requests(
    const std::filesystem::path& shared) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [env, dflt] : {std::pair{"LINKPILOT_FIXTURES", shared / "fixtures"},
                                    std::pair{"LINKPILOT_CORPUS", shared / "corpus"}}) {
        for (const auto& e : shared_index(shared_set(env, dflt))) {
            auto name = e.set + "-" + e.file;
            std::replace(name.begin(), name.end(), '/', '_');
            out.emplace_back(
                name, signed_request(e.provider, e.event_header, read_all(e.path), "fuzz-" + name));
        }
    }
    return out;
}

}  // namespace linkpilot::fuzz

int main(int argc, char** argv) {
    namespace lf = linkpilot::fuzz;
    const std::filesystem::path shared(LINKPILOT_FUZZ_SHARED_DIR);
    if (argc == 3 && std::string_view(argv[1]) == "--write-seeds") {
        return lf::write_seeds(argv[2], lf::fixture_requests(shared));
    }
    if (argc > 1) {
        std::size_t n = 0;
        for (int i = 1; i < argc; ++i) {
            n += lf::replay_path(argv[i]);
        }
        std::printf("replayed %zu input(s)\n", n);
        return n > 0 ? 0 : 1;
    }
    std::size_t own = lf::replay_path(LINKPILOT_FUZZ_CORPUS_DIR);
    if (own == 0) {
        std::fprintf(stderr, "replay: no inputs in %s\n", LINKPILOT_FUZZ_CORPUS_DIR);
        return 1;
    }
    std::printf("replayed %zu input(s) from %s\n", own, LINKPILOT_FUZZ_CORPUS_DIR);
    // Each signed fixture must be accepted, alone and all pipelined on one connection.
    auto requests = lf::fixture_requests(shared);
    if (requests.empty()) {
        std::printf("SKIPPED: no shared fixtures under %s\n", shared.c_str());
        return 0;
    }
    int failures = 0;
    std::string pipelined;
    for (const auto& [name, bytes] : requests) {
        auto statuses = lf::serve_bytes(bytes);
        if (statuses != std::vector<unsigned>{202}) {
            std::fprintf(stderr, "replay: %s: not answered with exactly one 202\n", name.c_str());
            ++failures;
        }
        pipelined += bytes;
    }
    auto statuses = lf::serve_bytes(pipelined);
    if (statuses.size() != requests.size() ||
        !std::all_of(statuses.begin(), statuses.end(), [](unsigned s) { return s == 202; })) {
        std::fprintf(stderr, "replay: %zu pipelined fixtures got %zu answer(s), not all 202\n",
                     requests.size(), statuses.size());
        ++failures;
    }
    std::printf("replayed %zu signed fixture request(s), alone and pipelined: %s\n",
                requests.size(), failures == 0 ? "all 202" : "FAILED");
    return failures == 0 ? 0 : 1;
}
#endif
