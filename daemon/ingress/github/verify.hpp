#pragma once

// GitHub webhook signature check (X-Hub-Signature-256). Cheap enough to run before parsing.

#include <optional>
#include <string_view>
#include <vector>

#include "config/secret.hpp"

namespace linkpilot::ingress::github {

enum class Verdict { ok, missing, malformed, mismatch };

std::string_view to_string(Verdict v);

// `header` is X-Hub-Signature-256, "sha256=<64 hex digits>": the HMAC-SHA256 of the raw body
// keyed with one of `secrets` (several allowed for rotation). Compared in constant time.
// Fails closed: with no secret configured nothing verifies (`missing` or `mismatch`); an empty
// configured secret still counts as a secret. (The handler answers 404 before asking when the
// provider has no secret: SPEC 3.)
Verdict verify_signature(std::string_view raw_body, std::optional<std::string_view> header,
                         const std::vector<config::Secret>& secrets);

}  // namespace linkpilot::ingress::github
