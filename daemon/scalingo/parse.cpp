#include "daemon/scalingo/parse.hpp"

#include <date/date.h>

#include <boost/json.hpp>
#include <sstream>

namespace linkpilot::scalingo {
namespace {

namespace json = boost::json;

Expected<json::object, std::string> parse_object(std::string_view body) {
    boost::system::error_code ec;
    auto value = json::parse(json::string_view(body.data(), body.size()), ec);
    if (ec) {
        return Unexpected{std::string("answer is not JSON: ") + ec.message()};
    }
    if (!value.is_object()) {
        return Unexpected{std::string("answer is not a JSON object")};
    }
    return std::move(value.get_object());
}

std::string str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) {
        return {};
    }
    return std::string(v->get_string());
}

bool boolean(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_bool() && v->get_bool();
}

std::optional<std::uint64_t> number(const json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_uint64()) {
        return v->get_uint64();
    }
    if (v->is_int64() && v->get_int64() >= 0) {
        return static_cast<std::uint64_t>(v->get_int64());
    }
    if (v->is_string()) {
        // Some Scalingo ids travel as strings ("pull_request_id": "42").
        const auto& s = v->get_string();
        std::uint64_t n = 0;
        std::istringstream in{std::string(s)};
        if (in >> n && in.eof()) {
            return n;
        }
    }
    return std::nullopt;
}

std::uint32_t u32(const json::object& o, std::string_view key) {
    return static_cast<std::uint32_t>(number(o.if_contains(key)).value_or(0));
}

std::optional<TimePoint> time(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return parse_time(v->get_string());
}

const json::object* child(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

Deployment to_deployment(const json::object& o) {
    Deployment d;
    d.id = str(o, "id");
    d.app_id = str(o, "app_id");
    d.status = str(o, "status");
    d.git_ref = str(o, "git_ref");
    d.created_at = time(o, "created_at");
    return d;
}

PullRequest to_pull_request(const json::object& o) {
    PullRequest pr;
    pr.number = number(o.if_contains("number")).value_or(0);
    pr.title = str(o, "title");
    pr.branch_name = str(o, "branch_name");
    pr.html_url = str(o, "html_url");
    pr.ref = str(o, "ref");
    pr.base_ref = str(o, "base_ref");
    pr.created_at = time(o, "created_at");
    pr.closed_at = time(o, "closed_at");
    return pr;
}

Expected<ReviewApp, std::string> to_review_app(const json::object& o) {
    ReviewApp ra;
    ra.id = str(o, "id");
    ra.app_id = str(o, "app_id");
    ra.app_name = str(o, "app_name");
    ra.parent_app_id = str(o, "parent_app_id");
    ra.parent_app_name = str(o, "parent_app_name");
    if (ra.app_name.empty()) {
        return Unexpected{std::string("review app without app_name")};
    }
    ra.created_at = time(o, "created_at");
    ra.stale_deletion_date = time(o, "stale_deletion_date");
    ra.on_close_deletion_date = time(o, "on_close_deletion_date");
    if (const auto* pr = child(o, "pull_request"); pr != nullptr) {
        ra.pull_request = to_pull_request(*pr);
    }
    if (const auto* d = child(o, "last_deployment"); d != nullptr) {
        ra.last_deployment = to_deployment(*d);
    }
    return ra;
}

ScmRepoLink to_link(const json::object& o) {
    ScmRepoLink l;
    l.id = str(o, "id");
    l.app_id = str(o, "app_id");
    l.scm_type = str(o, "scm_type");
    l.owner = str(o, "owner");
    l.repo = str(o, "repo");
    l.branch = str(o, "branch");
    l.auto_deploy_enabled = boolean(o, "auto_deploy_enabled");
    l.deploy_review_apps_enabled = boolean(o, "deploy_review_apps_enabled");
    l.delete_on_close_enabled = boolean(o, "delete_on_close_enabled");
    l.delete_stale_enabled = boolean(o, "delete_stale_enabled");
    l.hours_before_delete_on_close = u32(o, "hours_before_delete_on_close");
    l.hours_before_delete_stale = u32(o, "hours_before_delete_stale");
    l.created_at = time(o, "created_at");
    l.updated_at = time(o, "updated_at");
    l.last_auto_deploy_at = time(o, "last_auto_deploy_at");
    return l;
}

// meta.pagination; an answer without it is a single complete page.
Pagination to_pagination(const json::object& answer, std::size_t items) {
    Pagination p;
    p.total_count = static_cast<std::uint32_t>(items);
    const auto* meta = child(answer, "meta");
    const auto* pag = meta != nullptr ? child(*meta, "pagination") : nullptr;
    if (pag == nullptr) {
        return p;
    }
    p.current_page = std::max<std::uint32_t>(u32(*pag, "current_page"), 1);
    p.total_pages = u32(*pag, "total_pages");
    p.total_count = u32(*pag, "total_count");
    if (const auto n = number(pag->if_contains("prev_page")); n && *n > 0) {
        p.prev_page = static_cast<std::uint32_t>(*n);
    }
    if (const auto n = number(pag->if_contains("next_page")); n && *n > p.current_page) {
        p.next_page = static_cast<std::uint32_t>(*n);
    }
    return p;
}

Expected<const json::object*, std::string> required_object(const json::object& o,
                                                           std::string_view key) {
    const auto* c = child(o, key);
    if (c == nullptr) {
        return Unexpected{"answer has no \"" + std::string(key) + "\" object"};
    }
    return c;
}

Expected<const json::array*, std::string> required_array(const json::object& o,
                                                         std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_array()) {
        return Unexpected{"answer has no \"" + std::string(key) + "\" array"};
    }
    return &v->get_array();
}

}  // namespace

