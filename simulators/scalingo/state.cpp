#include "simulators/scalingo/state.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <ctime>
#include <fstream>
#include <sstream>

namespace linkpilot::simulator {

namespace json = boost::json;

namespace {

constexpr const char* kRegion = "osc-fr1";

json::object simulated_user() {
    return {{"id", "us-00000000-0000-0000-0000-000000000001"},
            {"username", "linkpilot-sim"},
            {"email", "sim@linkpilot.invalid"}};
}

json::array& array_at(json::object& o, const std::string& key) {
    auto& v = o[key];
    if (!v.is_array()) {
        v = json::array{};
    }
    return v.as_array();
}

Expected<void, FieldError> apply_link_flags(json::object& link, const json::object& params) {
    for (const char* key :
         {"auto_deploy_enabled", "deploy_review_apps_enabled", "delete_on_close_enabled",
          "delete_stale_enabled", "automatic_creation_from_forks_allowed"}) {
        if (const auto* v = params.if_contains(key); v != nullptr && !v->is_null()) {
            if (!v->is_bool()) {
                return Unexpected{FieldError{key, "must be a boolean"}};
            }
            link[key] = v->as_bool();
        }
    }
    for (const char* key : {"hours_before_delete_on_close", "hours_before_delete_stale"}) {
        if (const auto* v = params.if_contains(key); v != nullptr && !v->is_null()) {
            if (!(v->is_int64() && v->as_int64() >= 0) && !v->is_uint64()) {
                return Unexpected{FieldError{key, "must be a positive integer"}};
            }
            link[key] = *v;
        }
    }
    if (const auto* v = params.if_contains("branch"); v != nullptr && !v->is_null()) {
        if (!v->is_string() || v->as_string().empty()) {
            return Unexpected{FieldError{"branch", "can't be blank"}};
        }
        link["branch"] = v->as_string();
    }
    return {};
}

std::string get_string(const json::object& o, const char* key, const std::string& fallback = {}) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : fallback;
}

}  // namespace

std::string format_time(std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    const auto secs = static_cast<std::time_t>(ms.count() / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       ms.count() % 1000);
}

std::string new_id(State& s) { return fmt::format("5e1d0000{:016x}", s.next_id++); }

json::object make_app(State& s, const std::string& name, const std::string& now,
                      const std::string& parent) {
    const std::string id = new_id(s);
    return {{"id", id},
            {"name", name},
            {"region", kRegion},
            {"created_at", now},
            {"updated_at", now},
            {"parent_app_name", parent.empty() ? json::value(nullptr) : json::value(parent)},
            {"git_url", "git@ssh." + std::string(kRegion) + ".scalingo.com:" + name + ".git"},
            {"url", "https://" + name + "." + kRegion + ".scalingo.io"},
            {"owner", simulated_user()},
            {"links",
             {{"deployments_stream",
               "wss://deployments." + std::string(kRegion) + ".scalingo.com/apps/" + id}}},
            {"limits", json::object{}},
            {"flags", json::object{}},
            {"force_https", false},
            {"sticky_session", false},
            {"router_logs", false},
            {"last_deployed_at", nullptr},
            {"last_deployed_by", nullptr},
            {"last_deployment_id", ""},
            {"status", "new"}};
}

Expected<json::object, FieldError> make_link(State& s, const json::object& app,
                                             const json::object& params, const std::string& now) {
    const auto* source = params.if_contains("source");
    if (source == nullptr || !source->is_string() || source->as_string().empty()) {
        return Unexpected{FieldError{"source", "can't be blank"}};
    }
    const std::string url(source->as_string());
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->host().empty()) {
        return Unexpected{FieldError{"source", "is invalid"}};
    }
    std::string path(parsed->path());
    while (!path.empty() && path.back() == '/') {
        path.pop_back();
    }
    if (path.size() > 4 && path.substr(path.size() - 4) == ".git") {
        path.resize(path.size() - 4);
    }
    const auto slash = path.rfind('/');
    if (path.size() < 2 || slash == std::string::npos || slash == 0 || slash + 1 >= path.size()) {
        return Unexpected{FieldError{"source", "must point to a repository (owner/name)"}};
    }
    const std::string host(parsed->host());
    json::object link{{"id", new_id(s)},
                      {"app_id", app.at("id")},
                      {"scm_integration_uuid", get_string(params, "auth_integration_uuid",
                                                          "00000000-0000-0000-0000-00000000000a")},
                      {"linker", simulated_user()},
                      {"url", url},
                      {"owner", path.substr(1, slash - 1)},
                      {"repo", path.substr(slash + 1)},
                      {"branch", "main"},
                      {"scm_type", host.find("gitlab") != std::string::npos ? "gitlab" : "github"},
                      {"created_at", now},
                      {"updated_at", now},
                      {"auto_deploy_enabled", false},
                      {"deploy_review_apps_enabled", false},
                      {"delete_on_close_enabled", false},
                      {"hours_before_delete_on_close", 0},
                      {"delete_stale_enabled", false},
                      {"hours_before_delete_stale", 0},
                      {"automatic_creation_from_forks_allowed", false},
                      {"last_auto_deploy_at", kZeroDate}};
    if (auto r = apply_link_flags(link, params); !r) {
        return Unexpected{r.error()};
    }
    return link;
}

