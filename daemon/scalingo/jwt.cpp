#include "daemon/scalingo/jwt.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>
#include <cmath>
#include <vector>

namespace linkpilot::scalingo {

std::optional<std::string> base64url_decode(std::string_view in) {
    std::string b64;
    b64.reserve(in.size() + 3);
    for (char c : in) {
        if (c == '-') {
            b64 += '+';
        } else if (c == '_') {
            b64 += '/';
        } else if (c == '=') {
            break;
        } else {
            b64 += c;
        }
    }
    if (b64.size() % 4 == 1) {
        return std::nullopt;
    }
    std::size_t padding = 0;
    while (b64.size() % 4 != 0) {
        b64 += '=';
        ++padding;
    }
    std::vector<unsigned char> out(b64.size() / 4 * 3 + 1);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    if (n < 0) {
        return std::nullopt;
    }
    // EVP_DecodeBlock counts the bytes the padding stands for; drop them.
    return std::string(reinterpret_cast<const char*>(out.data()),
                       static_cast<std::size_t>(n) - padding);
}

std::string base64_encode(std::string_view in) {
    std::vector<unsigned char> out((in.size() + 2) / 3 * 4 + 1);
    const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    return {reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n)};
}

std::optional<std::chrono::system_clock::time_point> jwt_expiry(std::string_view token) {
    const auto first = token.find('.');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    const auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    if (!payload) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto claims = boost::json::parse(*payload, ec);
    if (ec || !claims.is_object()) {
        return std::nullopt;
    }
    const auto* exp = claims.get_object().if_contains("exp");
    if (exp == nullptr) {
        return std::nullopt;
    }
    double seconds = 0;
    if (exp->is_int64()) {
        seconds = static_cast<double>(exp->get_int64());
    } else if (exp->is_uint64()) {
        seconds = static_cast<double>(exp->get_uint64());
    } else if (exp->is_double()) {
        seconds = exp->get_double();
    } else {
        return std::nullopt;
    }
    // Year ~2286 and beyond, or negative: not a real expiry.
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e10) {
        return std::nullopt;
    }
    return std::chrono::system_clock::time_point(
        std::chrono::seconds(static_cast<std::int64_t>(seconds)));
}

}  // namespace linkpilot::scalingo
