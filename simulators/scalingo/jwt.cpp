#include "simulators/scalingo/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <boost/json.hpp>
#include <stdexcept>

namespace linkpilot::simulator {

namespace json = boost::json;

namespace {

constexpr std::size_t kKeyBytes = 32;

std::string random_key() {
    std::string key(kKeyBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) !=
        1) {
        throw std::runtime_error("RAND_bytes failed");  // no entropy is a broken host, not input
    }
    return key;
}

std::string hmac_sha256(const std::string& key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
    return {reinterpret_cast<const char*>(out.data()), len};
}

std::int64_t to_unix(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

const char* to_string(JwtError e) {
    switch (e) {
        case JwtError::kMalformed:
            return "malformed token";
        case JwtError::kBadSignature:
            return "invalid signature";
        case JwtError::kExpired:
            return "token expired";
    }
    return "invalid token";
}

std::string base64url_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }
    for (char& c : out) {
        if (c == '+') {
            c = '-';
        } else if (c == '/') {
            c = '_';
        }
    }
    return out;
}

Expected<std::string, JwtError> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return Unexpected{JwtError::kMalformed};
    }
    std::string out(3 * (text.size() / 4) + 1, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) {
        return Unexpected{JwtError::kMalformed};
    }
    // EVP_DecodeBlock counts the padding as zero bytes; drop them.
    auto len = static_cast<std::size_t>(n);
    for (std::size_t i = text.size(); i > 0 && text[i - 1] == '=' && len > 0; --i) {
        --len;
    }
    out.resize(len);
    return out;
}

Expected<std::string, JwtError> base64url_decode(std::string_view text) {
    std::string std_text;
    std_text.reserve(text.size() + 3);
    for (char c : text) {
        if (c == '-') {
            std_text.push_back('+');
        } else if (c == '_') {
            std_text.push_back('/');
        } else if (c == '+' || c == '/' || c == '=') {
            return Unexpected{JwtError::kMalformed};
        } else {
            std_text.push_back(c);
        }
    }
    while (std_text.size() % 4 != 0) {
        std_text.push_back('=');
    }
    return base64_decode(std_text);
}

JwtSigner::JwtSigner() : key_(random_key()) {}
JwtSigner::JwtSigner(std::string key) : key_(std::move(key)) {}

void JwtSigner::rotate() { key_ = random_key(); }

std::string JwtSigner::issue(const std::string& subject,
                             std::chrono::system_clock::time_point now) const {
    const std::string header = R"({"alg":"HS256","typ":"JWT"})";
    json::object claims;
    claims["iss"] = "linkpilot-simulator";
    claims["sub"] = subject;
    claims["iat"] = to_unix(now);
    claims["exp"] = to_unix(now + kJwtLifetime);
    const std::string signing_input =
        base64url_encode(header) + "." + base64url_encode(json::serialize(claims));
    return signing_input + "." + base64url_encode(hmac_sha256(key_, signing_input));
}

Expected<JwtClaims, JwtError> JwtSigner::verify(std::string_view token,
                                                std::chrono::system_clock::time_point now) const {
    const auto dot1 = token.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return Unexpected{JwtError::kMalformed};
    }
    const auto signing_input = token.substr(0, dot2);
    auto signature = base64url_decode(token.substr(dot2 + 1));
    if (!signature) {
        return Unexpected{JwtError::kMalformed};
    }
    const std::string expected = hmac_sha256(key_, signing_input);
    if (signature->size() != expected.size() ||
        CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
        return Unexpected{JwtError::kBadSignature};
    }
    auto header = base64url_decode(token.substr(0, dot1));
    auto payload = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
    if (!header || !payload) {
        return Unexpected{JwtError::kMalformed};
    }
    boost::system::error_code ec;
    const json::value h = json::parse(*header, ec);
    if (ec || !h.is_object() || h.as_object().if_contains("alg") == nullptr ||
        h.at("alg") != "HS256") {
        return Unexpected{JwtError::kMalformed};
    }
    const json::value p = json::parse(*payload, ec);
    if (ec || !p.is_object()) {
        return Unexpected{JwtError::kMalformed};
    }
    const auto& obj = p.as_object();
    const auto* exp = obj.if_contains("exp");
    const auto* iat = obj.if_contains("iat");
    const auto* sub = obj.if_contains("sub");
    if (exp == nullptr || !exp->is_int64() || iat == nullptr || !iat->is_int64() ||
        sub == nullptr || !sub->is_string()) {
        return Unexpected{JwtError::kMalformed};
    }
    JwtClaims claims{std::string(sub->as_string()),
                     std::chrono::system_clock::time_point{std::chrono::seconds{iat->as_int64()}},
                     std::chrono::system_clock::time_point{std::chrono::seconds{exp->as_int64()}}};
    if (now >= claims.expires_at) {
        return Unexpected{JwtError::kExpired};
    }
    return claims;
}

}  // namespace linkpilot::simulator
