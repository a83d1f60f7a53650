#include "daemon/jobs/job_args.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>

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
    return args;
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
