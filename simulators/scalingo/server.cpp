#include "simulators/scalingo/server.hpp"

#include <fmt/core.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <csignal>
#include <fstream>
#include <sstream>

#include "common/clock.hpp"
#include "simulators/scalingo/api.hpp"
#include "simulators/scalingo/rate_limiter.hpp"

namespace linkpilot::simulator {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto kUse = net::as_tuple(net::use_awaitable);
constexpr std::chrono::seconds kIoTimeout{30};
constexpr std::uint64_t kMaxBodyBytes = 1024 * 1024;
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

std::int64_t to_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Response fault_response(const Fault& f) {
    Response r;
    r.status = f.status;
    if (f.body) {
        r.body = *f.body;
        boost::system::error_code ec;
        (void)boost::json::parse(r.body, ec);
        r.content_type = ec ? "text/plain; charset=utf-8" : "application/json";
    } else if (f.status == 429) {
        r = too_many_requests();
    } else {
        r = json_error(f.status, "simulated fault");
    }
    if (f.retry_after) {
        r.headers.emplace_back("Retry-After", std::to_string(*f.retry_after));
    }
    return r;
}

// Everything a session needs. Only the io_context's single thread touches it, which is why
// there are no locks and no strands: the simulator is a test tool, not a throughput target.
class Simulator {
  public:
    Simulator(const ServerOptions& options, State state)
        : state_(std::move(state)), state_file_(options.state_file), api_token_(options.api_token) {
        if (options.rate_limit_per_minute) {
            limiter_.emplace(*options.rate_limit_per_minute);
        }
    }

    void persist() {
        if (!state_file_) {
            return;
        }
        if (auto r = save_state_file(state_, *state_file_); !r) {
            fmt::print(stderr, "simulate-scalingo: cannot save state: {}\n", r.error());
        }
    }

    // The answer, and whether a reset fault cuts it halfway.
    struct Answer {
        HttpResponse response;
        bool reset = false;
    };

    net::awaitable<Answer> respond(const HttpRequest& http_req) {
        const auto started = clock_.steady_now();
        Request req{std::string(http_req.method_string()), std::string(http_req.target()),
                    std::string(http_req[http::field::authorization]), http_req.body()};
        const std::string path = path_of(req.target);
        Deps deps{state_, jwt_, faults_, calls_, clock_, api_token_};
        Response res;
        bool reset = false;
        if (is_control_path(path)) {
            res = safe_handle(req, deps);
        } else {
            const auto seq = calls_.start(req.method, path, app_of(path), to_ms(clock_.now()));
            const auto fault = faults_.take(req.method, path);
            if (fault && fault->delay.count() > 0) {
                net::steady_timer timer(co_await net::this_coro::executor, fault->delay);
                co_await timer.async_wait(kUse);
            }
            reset = fault && fault->reset;
            if (fault && fault->status != 0) {
                res = fault_response(*fault);
            } else if (limiter_ && !limiter_->allow(rate_key(req, deps), clock_.steady_now())) {
                res = too_many_requests();
            } else {
                res = safe_handle(req, deps);
                if (res.mutated) {
                    persist();
                }
            }
            calls_.finish(seq, res.status, to_ms(clock_.now()));
        }
        const auto took =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - started);
        fmt::print(stderr, "simulate-scalingo: {} {} {} {}ms{}\n", req.method, path, res.status,
                   took.count(), reset ? " (answer cut: simulated reset)" : "");

        HttpResponse out{static_cast<http::status>(res.status), http_req.version()};
        out.set(http::field::server, "linkpilot-simulator");
        if (!res.content_type.empty()) {
            out.set(http::field::content_type, res.content_type);
        }
        for (const auto& [k, v] : res.headers) {
            out.set(k, v);
        }
        out.body() = std::move(res.body);
        out.keep_alive(http_req.keep_alive());
        out.prepare_payload();
        co_return Answer{std::move(out), reset};
    }

  private:
    Response safe_handle(const Request& req, Deps& deps) {
        try {
            return handle(req, deps);
        } catch (const std::exception& e) {
            // A bug or a corrupt state file: answer 500, keep serving.
            fmt::print(stderr, "simulate-scalingo: internal error on {} {}: {}\n", req.method,
                       req.target, e.what());
            return json_error(500, "internal simulator error");
        }
    }

