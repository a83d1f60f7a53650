#pragma once

// The webhook request handler (SPEC 3) as pure functions: a request and the config in, either
// an immediate answer or a delivery to store durably. The session (server.cpp) does the I/O and
// the store commit; these functions do no I/O, so unit tests call them directly.

#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "daemon/store/store.hpp"

namespace linkpilot::ingress {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

enum class Route { github, gitlab, healthz, readyz, metrics, not_found, method_not_allowed };

// Which endpoint a request is for; a known path with the wrong method is method_not_allowed.
Route route(http::verb method, std::string_view target);

// A verified, parsed delivery and the jobs its rules produced, ready for the store.
struct ToStore {
    store::NewDelivery delivery;
    std::vector<store::NewJob> jobs;
    // false: accepted without a signature or token under providers.<p>.allow_unsigned.
    bool verified = true;
};

using Decision = std::variant<Response, ToStore>;

// Draws an id for a delivery that came without one; nullopt when the random generator failed.
using FallbackId = std::function<std::optional<std::string>()>;

// Handles POST /webhooks/{github,gitlab}: the provider configured at all (404 if not: fail
// closed), content type, event header, signature or token, JSON (an object, at most 64 levels
// deep), normalisation, allowlist and rules. `fallback_id` names the delivery when the forge
// sent no delivery id header (called only then: a random id costs); if it fails the answer is
// 503, never a fixed id that would make every later delivery a duplicate.
Decision decide_webhook(Route which, const Request& req, const config::Config& cfg,
                        std::string_view config_fingerprint,
                        std::chrono::system_clock::time_point now, const FallbackId& fallback_id);

// The delivery id the request claims (X-GitHub-Delivery, Idempotency-Key, X-Gitlab-Event-UUID),
// for the log line of a rejected request: unverified, so cut to 64 printable ASCII characters;
// "-" when absent.
std::string claimed_delivery_id(Route which, const Request& req);

// 202 {"delivery": ID, "status": ..., "jobs": N}
Response accepted(const Request& req, std::string_view delivery, std::string_view status,
                  std::size_t jobs);
// {"error": reason} with `status`.
Response error_response(unsigned version, bool keep_alive, http::status status,
                        std::string_view reason);
Response text_response(const Request& req, http::status status, std::string body,
                       std::string_view content_type);

// Maximum JSON nesting accepted in a payload (SPEC 3).
inline constexpr std::size_t kMaxJsonDepth = 64;

}  // namespace linkpilot::ingress
