// `linkpilot jobs` (SPEC 1): the jobs in the state store, as a table or a JSON array.
#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/app/open_state.hpp"
#include "daemon/store/sqlite_store.hpp"

namespace linkpilot::app {

namespace {

namespace json = boost::json;

std::string iso(std::chrono::system_clock::time_point t) {
    return date::format("%FT%TZ", date::floor<std::chrono::seconds>(t));
}

json::value optional_text(const std::optional<std::string>& s) {
    return s ? json::value(*s) : json::value(nullptr);
}

json::object to_json(const store::Job& j) {
    json::object o;
    o["id"] = j.id;
    o["delivery"] = j.delivery_id;
    o["rule"] = j.rule;
    o["action"] = j.action;
    o["app"] = j.app;
    boost::system::error_code ec;
    auto args = json::parse(j.args_json, ec);
    o["args"] = ec ? json::value(j.args_json) : std::move(args);
    o["state"] = j.state;
    o["attempts"] = j.attempts;
    o["next_attempt_at"] = iso(j.next_attempt_at);
    o["last_error"] = optional_text(j.last_error);
    o["note"] = optional_text(j.note);
    o["created_at"] = iso(j.created_at);
    o["updated_at"] = iso(j.updated_at);
    return o;
}

// One line: tabs and newlines in stored text would break the table.
std::string flat(std::string s) {
    std::replace_if(
        s.begin(), s.end(), [](char c) { return c == '\n' || c == '\t' || c == '\r'; }, ' ');
    return s;
}

void print_table(const std::vector<store::Job>& jobs) {
    using Row = std::array<std::string, 11>;
    std::vector<Row> rows;
    rows.push_back({"ID", "STATE", "ACTION", "APP", "ARGS", "ATTEMPTS", "NEXT ATTEMPT (UTC)",
                    "UPDATED (UTC)", "DELIVERY", "RULE", "LAST ERROR / NOTE"});
    for (const auto& j : jobs) {
        std::string detail = j.last_error.value_or("");
        if (j.note) {
            detail += detail.empty() ? *j.note : " / " + *j.note;
        }
        rows.push_back({std::to_string(j.id), j.state, j.action, j.app, flat(j.args_json),
                        std::to_string(j.attempts), iso(j.next_attempt_at), iso(j.updated_at),
                        j.delivery_id, j.rule, flat(detail)});
    }
    std::array<std::size_t, 11> width{};
    for (const auto& r : rows) {
        for (std::size_t c = 0; c < r.size(); ++c) {
            width[c] = std::max(width[c], r[c].size());
        }
    }
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t c = 0; c < r.size(); ++c) {
            if (c + 1 == r.size()) {
                line += r[c];  // no trailing padding
            } else {
                line += fmt::format("{:<{}}  ", r[c], width[c]);
            }
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        std::cout << line << "\n";
    }
}

}  // namespace

int run_jobs(const JobsOptions& o) {
    auto db = open_state(o.config, "jobs");
    if (!db) {
        return kExitError;
    }
    store::JobFilter filter;
    if (!o.state.empty()) {
        filter.state = o.state;
    }
    if (!o.app.empty()) {
        filter.app = o.app;
    }
    auto jobs = db->list_jobs(filter);
    if (!jobs) {
        std::cerr << "linkpilot: jobs: " << jobs.error().message << "\n";
        return kExitError;
    }
    if (o.json) {
        json::array out;
        for (const auto& j : *jobs) {
            out.push_back(to_json(j));
        }
        std::cout << json::serialize(out) << "\n";
        return kExitOk;
    }
    print_table(*jobs);
    return kExitOk;
}

}  // namespace linkpilot::app
