#include "daemon/ingress/github/verify.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>

namespace linkpilot::ingress::github {

namespace {

constexpr std::string_view kPrefix = "sha256=";
constexpr std::size_t kDigestSize = 32;  // SHA-256

using Digest = std::array<unsigned char, kDigestSize>;

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::optional<Digest> decode(std::string_view header) {
    if (header.substr(0, kPrefix.size()) != kPrefix) {
        return std::nullopt;
    }
    std::string_view hex = header.substr(kPrefix.size());
    if (hex.size() != 2 * kDigestSize) {
        return std::nullopt;
    }
    Digest out{};
    for (std::size_t i = 0; i < kDigestSize; ++i) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out[i] = static_cast<unsigned char>((hi << 4) | lo);
    }
    return out;
}

std::optional<Digest> hmac_sha256(std::string_view key, std::string_view body) {
    Digest out{};
    unsigned int len = 0;
    // A null key pointer with length 0 is refused by some OpenSSL versions; point at "".
    const char* key_data = key.empty() ? "" : key.data();
    const unsigned char* result =
        HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(body.data()), body.size(), out.data(), &len);
    if (result == nullptr || len != kDigestSize) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::ok:
            return "ok";
        case Verdict::missing:
            return "missing signature";
        case Verdict::malformed:
            return "malformed signature";
        case Verdict::mismatch:
            return "signature mismatch";
    }
    return "unknown";
}

Verdict verify_signature(std::string_view raw_body, std::optional<std::string_view> header,
                         const std::vector<config::Secret>& secrets) {
    if (!header || header->empty()) {
        return Verdict::missing;
    }
    auto received = decode(*header);
    if (!received) {
        return Verdict::malformed;
    }
    // Every secret is tried (no early exit), so timing does not tell which one matched.
    bool matched = false;
    for (const auto& secret : secrets) {
        auto expected = hmac_sha256(secret.reveal(), raw_body);
        if (expected && CRYPTO_memcmp(expected->data(), received->data(), kDigestSize) == 0) {
            matched = true;
        }
    }
    return matched ? Verdict::ok : Verdict::mismatch;
}

}  // namespace linkpilot::ingress::github
