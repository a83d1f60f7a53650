#include "daemon/scalingo/http.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <string>
#include <variant>

#include "daemon/scalingo/jwt.hpp"

namespace linkpilot::scalingo {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using net::ip::tcp;
using namespace net::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

// STYLE 4: operations complete with [ec, ...] tuples instead of throwing.
constexpr auto kUse = net::as_tuple(net::use_awaitable);
using Executor =
    net::as_tuple_t<net::use_awaitable_t<>>::executor_with_default<net::any_io_executor>;
using TcpStream = beast::tcp_stream::rebind_executor<Executor>::other;
using TlsStream = beast::ssl_stream<TcpStream>;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    (void)net::ip::make_address(host, ec);
    return !ec;
}

// Time left for one step: its own timeout, clipped by the request's deadline.
Clock::duration step(std::chrono::milliseconds timeout, Clock::time_point deadline) {
    const auto left = deadline - Clock::now();
    return std::max(std::min<Clock::duration>(timeout, left), Clock::duration::zero());
}

std::string millis(Clock::duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

std::string timeout_message(std::string_view what, const Origin& origin,
                            std::chrono::milliseconds timeout, Clock::time_point deadline) {
    if (Clock::now() >= deadline) {
        return std::string(what) + " " + origin.authority() + ": call deadline exceeded";
    }
    return std::string(what) + " " + origin.authority() + ": timed out after " + millis(timeout);
}

bool is_stale_connection_error(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == net::error::broken_pipe ||
           ec == net::error::connection_aborted || ec == ssl::error::stream_truncated;
}

// Each pooled connection's read buffer, enough for any answer but a long list in one read.
constexpr std::size_t kReadBufferBytes = 4096;

// Where an operator goes next when the chain, not the name, is the problem.
std::string trust_hint(long verify) {
    switch (verify) {
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return " (set scalingo.ca_file to trust a private CA)";
        default:
            return "";
    }
}

}  // namespace

struct HttpTransport::Connection {
    std::string key;
    std::unique_ptr<TcpStream> plain;  // http://
    std::unique_ptr<TlsStream> tls;    // https://
    // Beast reads max(512, free capacity) at a time, and a buffer that never held more than
    // 512 bytes never grows: every answer over 512 bytes (a deployment is ~550) took two reads.
    beast::flat_buffer buffer = [] {
        beast::flat_buffer b;
        b.reserve(kReadBufferBytes);
        return b;
    }();

    TcpStream& lowest() const { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

namespace {

struct RoundTrip {
    Expected<HttpResponse, CallError> result{Unexpected{CallError{}}};
    bool stale = false;  // failed before any answer byte on a reused connection
    bool keep_alive = false;
};

template <class Stream>
net::awaitable<RoundTrip> round_trip(Stream& stream, TcpStream& lowest, beast::flat_buffer& buffer,
                                     const http::request<http::string_body>& req,
                                     const Origin& origin, const HttpOptions& options,
                                     Clock::time_point deadline) {
    RoundTrip rt;
    const auto read_timeout = options.timeouts.read;
    lowest.expires_after(step(read_timeout, deadline));
    auto [wec, written] = co_await http::async_write(stream, req, kUse);
    (void)written;
    if (wec) {
        if (wec == beast::error::timeout) {
            rt.result = Unexpected{
                transport_error(timeout_message("sending to", origin, read_timeout, deadline))};
        } else {
            rt.stale = true;
            rt.result = Unexpected{
                transport_error("sending to " + origin.authority() + ": " + wec.message())};
        }
        co_return rt;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.body_limit);
    lowest.expires_after(step(read_timeout, deadline));
    auto [rec, n] = co_await http::async_read(stream, buffer, parser, kUse);
    (void)n;
    if (rec == ssl::error::stream_truncated && parser.is_header_done()) {
        // A TLS peer that closes without close_notify after a body that runs to EOF.
        boost::system::error_code eof_ec;
        parser.put_eof(eof_ec);
        rec = eof_ec;
    }
    if (rec) {
        if (rec == beast::error::timeout) {
            rt.result = Unexpected{transport_error(
                timeout_message("waiting for answer from", origin, read_timeout, deadline))};
        } else {
            rt.stale = !parser.got_some() && is_stale_connection_error(rec);
            rt.result = Unexpected{transport_error("reading answer from " + origin.authority() +
                                                   ": " + rec.message())};
        }
        co_return rt;
    }
    auto& res = parser.get();
    HttpResponse out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
        out.retry_after = std::string(it->value());
    }
    rt.keep_alive = res.keep_alive();
    rt.result = std::move(out);
    co_return rt;
}

}  // namespace

std::string Origin::key() const { return (tls ? "https://" : "http://") + authority(); }

std::string Origin::authority() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Expected<Origin, std::string> parse_origin(std::string_view text) {
    auto parsed = boost::urls::parse_uri(boost::core::string_view(text.data(), text.size()));
    if (!parsed) {
        return Unexpected{"invalid URL \"" + std::string(text) + "\""};
    }
    const auto& u = *parsed;
    Origin o;
    const auto scheme = lower(std::string_view(u.scheme().data(), u.scheme().size()));
    if (scheme == "https") {
        o.tls = true;
        o.port = 443;
    } else if (scheme == "http") {
        o.tls = false;
        o.port = 80;
    } else {
        return Unexpected{"unsupported URL scheme in \"" + std::string(text) + "\""};
    }
    std::string host = u.host();
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) {
        return Unexpected{"URL without host \"" + std::string(text) + "\""};
    }
    o.host = lower(host);
    if (u.has_port()) {
        if (u.port_number() == 0) {
            return Unexpected{"invalid port in \"" + std::string(text) + "\""};
        }
        o.port = u.port_number();
    }
    const auto encoded = u.encoded_path();
    std::string path(encoded.data(), encoded.size());
    while (!path.empty() && path.back() == '/') {
        path.pop_back();
    }
    o.base_path = path;
    return o;
}

