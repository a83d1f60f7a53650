#include "daemon/jobs/job_args.hpp"

#include <date/date.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <sstream>

namespace linkpilot::jobs {

namespace json = boost::json;

Expected<JobArgs, std::string> parse_args(std::string_view text) {
    boost::system::error_code ec;
    const json::value v = json::parse(text, ec);
    if (ec) {
        return Unexpected{std::string("arguments are not JSON: ") + ec.message()};
    }
    const auto* obj = v.if_object();
    if (obj == nullptr) {
        return Unexpected{std::string("arguments are not a JSON object")};
    }
    JobArgs args;
    if (const auto* b = obj->if_contains("branch"); b != nullptr && !b->is_null()) {
        const auto* s = b->if_string();
        if (s == nullptr) {
            return Unexpected{std::string("arguments: branch is not a string")};
        }
        args.branch = std::string(*s);
    }
    if (const auto* n = obj->if_contains("pr_number"); n != nullptr && !n->is_null()) {
        if (const auto* i = n->if_int64(); i != nullptr && *i > 0) {
            args.pr_number = static_cast<std::uint64_t>(*i);
        } else if (const auto* u = n->if_uint64(); u != nullptr && *u > 0) {
            args.pr_number = *u;
        } else if (const auto* s = n->if_string(); s != nullptr && !s->empty()) {
            std::uint64_t value = 0;
            const auto [ptr, err] = std::from_chars(s->data(), s->data() + s->size(), value);
            if (err == std::errc{} && ptr == s->data() + s->size() && value > 0) {
                args.pr_number = value;
            }
        }
        if (!args.pr_number) {
            return Unexpected{std::string("arguments: pr_number is not a positive integer")};
        }
    }
    if (const auto* r = obj->if_contains("review_app"); r != nullptr && !r->is_null()) {
        const auto* s = r->if_string();
        if (s == nullptr || s->empty()) {
            return Unexpected{std::string("arguments: review_app is not a name")};
        }
        args.review_app = std::string(*s);
    }
    if (const auto* a = obj->if_contains("activity_at"); a != nullptr && !a->is_null()) {
        const auto* s = a->if_string();
        std::chrono::system_clock::time_point t;
        if (s != nullptr) {
            std::istringstream in{std::string(*s)};
            in >> date::parse("%FT%TZ", t);
            if (!in.fail()) {
                args.activity_at = t;
            }
        }
        if (!args.activity_at) {
            return Unexpected{std::string("arguments: activity_at is not a UTC date")};
        }
    }
    return args;
}

std::string serialize_args(const JobArgs& args) {
    json::object o;
    if (args.branch) {
        o["branch"] = *args.branch;
    }
    if (args.pr_number) {
        o["pr_number"] = *args.pr_number;
    }
    if (args.review_app) {
        o["review_app"] = *args.review_app;
    }
    if (args.activity_at) {
        // Full precision, so the executor compares against exactly what the sweep saw.
        o["activity_at"] = date::format("%FT%TZ", *args.activity_at);
    }
    return json::serialize(o);
}

store::NewJob job_for(const rules::Action& action) {
    const bool deploy = action.kind == rules::ActionKind::deploy;
    JobArgs args;
    if (deploy) {
        args.branch = action.branch;
    } else {
        args.pr_number = static_cast<std::uint64_t>(action.pr_number);
    }
    store::NewJob job;
    job.rule = action.rule;
    job.action = std::string(rules::to_string(action.kind));
    job.app = action.app;
    job.args_json = serialize_args(args);
    if (action.debounce) {
        job.debounce_key = job.action + "|" + action.app + "|" +
                           (deploy ? action.branch : "pr" + std::to_string(action.pr_number));
        job.debounce = action.debounce;
    }
    return job;
}

std::optional<rules::ActionKind> action_from_string(std::string_view action) {
    if (action == "deploy") {
        return rules::ActionKind::deploy;
    }
    if (action == "review_app") {
        return rules::ActionKind::review_app;
    }
    if (action == "delete_review_app") {
        return rules::ActionKind::delete_review_app;
    }
    return std::nullopt;
}

}  // namespace linkpilot::jobs
