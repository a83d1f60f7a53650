// Reading one request (daemon/ingress/request_reader.cpp): the limits a fresh parser gets, and
// what the session owes the client after the header read and after the body read. The parser
// is fed bytes directly; the session over a stream is in server_test.cpp.
#include "daemon/ingress/request_reader.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <string>
#include <string_view>

namespace linkpilot::ingress {
namespace {

constexpr ReadLimits kLimits{1024, 100};

// Feeds `bytes` to `parser` as a header read would (stops after the header), returns the error.
boost::system::error_code put_header(RequestParser& parser, std::string_view bytes) {
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!parser.is_header_done() && used < bytes.size()) {
        const auto n = parser.put(boost::asio::buffer(bytes.substr(used)), ec);
        if (ec == http::error::need_more) {
            return {};
        }
        if (ec) {
            return ec;
        }
        used += n;
        if (n == 0) {
            break;
        }
    }
    return ec;
}

std::string error_of(const ReadStep& step) {
    return step.refusal ? step.refusal->body() : std::string("(no refusal)");
}

TEST(Ingress_RequestReader, ApplyLimitsCapsTheHeader) {
    RequestParser parser;
    apply_limits(parser, kLimits);
    const auto ec =
        put_header(parser, "GET / HTTP/1.1\r\nX-Filler: " + std::string(2000, 'a') + "\r\n\r\n");
    EXPECT_EQ(ec, http::error::header_limit);
    const auto step = after_header(ec, parser, kLimits);
    ASSERT_EQ(step.kind, ReadStep::Kind::refuse);
    EXPECT_EQ(step.refusal->result(), http::status::request_header_fields_too_large);
    EXPECT_EQ(error_of(step), R"({"error":"request headers exceed 1 KiB"})");
    EXPECT_FALSE(step.refusal->keep_alive());
    EXPECT_EQ(step.refusal->version(), 11u);
}

TEST(Ingress_RequestReader, ApplyLimitsCapsADeclaredBodyInTheHeaderRead) {
    RequestParser parser;
    apply_limits(parser, kLimits);
    const auto ec =
        put_header(parser, "POST /webhooks/github HTTP/1.1\r\nContent-Length: 101\r\n\r\n");
    EXPECT_EQ(ec, http::error::body_limit);
    const auto step = after_header(ec, parser, kLimits);
    ASSERT_EQ(step.kind, ReadStep::Kind::refuse);
    EXPECT_EQ(step.refusal->result(), http::status::payload_too_large);
    EXPECT_EQ(error_of(step), R"j({"error":"body exceeds server.max_body_bytes (100 bytes)"})j");
    EXPECT_FALSE(step.refusal->keep_alive());
}

TEST(Ingress_RequestReader, ADeclaredLengthOverTheLimitIsRefusedEvenIfTheParserLetItThrough) {
    // A parser with a looser limit than the one checked: the 413 comes from the parsed value,
    // in the request's own HTTP version.
    RequestParser parser;
    apply_limits(parser, ReadLimits{1024, 1000});
    const auto ec =
        put_header(parser, "POST /webhooks/gitlab HTTP/1.0\r\nContent-Length: 500\r\n\r\n");
    ASSERT_FALSE(ec) << ec.message();
    const auto step = after_header(ec, parser, kLimits);
    ASSERT_EQ(step.kind, ReadStep::Kind::refuse);
    EXPECT_EQ(step.refusal->result(), http::status::payload_too_large);
    EXPECT_EQ(step.refusal->version(), 10u);
    EXPECT_FALSE(step.refusal->keep_alive());
}

TEST(Ingress_RequestReader, AHeaderWithinTheLimitsProceeds) {
    RequestParser parser;
    apply_limits(parser, kLimits);
    const auto ec =
        put_header(parser, "POST /webhooks/github HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
    ASSERT_FALSE(ec) << ec.message();
    const auto step = after_header(ec, parser, kLimits);
    EXPECT_EQ(step.kind, ReadStep::Kind::proceed);
    EXPECT_FALSE(step.refusal.has_value());
    EXPECT_FALSE(parser.is_done()) << "the body is still to read";
}

TEST(Ingress_RequestReader, AnyOtherReadErrorClosesWithoutAnAnswer) {
    RequestParser parser;
    apply_limits(parser, kLimits);
    const auto garbage = put_header(parser, "NOT AN HTTP REQUEST\r\n\r\n");
    ASSERT_TRUE(garbage);
    for (const boost::system::error_code ec :
         {garbage, boost::system::error_code(http::error::end_of_stream),
          boost::system::error_code(boost::asio::error::connection_reset),
          boost::system::error_code(boost::asio::error::operation_aborted)}) {
        const auto header = after_header(ec, parser, kLimits);
        EXPECT_EQ(header.kind, ReadStep::Kind::close) << ec.message();
        EXPECT_FALSE(header.refusal.has_value());
        const auto body = after_body(ec, parser, kLimits);
        EXPECT_EQ(body.kind, ReadStep::Kind::close) << ec.message();
    }
}

TEST(Ingress_RequestReader, AChunkedBodyOverTheLimitIsRefusedAfterTheBodyRead) {
    RequestParser parser;
    apply_limits(parser, kLimits);
    std::string bytes =
        "POST /webhooks/github HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "64\r\n" +
        std::string(100, 'x') + "\r\n1\r\nx\r\n0\r\n\r\n";
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done() && used < bytes.size()) {
        const auto n = parser.put(boost::asio::buffer(std::string_view(bytes).substr(used)), ec);
        if (ec) {
            break;
        }
        used += n;
    }
    EXPECT_EQ(ec, http::error::body_limit);
    const auto step = after_body(ec, parser, kLimits);
    ASSERT_EQ(step.kind, ReadStep::Kind::refuse);
    EXPECT_EQ(step.refusal->result(), http::status::payload_too_large);
    EXPECT_FALSE(step.refusal->keep_alive());
    EXPECT_EQ(after_body({}, parser, kLimits).kind, ReadStep::Kind::proceed);
}

TEST(Ingress_RequestReader, ExpectsContinueOnlyFor100Continue) {
    auto parsed = [](std::string_view headers) {
        RequestParser parser;
        apply_limits(parser, kLimits);
        EXPECT_FALSE(put_header(parser, "POST /webhooks/github HTTP/1.1\r\nContent-Length: 2\r\n" +
                                            std::string(headers) + "\r\n"));
        return expects_continue(parser);
    };
    EXPECT_TRUE(parsed("Expect: 100-continue\r\n"));
    EXPECT_TRUE(parsed("Expect: 100-Continue\r\n"));
    EXPECT_FALSE(parsed(""));
    EXPECT_FALSE(parsed("Expect: something-else\r\n"));
}

}  // namespace
}  // namespace linkpilot::ingress