Expected<void, FieldError> update_link(json::object& link, const json::object& params,
                                       const std::string& now) {
    json::object updated = link;
    if (auto r = apply_link_flags(updated, params); !r) {
        return Unexpected{r.error()};
    }
    updated["updated_at"] = now;
    link = std::move(updated);
    return {};
}

json::object make_deployment(State& s, const json::object& app, const std::string& git_ref,
                             const std::string& now) {
    const std::string id = new_id(s);
    const std::string app_name(app.at("name").as_string());
    return {{"id", id},
            {"app_id", app.at("id")},
            {"created_at", now},
            {"status", "queued"},
            {"git_ref", git_ref},
            {"pusher", simulated_user()},
            {"links",
             {{"output", "https://api." + std::string(kRegion) + ".scalingo.com/v1/apps/" +
                             app_name + "/deployments/" + id + "/output"}}},
            {"image_size", 0},
            {"stack_base_image", "scalingo-22"}};
}

json::object find_or_make_pull(const State& s, const std::string& app, const json::object& link,
                               std::int64_t number, const std::string& now) {
    if (const auto* pulls = s.pulls.if_contains(app); pulls != nullptr && pulls->is_array()) {
        for (const auto& p : pulls->as_array()) {
            const auto* n = p.as_object().if_contains("number");
            if (n != nullptr && n->is_int64() && n->as_int64() == number) {
                return p.as_object();
            }
        }
    }
    const std::string repo_url = get_string(link, "url");
    const bool gitlab = get_string(link, "scm_type") == "gitlab";
    const std::string n = std::to_string(number);
    return {{"id", n},
            {"number", number},
            {"title", "Pull request #" + n},
            {"html_url", repo_url + (gitlab ? "/-/merge_requests/" : "/pull/") + n},
            {"url", repo_url + (gitlab ? "/-/merge_requests/" : "/pull/") + n},
            {"branch_name", "feature-" + n},
            {"ref", "feature-" + n},
            {"base_ref", get_string(link, "branch", "main")},
            {"created_at", now},
            {"closed_at", kZeroDate}};
}

json::object deploy_review_app(State& s, const std::string& parent, std::int64_t number,
                               const std::string& now) {
    const std::string name = parent + "-pr" + std::to_string(number);
    // Copied: inserting the child below may move the objects of s.apps.
    const json::value parent_id = s.apps.at(parent).at("id");
    const json::object link = s.links.at(parent).as_object();
    if (s.apps.if_contains(name) == nullptr) {
        s.apps[name] = make_app(s, name, now, parent);
    }
    json::object& child = s.apps[name].as_object();
    json::object pull = find_or_make_pull(s, parent, link, number, now);
    json::object deployment = make_deployment(s, child, get_string(pull, "branch_name"), now);
    child["last_deployed_at"] = now;
    child["last_deployment_id"] = deployment.at("id");
    child["status"] = "running";
    array_at(s.deployments, name).push_back(deployment);

    auto* existing = s.review_apps.if_contains(name);
    if (existing != nullptr && existing->is_object()) {
        auto& record = existing->as_object();
        record["pull_request"] = std::move(pull);
        record["last_deployment"] = std::move(deployment);
        return record;
    }
    json::object record{{"id", new_id(s)},
                        {"repo_link_id", link.at("id")},
                        {"app_id", child.at("id")},
                        {"app_name", name},
                        {"parent_app_id", parent_id},
                        {"parent_app_name", parent},
                        {"created_at", now},
                        {"stale_deletion_date", kZeroDate},
                        {"on_close_deletion_date", kZeroDate},
                        {"pull_request", std::move(pull)},
                        {"last_deployment", std::move(deployment)}};
    s.review_apps[name] = record;
    return record;
}

