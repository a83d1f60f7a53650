#include "daemon/ingress/request_reader.hpp"

#include <boost/beast/core/string.hpp>
#include <string>

namespace linkpilot::ingress {

namespace {

ReadStep refuse(unsigned version, http::status status, const std::string& reason) {
    return {ReadStep::Kind::refuse, error_response(version, false, status, reason)};
}

ReadStep body_too_large(unsigned version, const ReadLimits& limits) {
    return refuse(
        version, http::status::payload_too_large,
        "body exceeds server.max_body_bytes (" + std::to_string(limits.body_bytes) + " bytes)");
}

}  // namespace

void apply_limits(RequestParser& parser, const ReadLimits& limits) {
    parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
    parser.body_limit(limits.body_bytes);
}

ReadStep after_header(const boost::system::error_code& ec, const RequestParser& parser,
                      const ReadLimits& limits) {
    // The request line may not even be parsed yet: answer in HTTP/1.1.
    if (ec == http::error::header_limit) {
        return refuse(
            11, http::status::request_header_fields_too_large,
            "request headers exceed " + std::to_string(limits.header_bytes / 1024) + " KiB");
    }
    if (ec == http::error::body_limit) {
        return body_too_large(11, limits);
    }
    if (ec) {
        return {ReadStep::Kind::close, std::nullopt};
    }
    // Beast already refuses a Content-Length over body_limit in the header read; this keeps the
    // 413 even if that changes. GCC 12 at -O1 flags Beast's own boost::none in
    // content_length() as maybe-uninitialized (a false positive), hence the pragma.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
    const auto len = parser.content_length();
    if (len && *len > limits.body_bytes) {
        return body_too_large(parser.get().version(), limits);
    }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    return {};
}

ReadStep after_body(const boost::system::error_code& ec, const RequestParser& parser,
                    const ReadLimits& limits) {
    if (ec == http::error::body_limit) {
        return body_too_large(parser.get().version(), limits);
    }
    if (ec) {
        return {ReadStep::Kind::close, std::nullopt};
    }
    return {};
}

bool expects_continue(const RequestParser& parser) {
    return boost::beast::iequals(parser.get()[http::field::expect], "100-continue");
}

}  // namespace linkpilot::ingress
