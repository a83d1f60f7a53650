#include "daemon/scalingo/errors.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/json.hpp>
#include <string>

namespace linkpilot::scalingo {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxPlainText = 200;

// One line, no control characters, at most kMaxPlainText characters.
std::string short_line(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (out.size() >= kMaxPlainText) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            if (!out.empty() && out.back() != ' ') {
                out += ' ';
            }
            continue;
        }
        out += c;
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    return out;
}

std::string join_strings(const json::value& v) {
    if (v.is_string()) {
        return std::string(v.get_string());
    }
    std::string out;
    if (v.is_array()) {
        for (const auto& item : v.get_array()) {
            if (!out.empty()) {
                out += ", ";
            }
            out += item.is_string() ? std::string(item.get_string()) : json::serialize(item);
        }
        return out;
    }
    return json::serialize(v);
}

// The readable part of a JSON error body, or "" when the body has no known shape.
std::string json_detail(const json::value& v) {
    if (!v.is_object()) {
        return {};
    }
    const auto& obj = v.get_object();
    std::string detail;
    if (const auto* errors = obj.if_contains("errors"); errors != nullptr) {
        if (errors->is_object()) {
            for (const auto& [field, messages] : errors->get_object()) {
                if (!detail.empty()) {
                    detail += "; ";
                }
                detail += std::string(field) + ": " + join_strings(messages);
            }
        } else {
            detail = join_strings(*errors);
        }
    }
    if (const auto* error = obj.if_contains("error"); error != nullptr && detail.empty()) {
        detail = join_strings(*error);
        if (const auto* res = obj.if_contains("resource"); res != nullptr && res->is_string()) {
            detail = std::string(res->get_string()) + " " + detail;
        }
    }
    if (detail.empty()) {
        if (const auto* message = obj.if_contains("message"); message != nullptr) {
            detail = join_strings(*message);
        }
    }
    return short_line(detail);
}

}  // namespace

ErrorKind classify_status(unsigned status) {
    if (status == 408 || status == 429 || status >= 500) {
        return ErrorKind::retryable;
    }
    return ErrorKind::fatal;
}

std::string format_error(unsigned status, std::string_view body) {
    std::string head = std::to_string(status);
    const auto reason =
        boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
    if (!reason.empty() && reason != "<unknown-status>") {
        head += ' ';
        head += reason;
    }
    std::string detail;
    boost::system::error_code ec;
    const auto parsed = json::parse(json::string_view(body.data(), body.size()), ec);
    if (!ec) {
        detail = json_detail(parsed);
    }
    if (ec || detail.empty()) {
        // Plain text (Scalingo's 429 body) or an unknown JSON shape: keep it short.
        detail = short_line(body);
    }
    if (detail.empty()) {
        return head;
    }
    return head + ": " + detail;
}

CallError error_from_answer(unsigned status, std::string_view body,
                            std::optional<std::chrono::milliseconds> retry_after) {
    return CallError{classify_status(status), status, retry_after, format_error(status, body)};
}

CallError transport_error(std::string message, ErrorKind kind) {
    return CallError{kind, 0, std::nullopt, std::move(message)};
}

}  // namespace linkpilot::scalingo
