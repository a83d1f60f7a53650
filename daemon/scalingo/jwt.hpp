#pragma once

// Reads the `exp` claim of the bearer token Scalingo's exchange returns. The signature is not
// checked: the token is only ever sent back to Scalingo, and `exp` only schedules a refresh.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace linkpilot::scalingo {

// base64url without padding (RFC 7515) -> bytes; nullopt on invalid input.
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view in);

// Standard base64 with padding (for the Basic authorization header).
[[nodiscard]] std::string base64_encode(std::string_view in);

// `exp` of a JWT as a time point; nullopt when the token is malformed or has no numeric exp.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> jwt_expiry(
    std::string_view token);

}  // namespace linkpilot::scalingo