Expected<ProxySettings, std::string> proxy_from_environment(
    const std::function<const char*(const char*)>& getenv) {
    auto var = [&](const char* lower_name, const char* upper_name) -> std::string {
        const char* v = getenv(lower_name);
        if (v == nullptr || *v == '\0') {
            v = getenv(upper_name);
        }
        return v == nullptr ? std::string() : std::string(v);
    };
    ProxySettings settings;
    auto proxy = var("https_proxy", "HTTPS_PROXY");
    if (!proxy.empty()) {
        if (proxy.find("://") == std::string::npos) {
            proxy = "http://" + proxy;
        }
        auto parsed = boost::urls::parse_uri(proxy);
        auto origin = parse_origin(proxy);
        if (!parsed || !origin) {
            return Unexpected{std::string("HTTPS_PROXY is not a valid URL")};
        }
        if (origin->tls) {
            return Unexpected{std::string("HTTPS_PROXY: only http:// proxies are supported")};
        }
        if (!parsed->has_port()) {
            origin->port = 3128;  // no standard port for proxies; squid's
        }
        if (parsed->has_userinfo()) {
            settings.proxy_authorization =
                "Basic " +
                base64_encode(std::string(parsed->user()) + ":" + std::string(parsed->password()));
        }
        settings.https_proxy = std::move(*origin);
    }
    const auto no_proxy = var("no_proxy", "NO_PROXY");
    std::string entry;
    auto flush = [&] {
        while (!entry.empty() && entry.back() == ' ') {
            entry.pop_back();
        }
        if (!entry.empty()) {
            settings.no_proxy.push_back(lower(entry));
        }
        entry.clear();
    };
    for (char c : no_proxy) {
        if (c == ',') {
            flush();
        } else if (c != ' ' || !entry.empty()) {
            entry += c;
        }
    }
    flush();
    return settings;
}

bool bypasses_proxy(const std::vector<std::string>& no_proxy, std::string_view host_in) {
    const auto host = lower(host_in);
    for (auto entry : no_proxy) {
        if (entry == "*") {
            return true;
        }
        // Entries may carry a port ("example.com:443") or brackets; compare hosts only.
        if (!entry.empty() && entry.front() == '[') {
            entry = entry.substr(1, entry.find(']') - 1);
        } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
            entry = entry.substr(0, entry.find(':'));
        }
        if (!entry.empty() && entry.front() == '.') {
            entry.erase(0, 1);
        }
        if (entry.empty()) {
            continue;
        }
        if (host == entry) {
            return true;
        }
        if (host.size() > entry.size() && host.ends_with(entry) &&
            host[host.size() - entry.size() - 1] == '.') {
            return true;
        }
    }
    return false;
}

