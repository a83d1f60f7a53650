#include "simulators/scalingo/api.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <string_view>

#include "common/sha256.hpp"
#include "simulators/scalingo/pagination.hpp"

namespace linkpilot::simulator {

namespace json = boost::json;

std::uint64_t CallLog::start(std::string method, std::string path, std::string app,
                             std::int64_t now_ms) {
    CallRecord r;
    r.seq = next_seq_++;
    r.method = std::move(method);
    r.path = std::move(path);
    r.app = std::move(app);
    r.started_at_ms = now_ms;
    calls_.push_back(std::move(r));
    return calls_.back().seq;
}

void CallLog::finish(std::uint64_t seq, unsigned status, std::int64_t now_ms) {
    // The newest first: a call finishes soon after it starts. (Not std::views::reverse: clang 14
    // cannot compile libstdc++ 12's views, and the fuzz preset builds this with clang.)
    const auto it = std::find_if(calls_.rbegin(), calls_.rend(),
                                 [seq](const CallRecord& c) { return c.seq == seq; });
    if (it != calls_.rend()) {
        it->status = status;
        it->finished_at_ms = now_ms;
    }
}

json::array CallLog::to_json() const {
    json::array out;
    for (const auto& c : calls_) {
        json::object o{{"seq", c.seq},
                       {"method", c.method},
                       {"path", c.path},
                       {"status", c.status},
                       {"started_at_ms", c.started_at_ms},
                       {"finished_at_ms",
                        c.finished_at_ms ? json::value(*c.finished_at_ms) : json::value(nullptr)}};
        if (!c.app.empty()) {
            o["app"] = c.app;
        }
        out.push_back(std::move(o));
    }
    return out;
}

namespace {

using Segments = std::vector<std::string>;

Response json_response(unsigned status, const json::value& v) {
    Response r;
    r.status = status;
    r.body = json::serialize(v);
    return r;
}

Response not_found(std::string_view resource) {
    return json_response(404, json::object{{"resource", resource}, {"error", "not found"}});
}

Response unprocessable(std::string_view field, std::string_view message) {
    return json_response(422, json::object{{"errors", {{field, json::array{message}}}}});
}

Response unauthorized() { return json_error(401, "You are not authorized to do this operation"); }

Response no_content(bool mutated) {
    Response r;
    r.status = 204;
    r.content_type.clear();
    r.mutated = mutated;
    return r;
}

Response mutated(Response r) {
    r.mutated = true;
    return r;
}

std::string now_text(const Deps& d) { return format_time(d.clock.now()); }

// The subject of tokens issued for an API token: derived, so the token itself never appears.
std::string subject_for(std::string_view api_token) {
    // OpenSSL failing to hash is not something the simulator recovers from: no subject suffix.
    return "tk-" + sha256_hex(api_token).value_or("").substr(0, 16);
}

std::optional<std::string> basic_password(std::string_view authorization) {
    constexpr std::string_view kBasic = "Basic ";
    if (authorization.size() <= kBasic.size() ||
        !std::equal(kBasic.begin(), kBasic.end(), authorization.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return std::nullopt;
    }
    auto decoded = base64_decode(authorization.substr(kBasic.size()));
    if (!decoded) {
        return std::nullopt;
    }
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    return decoded->substr(colon + 1);
}

std::optional<std::string_view> bearer(std::string_view authorization) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() <= kBearer.size() ||
        authorization.substr(0, kBearer.size()) != kBearer) {
        return std::nullopt;
    }
    return authorization.substr(kBearer.size());
}

bool authorized(const Request& req, const Deps& d) {
    const auto token = bearer(req.authorization);
    return token && d.jwt.verify(*token, d.clock.now()).has_value();
}

// The JSON object body; an empty body counts as {}.
Expected<json::object, Response> parse_body(const Request& req) {
    if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
        return json::object{};
    }
    boost::system::error_code ec;
    json::value v = json::parse(req.body, ec);
    if (ec) {
        return Unexpected{json_error(400, "invalid JSON body")};
    }
    if (!v.is_object()) {
        return Unexpected{json_error(400, "the body must be a JSON object")};
    }
    return std::move(v.as_object());
}