std::optional<TimePoint> parse_time(std::string_view text) {
    if (text.size() < 20) {
        return std::nullopt;
    }
    std::istringstream in{std::string(text)};
    date::sys_time<std::chrono::microseconds> tp;
    if (text.back() == 'Z' || text.back() == 'z') {
        in >> date::parse("%FT%TZ", tp);
    } else {
        in >> date::parse("%FT%T%Ez", tp);
    }
    if (in.fail()) {
        return std::nullopt;
    }
    const auto day = date::floor<date::days>(tp);
    if (date::year_month_day(day).year() <= date::year(1)) {
        return std::nullopt;  // Go's zero time: "not set"
    }
    return std::chrono::time_point_cast<TimePoint::duration>(tp);
}

Expected<Deployment, std::string> parse_deployment_answer(std::string_view body) {
    auto answer = parse_object(body);
    if (!answer) {
        return Unexpected{answer.error()};
    }
    auto d = required_object(*answer, "deployment");
    if (!d) {
        return Unexpected{d.error()};
    }
    return to_deployment(**d);
}

Expected<ReviewApp, std::string> parse_review_app_answer(std::string_view body) {
    auto answer = parse_object(body);
    if (!answer) {
        return Unexpected{answer.error()};
    }
    auto ra = required_object(*answer, "review_app");
    if (!ra) {
        return Unexpected{ra.error()};
    }
    return to_review_app(**ra);
}

Expected<Page<ReviewApp>, std::string> parse_review_apps_answer(std::string_view body) {
    auto answer = parse_object(body);
    if (!answer) {
        return Unexpected{answer.error()};
    }
    auto list = required_array(*answer, "review_apps");
    if (!list) {
        return Unexpected{list.error()};
    }
    Page<ReviewApp> page;
    for (const auto& item : **list) {
        if (!item.is_object()) {
            return Unexpected{std::string("review_apps holds a non-object")};
        }
        auto ra = to_review_app(item.get_object());
        if (!ra) {
            return Unexpected{ra.error()};
        }
        page.items.push_back(std::move(*ra));
    }
    page.pagination = to_pagination(*answer, page.items.size());
    return page;
}

Expected<ScmRepoLink, std::string> parse_link_answer(std::string_view body) {
    auto answer = parse_object(body);
    if (!answer) {
        return Unexpected{answer.error()};
    }
    auto l = required_object(*answer, "scm_repo_link");
    if (!l) {
        return Unexpected{l.error()};
    }
    return to_link(**l);
}

Expected<Page<ScmRepoLink>, std::string> parse_links_answer(std::string_view body) {
    auto answer = parse_object(body);
    if (!answer) {
        return Unexpected{answer.error()};
    }
    auto list = required_array(*answer, "scm_repo_links");
    if (!list) {
        return Unexpected{list.error()};
    }
    Page<ScmRepoLink> page;
    for (const auto& item : **list) {
        if (!item.is_object()) {
            return Unexpected{std::string("scm_repo_links holds a non-object")};
        }
        page.items.push_back(to_link(item.get_object()));
    }
    page.pagination = to_pagination(*answer, page.items.size());
    return page;
}

Expected<std::string, std::string> parse_exchange_answer(std::string_view body) {
    auto answer = parse_object(body);
    if (!answer) {
        return Unexpected{answer.error()};
    }
    auto token = str(*answer, "token");
    if (token.empty()) {
        return Unexpected{std::string("token exchange answer has no \"token\"")};
    }
    return token;
}

}  // namespace linkpilot::scalingo