    SystemClock clock_;
    State state_;
    JwtSigner jwt_;
    FaultQueue faults_;
    CallLog calls_;
    std::optional<RateLimiter> limiter_;
    std::optional<std::filesystem::path> state_file_;
    std::optional<std::string> api_token_;
};

HttpResponse error_response(http::status status, const char* message) {
    HttpResponse r{status, 11};
    r.set(http::field::content_type, "application/json");
    r.body() = boost::json::serialize(boost::json::object{{"error", message}});
    r.keep_alive(false);
    r.prepare_payload();
    return r;
}

template <class S>
net::awaitable<void> serve(S& stream, Simulator& sim) {
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(kMaxBodyBytes);
        parser.header_limit(kMaxHeaderBytes);
        beast::get_lowest_layer(stream).expires_after(kIoTimeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUse);
        if (ec) {
            std::optional<HttpResponse> answer;
            if (ec == http::error::body_limit) {
                answer = error_response(http::status::payload_too_large, "body too large");
            } else if (ec == http::error::header_limit) {
                answer = error_response(http::status::request_header_fields_too_large,
                                        "headers too large");
            } else if (ec.category() ==
                           http::make_error_code(http::error::end_of_stream).category() &&
                       ec != http::error::end_of_stream && ec != http::error::partial_message) {
                answer = error_response(http::status::bad_request, "malformed request");
            }
            if (answer) {
                beast::get_lowest_layer(stream).expires_after(kIoTimeout);
                co_await http::async_write(stream, *answer, kUse);
                // A lingering close: a client still sending the body we refused would get a
                // reset, and lose the answer, if the socket closed with its bytes unread.
                auto& tcp = beast::get_lowest_layer(stream);
                beast::error_code ignored;
                tcp.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
                tcp.expires_after(std::chrono::seconds(2));
                std::array<char, 16 * 1024> sink{};
                for (std::uint64_t drained = 0; drained < 16 * kMaxBodyBytes;) {
                    auto [rec, m] = co_await tcp.async_read_some(net::buffer(sink), kUse);
                    if (rec) {
                        break;
                    }
                    drained += m;
                }
            }
            co_return;
        }
        auto [res, reset] = co_await sim.respond(parser.get());
        if (reset) {
            // Half of the answer's bytes, then an RST (linger 0): a connection reset mid-answer.
            std::ostringstream whole;
            whole << res;
            const std::string bytes = whole.str();
            beast::get_lowest_layer(stream).expires_after(kIoTimeout);
            co_await net::async_write(stream, net::buffer(bytes.data(), bytes.size() / 2), kUse);
            auto& socket = beast::get_lowest_layer(stream).socket();
            boost::system::error_code ec;
            socket.set_option(net::socket_base::linger(true, 0), ec);
            socket.close(ec);
            co_return;
        }
        const bool keep_alive = res.keep_alive();
        beast::get_lowest_layer(stream).expires_after(kIoTimeout);
        auto [wec, wn] = co_await http::async_write(stream, res, kUse);
        if (wec || !keep_alive) {
            co_return;
        }
    }
}

net::awaitable<void> run_session(tcp::socket socket, Simulator& sim, ssl::context* tls) {
    try {
        if (tls == nullptr) {
            beast::tcp_stream stream(std::move(socket));
            co_await serve(stream, sim);
            boost::system::error_code ec;
            stream.socket().shutdown(tcp::socket::shutdown_send, ec);
            co_return;
        }
        beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
        beast::get_lowest_layer(stream).expires_after(kIoTimeout);
        auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kUse);
        if (ec) {
            co_return;
        }
        co_await serve(stream, sim);
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds{5});
        co_await stream.async_shutdown(kUse);
    } catch (const std::exception& e) {
        fmt::print(stderr, "simulate-scalingo: session error: {}\n", e.what());
    }
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, Simulator& sim, ssl::context* tls) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(kUse);
        if (ec == net::error::operation_aborted || !acceptor.is_open()) {
            co_return;
        }
        if (ec) {
            continue;  // e.g. EMFILE: keep serving the connections we have
        }
        net::co_spawn(acceptor.get_executor(), run_session(std::move(socket), sim, tls),
                      net::detached);
    }
}

