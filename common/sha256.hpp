#pragma once

// SHA-256 of a byte string as lowercase hex (OpenSSL's EVP API). Link OpenSSL::Crypto.

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace linkpilot {

// The digest as 64 lowercase hex digits, or nullopt when OpenSSL fails (out of memory, or a
// provider without SHA-256): callers decide what a missing hash means, never an empty one.
[[nodiscard]] inline std::optional<std::string> sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
        return std::nullopt;
    }
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out;
    out.reserve(static_cast<std::size_t>(len) * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(kHex[md[i] >> 4]);
        out.push_back(kHex[md[i] & 0x0f]);
    }
    return out;
}

}  // namespace linkpilot