Expected<std::unique_ptr<HttpTransport>, std::string> HttpTransport::create(
    net::any_io_executor executor, HttpOptions options) {
    std::unique_ptr<HttpTransport> t(new HttpTransport(std::move(executor), std::move(options)));
    boost::system::error_code ec;
    t->ssl_.set_default_verify_paths(ec);
    if (ec) {
        return Unexpected{"cannot load the system CA store: " + ec.message()};
    }
    if (t->options_.ca_file) {
        t->ssl_.load_verify_file(t->options_.ca_file->string(), ec);
        if (ec) {
            return Unexpected{"cannot load ca_file " + t->options_.ca_file->string() + ": " +
                              ec.message()};
        }
    }
    return t;
}

HttpTransport::HttpTransport(net::any_io_executor executor, HttpOptions options)
    : executor_(std::move(executor)), options_(std::move(options)), ssl_(ssl::context::tls_client) {
    ssl_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    SSL_CTX_set_min_proto_version(ssl_.native_handle(), TLS1_2_VERSION);
    ssl_.set_verify_mode(ssl::verify_peer);
}

HttpTransport::~HttpTransport() = default;

std::size_t HttpTransport::idle_connections() const {
    std::size_t n = 0;
    for (const auto& [key, conns] : idle_) {
        n += conns.size();
    }
    return n;
}

net::awaitable<Expected<std::unique_ptr<HttpTransport::Connection>, CallError>>
HttpTransport::connect(const Origin& origin, Clock::time_point deadline) {
    const auto connect_timeout = options_.timeouts.connect;
    const bool via_proxy = origin.tls && options_.proxy.https_proxy &&
                           !bypasses_proxy(options_.proxy.no_proxy, origin.host);
    const Origin& hop = via_proxy ? *options_.proxy.https_proxy : origin;

    // DNS has no stream timer: race it against one (STYLE 4).
    tcp::resolver resolver(executor_);
    net::steady_timer timer(executor_);
    timer.expires_after(step(connect_timeout, deadline));
    auto resolved = co_await (resolver.async_resolve(hop.host, std::to_string(hop.port), kUse) ||
                              timer.async_wait(kUse));
    if (resolved.index() == 1) {
        co_return Unexpected{
            transport_error(timeout_message("resolving", hop, connect_timeout, deadline))};
    }
    auto [rec, endpoints] = std::get<0>(std::move(resolved));
    if (rec) {
        co_return Unexpected{transport_error("resolving " + hop.host + ": " + rec.message())};
    }

    auto stream = std::make_unique<TcpStream>(executor_);
    stream->expires_after(step(connect_timeout, deadline));
    auto [cec, endpoint] = co_await stream->async_connect(endpoints);  // default token: as_tuple
    (void)endpoint;
    if (cec == beast::error::timeout) {
        co_return Unexpected{
            transport_error(timeout_message("connecting to", hop, connect_timeout, deadline))};
    }
    if (cec) {
        co_return Unexpected{
            transport_error("connecting to " + hop.authority() + ": " + cec.message())};
    }

    if (via_proxy) {
        http::request<http::empty_body> req{http::verb::connect, origin.authority(), 11};
        req.set(http::field::host, origin.authority());
        req.set(http::field::user_agent, options_.user_agent);
        if (options_.proxy.proxy_authorization) {
            req.set(http::field::proxy_authorization, *options_.proxy.proxy_authorization);
        }
        stream->expires_after(step(connect_timeout, deadline));
        auto [wec, wn] = co_await http::async_write(*stream, req, kUse);
        (void)wn;
        beast::flat_buffer buffer;
        http::response_parser<http::empty_body> parser;
        parser.skip(true);  // a CONNECT answer has no body: the tunnel follows
        boost::system::error_code pec = wec;
        if (!pec) {
            stream->expires_after(step(connect_timeout, deadline));
            auto [ec, n] = co_await http::async_read_header(*stream, buffer, parser, kUse);
            (void)n;
            pec = ec;
        }
        if (pec) {
            co_return Unexpected{
                transport_error("proxy " + hop.authority() + ": " + pec.message())};
        }
        if (parser.get().result_int() != 200) {
            const auto status = parser.get().result_int();
            co_return Unexpected{
                transport_error("proxy " + hop.authority() + " refused CONNECT " +
                                    origin.authority() + ": " + std::to_string(status),
                                status == 407 ? ErrorKind::fatal : ErrorKind::retryable)};
        }
    }

    auto conn = std::make_unique<Connection>();
    conn->key = origin.key();
    if (!origin.tls) {
        conn->plain = std::move(stream);
        co_return conn;
    }

    auto tls = std::make_unique<TlsStream>(std::move(*stream), ssl_);
    SSL* native = tls->native_handle();
    if (is_ip_literal(origin.host)) {
        // No SNI for IP literals (RFC 6066); match the IP SAN instead of a name.
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), origin.host.c_str());
    } else {
        SSL_set_tlsext_host_name(native, origin.host.c_str());
        // Lets OpenSSL report a precise "hostname mismatch" in the verify result.
        SSL_set1_host(native, origin.host.c_str());
    }
    tls->set_verify_mode(ssl::verify_peer);
    tls->set_verify_callback(ssl::host_name_verification(origin.host));
    beast::get_lowest_layer(*tls).expires_after(step(connect_timeout, deadline));
    auto [hec] = co_await tls->async_handshake(ssl::stream_base::client);
    if (hec == beast::error::timeout) {
        co_return Unexpected{transport_error(
            timeout_message("TLS handshake with", origin, connect_timeout, deadline))};
    }
    if (hec) {
        const long verify = SSL_get_verify_result(native);
        if (verify != X509_V_OK) {
            // A certificate problem does not heal by retrying: fail the call clearly.
            co_return Unexpected{transport_error(
                "TLS certificate verification failed for " + origin.authority() + ": " +
                    X509_verify_cert_error_string(verify) + trust_hint(verify),
                ErrorKind::fatal)};
        }
        if (hec.category() == net::error::get_ssl_category() &&
            ERR_GET_REASON(static_cast<unsigned long>(hec.value())) ==
                SSL_R_CERTIFICATE_VERIFY_FAILED) {
            co_return Unexpected{transport_error("TLS certificate verification failed for " +
                                                     origin.authority() +
                                                     ": certificate does not match the host name",
                                                 ErrorKind::fatal)};
        }
        co_return Unexpected{
            transport_error("TLS handshake with " + origin.authority() + ": " + hec.message())};
    }
    conn->tls = std::move(tls);
    co_return conn;
}

