// `linkpilot jobs` (SPEC 1): the jobs in the state store, as a table or a JSON array; and the
// operator controls on a pending job, `jobs cancel ID` and `jobs run-now ID [--ignore-freeze]`,
// each recorded in the job's note with who ran it and when.
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/iso_time.hpp"
#include "config/load.hpp"
#include "daemon/app/commands.hpp"
#include "daemon/app/open_state.hpp"
#include "daemon/jobs/freeze.hpp"
#include "daemon/jobs/job_args.hpp"
#include "daemon/store/sqlite_store.hpp"

namespace linkpilot::app {

namespace {

namespace json = boost::json;

json::value optional_text(const std::optional<std::string>& s) {
    return s ? json::value(*s) : json::value(nullptr);
}

json::array to_json(const std::vector<store::Attempt>& history) {
    json::array out;
    for (const auto& a : history) {
        out.push_back(json::object{{"attempt", a.number},
                                   {"at", iso_time(a.at)},
                                   {"outcome", a.outcome},
                                   {"detail", optional_text(a.detail)}});
    }
    return out;
}

json::object to_json(const store::Job& j, const std::vector<store::Attempt>& history) {
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
    o["next_attempt_at"] = iso_time(j.next_attempt_at);
    o["last_error"] = optional_text(j.last_error);
    o["note"] = optional_text(j.note);
    o["created_at"] = iso_time(j.created_at);
    o["updated_at"] = iso_time(j.updated_at);
    o["ignore_freeze"] = j.ignore_freeze;
    o["history"] = to_json(history);
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
                        std::to_string(j.attempts), iso_time(j.next_attempt_at),
                        iso_time(j.updated_at), j.delivery_id, j.rule, flat(detail)});
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

// "alice@build-host": who runs this command, for the job's note. The account of the real
// uid, else $USER (a container's uid may have no passwd entry), else the uid itself.
std::string operator_name() {
    std::string user;
    passwd pw{};
    passwd* found = nullptr;
    std::array<char, 4096> buf{};
    if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        found->pw_name != nullptr) {
        user = found->pw_name;
    } else if (const char* env = std::getenv("USER");  // NOLINT(concurrency-mt-unsafe): 1 thread
               env != nullptr && *env != '\0') {
        user = env;
    } else {
        user = "uid " + std::to_string(getuid());
    }
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
        return user + "@unknown-host";
    }
    return user + "@" + host.data();
}

// The job `text` names, if it exists and is pending; otherwise prints why (one line) and
// returns nullopt. `what` completes "only a pending job can be ...".
std::optional<store::Job> pending_job(store::Store& db, const std::string& text,
                                      const char* command, const char* what) {
    const auto id = parse_job_id(text);
    if (!id) {
        std::cerr << "linkpilot: " << command << ": \"" << text << "\" is not a job id\n";
        return std::nullopt;
    }
    auto job = db.get_job(*id);
    if (!job) {
        std::cerr << "linkpilot: " << command << ": " << job.error().message << "\n";
        return std::nullopt;
    }
    if (!*job) {
        std::cerr << "linkpilot: " << command << ": no job " << *id << "\n";
        return std::nullopt;
    }
    if ((*job)->state != store::kStatePending) {
        std::cerr << "linkpilot: " << command << ": job " << *id << " is " << (*job)->state
                  << "; only a pending job can be " << what << "\n";
        return std::nullopt;
    }
    return std::move(**job);
}

// The job ahead of `job` in its app's queue (running, or the oldest pending), if any.
std::optional<store::Job> ahead_of(store::Store& db, const store::Job& job) {
    store::JobFilter filter;
    filter.app = job.app;
    auto jobs = db.list_jobs(filter);
    if (!jobs) {
        return std::nullopt;  // only for the message
    }
    for (auto& j : *jobs) {
        if (j.id < job.id && (j.state == store::kStateRunning || j.state == store::kStatePending)) {
            return std::move(j);
        }
    }
    return std::nullopt;
}

}  // namespace

int run_jobs_cancel(const JobControlOptions& o) {
    constexpr const char* kCommand = "jobs cancel";
    auto db = open_state(o.config, kCommand);
    if (!db) {
        return kExitError;
    }
    const auto job = pending_job(*db, o.job_id, kCommand, "cancelled");
    if (!job) {
        return kExitError;
    }
    const auto now = std::chrono::system_clock::now();
    const auto note = fmt::format("cancelled by {} at {}", operator_name(), iso_time(now));
    if (auto r = db->cancel(job->id, note, now); !r) {
        std::cerr << "linkpilot: " << kCommand << ": " << r.error().message << "\n";
        return kExitError;
    }
    std::cout << fmt::format("job {} ({} {}) {}\n", job->id, job->action, job->app, note);
    return kExitOk;
}

int run_jobs_run_now(const JobControlOptions& o) {
    constexpr const char* kCommand = "jobs run-now";
    auto opened = open_config_and_state(o.config, kCommand);
    if (!opened) {
        return kExitError;
    }
    auto& db = *opened->store;
    const auto job = pending_job(db, o.job_id, kCommand, "run now");
    if (!job) {
        return kExitError;
    }
    const auto now = std::chrono::system_clock::now();
    const auto note = fmt::format("run now by {} at {}{}", operator_name(), iso_time(now),
                                  o.ignore_freeze ? ", ignoring freeze windows" : "");
    if (auto r = db.run_now(job->id, o.ignore_freeze, note, now); !r) {
        std::cerr << "linkpilot: " << kCommand << ": " << r.error().message << "\n";
        return kExitError;
    }
    // What the daemon does with it next: it polls the store at least every second.
    std::string out = fmt::format("job {} ({} {}) is due now", job->id, job->action, job->app);
    if (const auto ahead = ahead_of(db, *job)) {
        out += fmt::format("; it runs after job {} ({}), ahead of it in {}'s queue", ahead->id,
                           ahead->state, job->app);
    }
    const auto action = jobs::action_from_string(job->action);
    const auto hit =
        action ? jobs::active_window(opened->config.freeze, *action, now) : std::nullopt;
    if (hit && (o.ignore_freeze || job->ignore_freeze)) {
        out += fmt::format("\nfreeze window {} is in force and ignored for this job",
                           hit->description);
    } else if (hit && hit->mode == config::FreezeMode::defer) {
        out += fmt::format(
            "\nfreeze window {} holds it until {}: the daemon will defer it until then (add "
            "--ignore-freeze to run it anyway)",
            hit->description, iso_time(hit->end));
    } else if (hit) {
        out += fmt::format(
            "\nfreeze window {} is in force: the daemon drops it with a note (add "
            "--ignore-freeze to run it anyway)",
            hit->description);
    }
    std::cout << out << "\n";
    return kExitOk;
}

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
        auto attempts = db->list_attempts(filter);
        if (!attempts) {
            std::cerr << "linkpilot: jobs: " << attempts.error().message << "\n";
            return kExitError;
        }
        std::map<std::int64_t, std::vector<store::Attempt>> history;
        for (auto& a : *attempts) {
            history[a.job_id].push_back(std::move(a));
        }
        json::array out;
        for (const auto& j : *jobs) {
            out.push_back(to_json(j, history[j.id]));
        }
        std::cout << json::serialize(out) << "\n";
        return kExitOk;
    }
    print_table(*jobs);
    return kExitOk;
}

}  // namespace linkpilot::app