void delete_app(State& s, const std::string& name) {
    s.apps.erase(name);
    s.links.erase(name);
    s.deployments.erase(name);
    s.review_apps.erase(name);
    s.pulls.erase(name);
}

json::value to_json(const State& s) {
    return json::object{{"version", 1},
                        {"next_id", s.next_id},
                        {"apps", s.apps},
                        {"links", s.links},
                        {"review_apps", s.review_apps},
                        {"pulls", s.pulls},
                        {"deployments", s.deployments}};
}

Expected<State, std::string> state_from_json(const json::value& v) {
    if (!v.is_object()) {
        return Unexpected{std::string("state is not a JSON object")};
    }
    const auto& o = v.as_object();
    State s;
    for (auto [key, target] : {std::pair{"apps", &s.apps},
                               {"links", &s.links},
                               {"review_apps", &s.review_apps},
                               {"pulls", &s.pulls},
                               {"deployments", &s.deployments}}) {
        const auto* m = o.if_contains(key);
        if (m == nullptr) {
            continue;
        }
        if (!m->is_object()) {
            return Unexpected{std::string("state: \"") + key + "\" must be an object"};
        }
        for (const auto& [name, entry] : m->as_object()) {
            // Pulls and deployments are arrays; everything else one object per name.
            const bool list = target == &s.pulls || target == &s.deployments;
            if (list ? !entry.is_array() : !entry.is_object()) {
                return Unexpected{std::string("state: bad entry \"") + std::string(name) +
                                  "\" in \"" + key + "\""};
            }
        }
        *target = m->as_object();
    }
    if (const auto* n = o.if_contains("next_id"); n != nullptr) {
        if (!n->is_uint64() && !(n->is_int64() && n->as_int64() > 0)) {
            return Unexpected{std::string("state: next_id must be a positive integer")};
        }
        s.next_id = n->is_uint64() ? n->as_uint64() : static_cast<std::uint64_t>(n->as_int64());
    }
    for (const auto& [name, app] : s.apps) {
        if (app.as_object().if_contains("id") == nullptr) {
            return Unexpected{"state: app \"" + std::string(name) + "\" has no id"};
        }
    }
    return s;
}

namespace {

Expected<json::value, std::string> read_json_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Unexpected{path.string() + ": cannot open"};
    }
    std::stringstream buf;
    buf << in.rdbuf();
    boost::system::error_code ec;
    json::value v = json::parse(buf.str(), ec);
    if (ec) {
        return Unexpected{path.string() + ": invalid JSON: " + ec.message()};
    }
    return v;
}

}  // namespace

Expected<State, std::string> load_state_file(const std::filesystem::path& path) {
    auto v = read_json_file(path);
    if (!v) {
        return Unexpected{v.error()};
    }
    auto s = state_from_json(*v);
    if (!s) {
        return Unexpected{path.string() + ": " + s.error()};
    }
    return s;
}

Expected<void, std::string> save_state_file(const State& s, const std::filesystem::path& path) {
    const std::string text = json::serialize(to_json(s));
    const std::filesystem::path tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return Unexpected{tmp.string() + ": cannot create"};
    }
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n <= 0) {
            ::close(fd);
            return Unexpected{tmp.string() + ": write failed"};
        }
        written += static_cast<std::size_t>(n);
    }
    // fsync before rename: a crash leaves the old file or the new one, never a torn one.
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        return Unexpected{tmp.string() + ": fsync failed"};
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        return Unexpected{path.string() + ": rename failed: " + ec.message()};
    }
    return {};
}

