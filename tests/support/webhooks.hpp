#pragma once

// Sending webhooks the way GitHub and GitLab do, for tests that drive a real `linkpilot serve`.

#include <string>
#include <string_view>

#include "tests/support/http_client.hpp"

namespace linkpilot::testing {

// "sha256=<hex HMAC-SHA256 of body>", GitHub's X-Hub-Signature-256.
std::string github_signature(std::string_view secret, std::string_view body);

// POST /webhooks/github with X-GitHub-Event, X-GitHub-Delivery and a valid signature.
HttpResult send_github(unsigned short port, const std::string& event, const std::string& body,
                       const std::string& delivery, std::string_view secret);

// POST /webhooks/gitlab with X-Gitlab-Event, X-Gitlab-Event-UUID and X-Gitlab-Token.
HttpResult send_gitlab(unsigned short port, const std::string& event, const std::string& body,
                       const std::string& delivery, std::string_view token);

}  // namespace linkpilot::testing