std::size_t query_number(const boost::urls::url_view& url, std::string_view key,
                         std::size_t fallback) {
    auto it = url.params().find(key);
    if (it == url.params().end() || !(*it).has_value) {
        return fallback;
    }
    const std::string v = (*it).value;
    std::size_t n = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    return ec == std::errc{} && ptr == v.data() + v.size() ? n : fallback;
}

// "12", 12 -> 12; anything else -> nullopt.
std::optional<std::int64_t> pull_request_number(const json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64() && v->as_int64() > 0) {
        return v->as_int64();
    }
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT32_MAX)) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    if (v->is_string()) {
        const auto& s = v->as_string();
        std::int64_t n = 0;
        const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc{} && ptr == s.data() + s.size() && n > 0) {
            return n;
        }
    }
    return std::nullopt;
}

bool valid_app_name(std::string_view name) {
    if (name.empty() || name.size() > 48 || name.front() == '-' || name.back() == '-') {
        return false;
    }
    return std::ranges::all_of(
        name, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

Response exchange(const Request& req, Deps& d) {
    if (req.method != "POST") {
        return json_error(405, "method not allowed");
    }
    const auto password = basic_password(req.authorization);
    if (!password || password->empty()) {
        return unauthorized();
    }
    if (d.api_token) {
        const auto& want = *d.api_token;
        if (want.size() != password->size() ||
            CRYPTO_memcmp(want.data(), password->data(), want.size()) != 0) {
            return unauthorized();
        }
    }
    if (auto body = parse_body(req); !body) {
        return body.error();
    }
    return json_response(
        200, json::object{{"token", d.jwt.issue(subject_for(*password), d.clock.now())}});
}

Response create_app(const Request& req, Deps& d) {
    auto body = parse_body(req);
    if (!body) {
        return body.error();
    }
    const auto* app = body->if_contains("app");
    const json::value* name =
        app != nullptr && app->is_object() ? app->as_object().if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string() || name->as_string().empty()) {
        return unprocessable("name", "can't be blank");
    }
    const std::string n(name->as_string());
    if (!valid_app_name(n)) {
        return unprocessable("name",
                             "should only contain lowercase letters, digits and dashes (max 48)");
    }
    if (d.state.apps.if_contains(n) != nullptr) {
        return unprocessable("name", "has already been taken");
    }
    json::object created = make_app(d.state, n, now_text(d));
    d.state.apps[n] = created;
    return mutated(json_response(201, json::object{{"app", std::move(created)}}));
}

Response list_links(const boost::urls::url_view& url, Deps& d) {
    const auto page = paginate(d.state.links.size(), query_number(url, "page", 1),
                               query_number(url, "per_page", kDefaultPerPage));
    json::array links;
    std::size_t i = 0;
    for (const auto& [app, link] : d.state.links) {
        if (i >= page.begin && i < page.end) {
            links.push_back(link);
        }
        ++i;
    }
    auto opt = [](const std::optional<std::size_t>& v) {
        return v ? json::value(*v) : json::value(nullptr);
    };
    return json_response(200, json::object{{"scm_repo_links", std::move(links)},
                                           {"meta",
                                            {{"pagination",
                                              {{"current_page", page.current_page},
                                               {"prev_page", opt(page.prev_page)},
                                               {"next_page", opt(page.next_page)},
                                               {"total_pages", page.total_pages},
                                               {"total_count", page.total_count}}}}}});
}

Response app_routes(const Request& req, const boost::urls::url_view& url, const Segments& seg,
                    Deps& d) {
    const std::string& name = seg[2];
    auto* app_value = d.state.apps.if_contains(name);
    if (app_value == nullptr) {
        return not_found("app");
    }
    const json::object app = app_value->as_object();
    const std::string& m = req.method;
    if (seg.size() == 3) {
        if (m == "GET") {
            return json_response(200, json::object{{"app", app}});
        }
        if (m == "DELETE") {
            auto it = url.params().find("current_name");
            if (it == url.params().end() || (*it).value != name) {
                return unprocessable("current_name", "should match the application name");
            }
            delete_app(d.state, name);
            return no_content(true);
        }
        return json_error(405, "method not allowed");
    }
    if (seg[3] != "scm_repo_link") {
        return json_error(404, "not found");
    }
    auto* link_value = d.state.links.if_contains(name);
    if (seg.size() == 4) {
        if (m == "POST") {
            auto body = parse_body(req);
            if (!body) {
                return body.error();
            }
            if (link_value != nullptr) {
                return unprocessable("app", "is already linked to a repository");
            }
            const auto* params = body->if_contains("scm_repo_link");
            if (params == nullptr || !params->is_object()) {
                return unprocessable("scm_repo_link", "can't be blank");
            }
            auto link = make_link(d.state, app, params->as_object(), now_text(d));
            if (!link) {
                return unprocessable(link.error().field, link.error().message);
            }
            d.state.links[name] = *link;
            return mutated(json_response(201, json::object{{"scm_repo_link", *link}}));
        }
        if (link_value == nullptr) {
            return m == "GET" || m == "PATCH" || m == "PUT" || m == "DELETE"
                       ? not_found("scm_repo_link")
                       : json_error(405, "method not allowed");
        }
        if (m == "GET") {
            return json_response(200, json::object{{"scm_repo_link", *link_value}});
        }
        if (m == "PATCH" || m == "PUT") {
            auto body = parse_body(req);
            if (!body) {
                return body.error();
            }
            const auto* params = body->if_contains("scm_repo_link");
            if (params == nullptr || !params->is_object()) {
                return unprocessable("scm_repo_link", "can't be blank");
            }
            auto r = update_link(link_value->as_object(), params->as_object(), now_text(d));
            if (!r) {
                return unprocessable(r.error().field, r.error().message);
            }
            return mutated(json_response(200, json::object{{"scm_repo_link", *link_value}}));
        }
        if (m == "DELETE") {
            d.state.links.erase(name);
            return no_content(true);
        }
        return json_error(405, "method not allowed");
    }
    if (seg.size() != 5) {
        return json_error(404, "not found");
    }
    const std::string& action = seg[4];
    const bool post = action == "manual_deploy" || action == "manual_review_app";
    const bool get = action == "review_apps" || action == "pulls" || action == "deployments";
    if (!post && !get) {
        return json_error(404, "not found");
    }
    if ((post && m != "POST") || (get && m != "GET")) {
        return json_error(405, "method not allowed");
    }
    if (link_value == nullptr) {
        return not_found("scm_repo_link");
    }
    if (action == "manual_deploy") {
        auto body = parse_body(req);
        if (!body) {
            return body.error();
        }
        const auto* branch = body->if_contains("branch");
        if (branch == nullptr || !branch->is_string() || branch->as_string().empty()) {
            return unprocessable("branch", "can't be blank");
        }
        const std::string now = now_text(d);
        json::object dep = make_deployment(d.state, app, std::string(branch->as_string()), now);
        auto& stored_app = d.state.apps[name].as_object();
        stored_app["last_deployed_at"] = now;
        stored_app["last_deployment_id"] = dep.at("id");
        auto& list = d.state.deployments[name];
        if (!list.is_array()) {
            list = json::array{};
        }
        list.as_array().push_back(dep);
        return mutated(json_response(200, json::object{{"deployment", std::move(dep)}}));
    }
    if (action == "manual_review_app") {
        auto body = parse_body(req);
        if (!body) {
            return body.error();
        }
        const auto number = pull_request_number(body->if_contains("pull_request_id"));
        if (!number) {
            return unprocessable("pull_request_id", "must be a pull request number");
        }
        json::object record = deploy_review_app(d.state, name, *number, now_text(d));
        return mutated(json_response(200, json::object{{"review_app", std::move(record)}}));
    }
    if (action == "review_apps") {
        json::array out;
        // Listed by parent name, or by the link they were deployed from (Scalingo keeps review
        // apps under the repo link; a seeded `parent_app_name` can then disagree, for tests of
        // callers that must not trust the listing blindly).
        const auto& link_id = link_value->as_object().at("id");
        for (const auto& [child, record] : d.state.review_apps) {
            const auto& r = record.as_object();
            const auto* parent = r.if_contains("parent_app_name");
            const auto* via = r.if_contains("repo_link_id");
            if ((parent != nullptr && parent->is_string() && parent->as_string() == name) ||
                (via != nullptr && *via == link_id)) {
                out.push_back(record);
            }
        }
        return json_response(200, json::object{{"review_apps", std::move(out)}});
    }
    if (action == "pulls") {
        const auto* pulls = d.state.pulls.if_contains(name);
        return json_response(
            200, json::object{{"pulls", pulls != nullptr ? *pulls : json::value(json::array{})}});
    }
    const auto* deps = d.state.deployments.if_contains(name);
    return json_response(
        200, json::object{{"deployments", deps != nullptr ? *deps : json::value(json::array{})}});
}

Response control(const Request& req, const Segments& seg, Deps& d) {
    const std::string what = seg.size() == 2 ? seg[1] : std::string{};
    const std::string& m = req.method;
    if (what == "faults" && m == "POST") {
        auto body = parse_body(req);
        if (!body) {
            return body.error();
        }
        auto fault = parse_fault(*body);
        if (!fault) {
            return unprocessable("fault", fault.error());
        }
        d.faults.add(std::move(*fault));
        return json_response(201, json::object{{"queued", d.faults.size()}});
    }
    if (what == "faults" && m == "DELETE") {
        d.faults.clear();
        return no_content(false);
    }
    if (what == "calls" && m == "GET") {
        return json_response(200, d.calls.to_json());
    }
    if (what == "calls" && m == "DELETE") {
        d.calls.clear();
        return no_content(false);
    }
    if (what == "expire-tokens" && m == "POST") {
        d.jwt.rotate();
        return no_content(false);
    }
    if (what == "state" && m == "GET") {
        return json_response(200, to_json(d.state));
    }
    return json_error(404, "unknown simulator control");
}

}  // namespace

