#include "daemon/ingress/gitlab/verify.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

namespace linkpilot::ingress::gitlab {

namespace {

constexpr std::size_t kDigestSize = 32;  // SHA-256
using Digest = std::array<unsigned char, kDigestSize>;

std::optional<Digest> sha256(std::string_view data) {
    Digest out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
        len != kDigestSize) {
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
            return "missing token";
        case Verdict::malformed:
            return "malformed token";
        case Verdict::mismatch:
            return "token mismatch";
    }
    return "unknown";
}

Verdict verify_token(std::optional<std::string_view> header,
                     const std::vector<config::Secret>& tokens) {
    if (!header || header->empty()) {
        return Verdict::missing;
    }
    auto received = sha256(*header);
    if (!received) {
        return Verdict::mismatch;
    }
    // Every token is tried (no early exit), so timing does not tell which one matched.
    bool matched = false;
    for (const auto& token : tokens) {
        auto expected = sha256(token.reveal());
        if (expected && CRYPTO_memcmp(expected->data(), received->data(), kDigestSize) == 0) {
            matched = true;
        }
    }
    return matched ? Verdict::ok : Verdict::mismatch;
}

}  // namespace linkpilot::ingress::gitlab