Expected<State, std::string> initial_state(const ServerOptions& o) {
    if (o.state_file && std::filesystem::exists(*o.state_file)) {
        if (o.seed_file) {
            fmt::print(stderr, "simulate-scalingo: {} exists; --seed ignored\n",
                       o.state_file->string());
        }
        return load_state_file(*o.state_file);
    }
    State s;
    if (o.seed_file) {
        std::ifstream in(*o.seed_file, std::ios::binary);
        if (!in) {
            return Unexpected{o.seed_file->string() + ": cannot open"};
        }
        std::stringstream text;
        text << in.rdbuf();
        boost::system::error_code ec;
        auto seed = boost::json::parse(text.str(), ec);
        if (ec) {
            return Unexpected{o.seed_file->string() + ": invalid JSON: " + ec.message()};
        }
        if (auto r = apply_seed(s, seed, format_time(std::chrono::system_clock::now())); !r) {
            return Unexpected{o.seed_file->string() + ": " + r.error()};
        }
    }
    return s;
}

}  // namespace

Expected<ListenAddress, std::string> parse_listen(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size()) {
        return Unexpected{"invalid --listen \"" + text + "\" (expected HOST:PORT)"};
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty() || host == "localhost") {
        host = host.empty() ? "0.0.0.0" : "127.0.0.1";
    }
    unsigned short port = 0;
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(first, last, port);
    if (ec != std::errc{} || ptr != last) {
        return Unexpected{"invalid port in --listen \"" + text + "\""};
    }
    boost::system::error_code aec;
    (void)net::ip::make_address(host, aec);
    if (aec) {
        return Unexpected{"invalid address in --listen \"" + text + "\" (use an IP address)"};
    }
    return ListenAddress{host, port};
}

int run_server(const ServerOptions& options) {
    auto listen = parse_listen(options.listen);
    if (!listen) {
        fmt::print(stderr, "linkpilot: simulate-scalingo: {}\n", listen.error());
        return 1;
    }
    if (options.tls_cert.empty() != options.tls_key.empty()) {
        fmt::print(stderr, "linkpilot: simulate-scalingo: --tls-cert and --tls-key go together\n");
        return 1;
    }
    auto state = initial_state(options);
    if (!state) {
        fmt::print(stderr, "linkpilot: simulate-scalingo: {}\n", state.error());
        return 1;
    }

    std::optional<ssl::context> tls;
    if (!options.tls_cert.empty()) {
        tls.emplace(ssl::context::tls_server);
        boost::system::error_code ec;
        tls->use_certificate_chain_file(options.tls_cert, ec);
        if (!ec) {
            tls->use_private_key_file(options.tls_key, ssl::context::pem, ec);
        }
        if (ec) {
            fmt::print(stderr, "linkpilot: simulate-scalingo: TLS: {}\n", ec.message());
            return 1;
        }
    }

    net::io_context ioc{1};
    Simulator sim(options, std::move(*state));
    sim.persist();  // a seeded state is on disk before the first call

    tcp::acceptor acceptor(ioc);
    boost::system::error_code ec;
    const tcp::endpoint endpoint{net::ip::make_address(listen->host), listen->port};
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        fmt::print(stderr, "linkpilot: simulate-scalingo: cannot listen on {}: {}\n",
                   options.listen, ec.message());
        return 1;
    }
    const auto bound = acceptor.local_endpoint();
    const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                     : bound.address().to_string();
    fmt::print(stderr, "linkpilot simulate-scalingo: listening on {}://{}:{}\n",
               tls ? "https" : "http", host, bound.port());

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& sec, int signo) {
        if (sec) {
            return;
        }
        fmt::print(stderr, "simulate-scalingo: signal {}, stopping\n", signo);
        boost::system::error_code ignored;
        acceptor.close(ignored);
        sim.persist();
        // Open sessions are test connections; dropping them is the expected end.
        ioc.stop();
    });
    net::co_spawn(ioc, accept_loop(acceptor, sim, tls ? &*tls : nullptr), net::detached);
    ioc.run();
    return 0;
}

}  // namespace linkpilot::simulator