Response json_error(unsigned status, std::string_view message) {
    return json_response(status, json::object{{"error", message}});
}

Response too_many_requests() {
    Response r;
    r.status = 429;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "Too Many Requests\n";
    return r;
}

std::string path_of(std::string_view target) {
    return std::string(target.substr(0, target.find('?')));
}

bool is_control_path(std::string_view path) { return path.substr(0, 6) == "/_sim/"; }

std::string app_of(std::string_view path) {
    constexpr std::string_view kPrefix = "/v1/apps/";
    if (path.substr(0, kPrefix.size()) != kPrefix) {
        return {};
    }
    path.remove_prefix(kPrefix.size());
    return std::string(path.substr(0, path.find('/')));
}

std::string rate_key(const Request& req, const Deps& deps) {
    if (const auto token = bearer(req.authorization)) {
        if (auto claims = deps.jwt.verify(*token, deps.clock.now())) {
            return claims->subject;
        }
    }
    if (const auto password = basic_password(req.authorization)) {
        return subject_for(*password);
    }
    return "anonymous";
}

Response handle(const Request& req, Deps& d) {
    auto url = boost::urls::parse_origin_form(req.target);
    if (!url) {
        return json_error(400, "invalid request target");
    }
    Segments seg;
    for (auto s : url->segments()) {
        seg.push_back(s);
    }
    if (!seg.empty() && seg.back().empty()) {
        seg.pop_back();  // tolerate a trailing slash
    }
    if (!seg.empty() && seg[0] == "_sim") {
        return control(req, seg, d);
    }
    if (seg.size() < 2 || seg[0] != "v1") {
        return json_error(404, "not found");
    }
    if (seg.size() == 3 && seg[1] == "tokens" && seg[2] == "exchange") {
        return exchange(req, d);
    }
    if (!authorized(req, d)) {
        return unauthorized();
    }
    if (seg[1] == "apps" && seg.size() == 2) {
        if (req.method == "POST") {
            return create_app(req, d);
        }
        if (req.method == "GET") {
            json::array apps;
            for (const auto& [name, app] : d.state.apps) {
                apps.push_back(app);
            }
            return json_response(200, json::object{{"apps", std::move(apps)}});
        }
        return json_error(405, "method not allowed");
    }
    if (seg[1] == "apps") {
        return app_routes(req, *url, seg, d);
    }
    if (seg[1] == "scm_repo_links" && seg.size() == 2) {
        if (req.method != "GET") {
            return json_error(405, "method not allowed");
        }
        return list_links(*url, d);
    }
    return json_error(404, "not found");
}

}  // namespace linkpilot::simulator
