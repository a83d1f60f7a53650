#pragma once

// The requests behind each Api call (SPEC 4), in one place: the client sends them and the
// dry-run wrapper logs them, so what a dry run says it would call is what a real run calls.

#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace linkpilot::scalingo {

struct ApiRequest {
    boost::beast::http::verb method;
    std::string target;  // path and query below the API's base URL
    std::string body;    // JSON, or empty
};

[[nodiscard]] ApiRequest manual_deploy_request(std::string_view app, std::string_view branch);
[[nodiscard]] ApiRequest manual_review_app_request(std::string_view app,
                                                   std::uint64_t pull_request);
// The first page; the next ones add "?page=N".
[[nodiscard]] ApiRequest review_apps_request(std::string_view app);
[[nodiscard]] ApiRequest delete_app_request(std::string_view name);
[[nodiscard]] ApiRequest link_request(std::string_view app);
[[nodiscard]] ApiRequest links_request(std::uint32_t page);

}  // namespace linkpilot::scalingo
