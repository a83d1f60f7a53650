#pragma once

// GitLab webhook token check (X-Gitlab-Token). Cheap enough to run before parsing.

#include <optional>
#include <string_view>
#include <vector>

#include "config/secret.hpp"

namespace linkpilot::ingress::gitlab {

// Same meaning as github::Verdict; GitLab tokens are opaque, so `malformed` is never returned.
enum class Verdict { ok, missing, malformed, mismatch };

std::string_view to_string(Verdict v);

// `header` must equal one of `tokens`. Both sides are hashed with SHA-256 and the digests
// compared with CRYPTO_memcmp, so neither the content nor the length of a token leaks through
// timing. Fails closed: with no token configured nothing verifies (`missing` or `mismatch`).
Verdict verify_token(std::optional<std::string_view> header,
                     const std::vector<config::Secret>& tokens);

}  // namespace linkpilot::ingress::gitlab
