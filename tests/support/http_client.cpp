#include "tests/support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

namespace linkpilot::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

HttpResult http_request(const std::string& host, unsigned short port, const std::string& method,
                        const std::string& target, const std::string& body,
                        const std::map<std::string, std::string>& headers,
                        std::chrono::milliseconds timeout) {
    HttpResult result;
    try {
        net::io_context ioc;
        beast::tcp_stream stream(ioc);
        stream.expires_after(timeout);
        stream.connect(net::ip::tcp::endpoint{net::ip::make_address(host), port});

        http::request<http::string_body> req;
        req.method_string(method);
        req.target(target);
        req.version(11);
        req.set(http::field::host, host + ":" + std::to_string(port));
        req.set(http::field::connection, "close");
        for (const auto& [k, v] : headers) {
            req.set(k, v);
        }
        if (!body.empty() && headers.count("Content-Type") == 0 &&
            headers.count("content-type") == 0) {
            req.set(http::field::content_type, "application/json");
        }
        req.body() = body;
        req.prepare_payload();
        // Sync Beast ops on a tcp_stream still honour expires_after only for async ops, so
        // bound the blocking calls with socket timeouts too.
        const struct timeval tv {
            static_cast<time_t>(timeout.count() / 1000),
                static_cast<suseconds_t>((timeout.count() % 1000) * 1000)
        };
        ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        http::write(stream, req);

        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        http::read(stream, buffer, parser);
        const auto& res = parser.get();
        result.status = static_cast<int>(res.result_int());
        for (const auto& f : res) {
            std::string name(f.name_string());
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            result.headers[name] = std::string(f.value());
        }
        result.body = res.body();
        beast::error_code ec;
        stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    } catch (const std::exception& e) {
        result.status = 0;
        result.error = e.what();
    }
    return result;
}

}  // namespace linkpilot::testing
