#pragma once

// HS256 JSON Web Tokens as the Scalingo auth service hands them out from
// POST /v1/tokens/exchange. The key is random per signer, so a restart (or rotate())
// invalidates every token issued before, like a real expiry would.

#include <chrono>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace linkpilot::simulator {

inline constexpr std::chrono::seconds kJwtLifetime{3600};  // SPEC 4: exp = iat + 1 h

struct JwtClaims {
    std::string subject;
    std::chrono::system_clock::time_point issued_at;
    std::chrono::system_clock::time_point expires_at;
};

enum class JwtError { kMalformed, kBadSignature, kExpired };

const char* to_string(JwtError e);

// base64url without padding (RFC 7515 section 2).
std::string base64url_encode(std::string_view bytes);
Expected<std::string, JwtError> base64url_decode(std::string_view text);
// Standard base64 with padding, for HTTP basic auth.
Expected<std::string, JwtError> base64_decode(std::string_view text);

class JwtSigner {
  public:
    // A random 32-byte key from OpenSSL's CSPRNG.
    JwtSigner();
    // A fixed key, for deterministic unit tests.
    explicit JwtSigner(std::string key);

    [[nodiscard]] std::string issue(const std::string& subject,
                                    std::chrono::system_clock::time_point now) const;
    [[nodiscard]] Expected<JwtClaims, JwtError> verify(
        std::string_view token, std::chrono::system_clock::time_point now) const;
    // Replaces the key: every token issued so far fails verification.
    void rotate();

  private:
    std::string key_;
};

}  // namespace linkpilot::simulator
