#pragma once

// Reading one request off a connection (SPEC 3): the parser with its limits, and what the
// session owes the client after the header read and after the body read. Shared by the session
// loop (server.cpp) and the HTTP fuzz target (fuzz/http_request.cpp), so the fuzzer exercises
// the server's own limits rather than a copy of them. No I/O here.

#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/ingress/handler.hpp"

namespace linkpilot::ingress {

using RequestParser = http::request_parser<http::string_body>;

struct ReadLimits {
    std::size_t header_bytes = 64 * 1024;            // SPEC 3: 431 beyond
    std::uint64_t body_bytes = 25ULL * 1024 * 1024;  // config server.max_body_bytes: 413 beyond
};

// Sets the limits on a fresh parser (one parser per request).
void apply_limits(RequestParser& parser, const ReadLimits& limits);

// What the session does after a read.
// NOLINTNEXTLINE(bugprone-exception-escape): Beast's fields move without throwing (std::allocator)
struct ReadStep {
    enum class Kind {
        proceed,  // go on: read the body, or handle the request once parser.is_done()
        close,    // closed, timed out, reset or garbage: close without answering
        refuse,   // answer `refusal` (keep-alive off), then linger and close
    };
    Kind kind = Kind::proceed;
    std::optional<Response> refusal;
};

// After async_read_header returned `ec`: 431 for headers over the limit, 413 for a body over it
// (Beast checks Content-Length while parsing the header; checked again from the parsed value so
// no body byte is read for an oversized request), close for any other error.
ReadStep after_header(const boost::system::error_code& ec, const RequestParser& parser,
                      const ReadLimits& limits);

// After async_read (the body) returned `ec`: 413 when a chunked body grew over the limit, close
// for any other error.
ReadStep after_body(const boost::system::error_code& ec, const RequestParser& parser,
                    const ReadLimits& limits);

// Whether the client waits for `100 Continue` before sending the body.
bool expects_continue(const RequestParser& parser);

}  // namespace linkpilot::ingress
