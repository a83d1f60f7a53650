#include "tests/support/webhooks.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace linkpilot::testing {

std::string github_signature(std::string_view secret, std::string_view body) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), md, &len);
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "sha256=";
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0xF];
    }
    return out;
}

HttpResult send_github(unsigned short port, const std::string& event, const std::string& body,
                       const std::string& delivery, std::string_view secret) {
    return http_request("127.0.0.1", port, "POST", "/webhooks/github", body,
                        {{"Content-Type", "application/json"},
                         {"X-GitHub-Event", event},
                         {"X-GitHub-Delivery", delivery},
                         {"X-Hub-Signature-256", github_signature(secret, body)}});
}

HttpResult send_gitlab(unsigned short port, const std::string& event, const std::string& body,
                       const std::string& delivery, std::string_view token) {
    return http_request("127.0.0.1", port, "POST", "/webhooks/gitlab", body,
                        {{"Content-Type", "application/json"},
                         {"X-Gitlab-Event", event},
                         {"X-Gitlab-Event-UUID", delivery},
                         {"X-Gitlab-Token", std::string(token)}});
}

}  // namespace linkpilot::testing