net::awaitable<Expected<HttpResponse, CallError>> HttpTransport::send(const Origin& origin,
                                                                      const HttpRequest& request,
                                                                      Clock::time_point deadline) {
    http::request<http::string_body> req{request.method, origin.base_path + request.target, 11};
    const bool default_port = origin.port == (origin.tls ? 443 : 80);
    const bool v6 = origin.host.find(':') != std::string::npos;
    const std::string host = v6 ? "[" + origin.host + "]" : origin.host;
    req.set(http::field::host, default_port ? host : host + ":" + std::to_string(origin.port));
    req.set(http::field::user_agent, options_.user_agent);
    req.set(http::field::accept, "application/json");
    if (!request.authorization.empty()) {
        req.set(http::field::authorization, request.authorization);
    }
    if (!request.body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = request.body;
    }
    req.keep_alive(true);
    req.prepare_payload();

    const auto key = origin.key();
    // A reused keep-alive connection may have been closed by the server meanwhile: then, and
    // only then (no answer byte seen), try once more on a fresh one.
    for (int round = 0; round < 2; ++round) {
        std::unique_ptr<Connection> conn;
        bool reused = false;
        if (auto it = idle_.find(key); it != idle_.end() && !it->second.empty()) {
            conn = std::move(it->second.back());
            it->second.pop_back();
            reused = true;
        } else {
            auto fresh = co_await connect(origin, deadline);
            if (!fresh) {
                co_return Unexpected{fresh.error()};
            }
            conn = std::move(*fresh);
        }
        RoundTrip rt;
        if (conn->plain) {
            rt = co_await round_trip(*conn->plain, conn->lowest(), conn->buffer, req, origin,
                                     options_, deadline);
        } else {
            rt = co_await round_trip(*conn->tls, conn->lowest(), conn->buffer, req, origin,
                                     options_, deadline);
        }
        if (!rt.result && rt.stale && reused) {
            continue;
        }
        if (rt.result && rt.keep_alive) {
            auto& pool = idle_[key];
            if (pool.size() < options_.max_idle_per_origin) {
                pool.push_back(std::move(conn));
            }
        }
        co_return std::move(rt.result);
    }
    co_return Unexpected{transport_error("sending to " + origin.authority() + ": connection lost")};
}

}  // namespace linkpilot::scalingo
