#include "daemon/scalingo/requests.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace linkpilot::scalingo {
namespace {

namespace http = boost::beast::http;

std::string segment(std::string_view name) {
    return boost::urls::encode(name, boost::urls::unreserved_chars);
}

std::string app_path(std::string_view app) { return "/v1/apps/" + segment(app); }

}  // namespace

ApiRequest manual_deploy_request(std::string_view app, std::string_view branch) {
    return {http::verb::post, app_path(app) + "/scm_repo_link/manual_deploy",
            boost::json::serialize(boost::json::object{{"branch", branch}})};
}

ApiRequest manual_review_app_request(std::string_view app, std::uint64_t pull_request) {
    return {http::verb::post, app_path(app) + "/scm_repo_link/manual_review_app",
            boost::json::serialize(boost::json::object{{"pull_request_id", pull_request}})};
}

ApiRequest review_apps_request(std::string_view app) {
    return {http::verb::get, app_path(app) + "/scm_repo_link/review_apps", {}};
}

ApiRequest delete_app_request(std::string_view name) {
    return {http::verb::delete_, app_path(name) + "?current_name=" + segment(name), {}};
}

ApiRequest link_request(std::string_view app) {
    return {http::verb::get, app_path(app) + "/scm_repo_link", {}};
}

ApiRequest links_request(std::uint32_t page) {
    return {http::verb::get,
            "/v1/scm_repo_links?page=" + std::to_string(std::max<std::uint32_t>(page, 1)),
            {}};
}

}  // namespace linkpilot::scalingo