Expected<void, std::string> apply_seed(State& s, const json::value& seed, const std::string& now) {
    if (!seed.is_object()) {
        return Unexpected{std::string("seed: not a JSON object")};
    }
    const auto& o = seed.as_object();
    auto list = [&](const char* key) -> const json::array* {
        const auto* v = o.if_contains(key);
        return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
    };
    for (const char* key : {"apps", "links", "pulls", "review_apps"}) {
        if (o.if_contains(key) != nullptr && list(key) == nullptr) {
            return Unexpected{std::string("seed: \"") + key + "\" must be an array"};
        }
    }
    auto where = [](const char* key, std::size_t i) {
        return std::string("seed: ") + key + "[" + std::to_string(i) + "]: ";
    };
    if (const auto* apps = list("apps")) {
        for (std::size_t i = 0; i < apps->size(); ++i) {
            const auto& e = (*apps)[i];
            const json::object* extra = e.is_object() ? &e.as_object() : nullptr;
            const std::string name = e.is_string() ? std::string(e.as_string())
                                     : extra       ? get_string(*extra, "name")
                                                   : std::string{};
            if (name.empty()) {
                return Unexpected{where("apps", i) + "needs a name"};
            }
            json::object app =
                make_app(s, name, get_string(extra ? *extra : json::object{}, "created_at", now));
            if (extra != nullptr) {
                for (const auto& [k, v] : *extra) {
                    app[k] = v;  // seeded fields win (id, status, dates, ...)
                }
            }
            s.apps[name] = std::move(app);
        }
    }
    if (const auto* links = list("links")) {
        for (std::size_t i = 0; i < links->size(); ++i) {
            const auto& e = (*links)[i];
            if (!e.is_object()) {
                return Unexpected{where("links", i) + "must be an object"};
            }
            const std::string app = get_string(e.as_object(), "app");
            const auto* a = s.apps.if_contains(app);
            if (a == nullptr) {
                return Unexpected{where("links", i) + "unknown app \"" + app + "\""};
            }
            auto link = make_link(s, a->as_object(), e.as_object(),
                                  get_string(e.as_object(), "created_at", now));
            if (!link) {
                return Unexpected{where("links", i) + link.error().field + " " +
                                  link.error().message};
            }
            s.links[app] = std::move(*link);
        }
    }
    if (const auto* pulls = list("pulls")) {
        for (std::size_t i = 0; i < pulls->size(); ++i) {
            const auto& e = (*pulls)[i];
            if (!e.is_object()) {
                return Unexpected{where("pulls", i) + "must be an object"};
            }
            const std::string app = get_string(e.as_object(), "app");
            const auto* n = e.as_object().if_contains("number");
            if (s.links.if_contains(app) == nullptr) {
                return Unexpected{where("pulls", i) + "app \"" + app + "\" has no link"};
            }
            if (n == nullptr || !n->is_int64() || n->as_int64() <= 0) {
                return Unexpected{where("pulls", i) + "needs a positive number"};
            }
            // Defaults synthesised from the link, then the seeded fields on top.
            json::object pull =
                find_or_make_pull(State{}, app, s.links.at(app).as_object(), n->as_int64(), now);
            for (const auto& [k, v] : e.as_object()) {
                if (k != "app") {
                    pull[k] = v;
                }
            }
            array_at(s.pulls, app).push_back(std::move(pull));
        }
    }
    if (const auto* ras = list("review_apps")) {
        for (std::size_t i = 0; i < ras->size(); ++i) {
            const auto& e = (*ras)[i];
            if (!e.is_object()) {
                return Unexpected{where("review_apps", i) + "must be an object"};
            }
            const auto& r = e.as_object();
            const std::string parent = get_string(r, "parent");
            const auto* n = r.if_contains("number");
            if (s.apps.if_contains(parent) == nullptr || s.links.if_contains(parent) == nullptr) {
                return Unexpected{where("review_apps", i) + "parent \"" + parent +
                                  "\" must be a seeded app with a link"};
            }
            if (n == nullptr || !n->is_int64() || n->as_int64() <= 0) {
                return Unexpected{where("review_apps", i) + "needs a positive number"};
            }
            const std::string created = get_string(r, "created_at", now);
            json::object record = deploy_review_app(s, parent, n->as_int64(), created);
            const std::string name(record.at("app_name").as_string());
            auto& stored = s.review_apps[name].as_object();
            stored["created_at"] = created;
            s.apps[name].as_object()["created_at"] = created;
            auto& dep = stored["last_deployment"].as_object();
            dep["created_at"] = get_string(r, "last_deployment_at", created);
            dep["status"] = "success";
            s.deployments[name].as_array().back() = dep;
            if (const auto* pr = r.if_contains("pull_request"); pr != nullptr && pr->is_object()) {
                auto& pull = stored["pull_request"].as_object();
                for (const auto& [k, v] : pr->as_object()) {
                    pull[k] = v;
                }
            }
            for (const char* key :
                 {"stale_deletion_date", "on_close_deletion_date", "parent_app_name"}) {
                if (const auto* d = r.if_contains(key); d != nullptr && d->is_string()) {
                    stored[key] = *d;
                }
            }
        }
    }
    return {};
}

}  // namespace linkpilot::simulator
