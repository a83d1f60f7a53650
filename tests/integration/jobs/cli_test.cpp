// Runs the real `linkpilot` binary: `jobs` (with `jobs cancel` and `jobs run-now`), `retry` and
// `migrate` against a state store the test fills through the Store API.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/store/postgres_store.hpp"
#include "daemon/store/sqlite_store.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/store_builders.hpp"

namespace linkpilot {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct CliResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

class JobsCli : public ::testing::Test {
  protected:
    JobsCli() {
        std::string tmpl = (fs::temp_directory_path() / "linkpilot_jobs_cli_XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            ADD_FAILURE() << "mkdtemp failed";
        }
        dir_ = tmpl;
        db_path_ = dir_ / "state" / "state.db";
        config_ = dir_ / "linkpilot.yaml";
        std::ofstream(config_) << "version: 1\n"
                                  "state:\n"
                                  "  path: "
                               << db_path_.string()
                               << "\n"
                                  "scalingo:\n"
                                  "  dry_run: true\n";
    }
    ~JobsCli() override {
        store_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    JobsCli(const JobsCli&) = delete;
    JobsCli& operator=(const JobsCli&) = delete;

    CliResult run(const std::string& args) {
        const auto out = dir_ / "out";
        const auto err = dir_ / "err";
        const std::string cmd = std::string(LINKPILOT_BINARY) + " " + args + " -c " +
                                config_.string() + " >" + out.string() + " 2>" + err.string();
        const int status = std::system(cmd.c_str());  // NOLINT(cert-env33-c): drives the binary
        CliResult r;
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
    }

    store::Store& db() {
        if (!store_) {
            auto s = pg_url_.empty() ? store::open_sqlite(store::SqliteOptions{db_path_})
                                     : store::open_postgres(store::PostgresOptions{.url = pg_url_});
            EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
            store_ = std::move(*s);
        }
        return *store_;
    }

    // Accepts one delivery with one job; returns the job id.
    std::int64_t add_job(const std::string& delivery, const std::string& action,
                         const std::string& app, const std::string& args) {
        const auto d = testing::push_delivery(delivery, now_);
        const auto j = testing::new_job("staging-follows-main", action, app, args);
        auto r = db().accept(d, {j});
        EXPECT_TRUE(r.has_value());
        return r ? r->job_ids.at(0) : 0;
    }

    // Claims the job (it must be its app's head) and fails it.
    void fail_job(std::int64_t id, const std::string& error) {
        auto claimed = db().claim_runnable(now_, 100);
        ASSERT_TRUE(claimed.has_value());
        ASSERT_TRUE(db().fail(id, error, now_).has_value());
    }

    // Claims the job (it must be its app's head) and defers it as a freeze window would.
    void defer_job(std::int64_t id) {
        auto claimed = db().claim_runnable(now_, 100);
        ASSERT_TRUE(claimed.has_value());
        ASSERT_TRUE(db().defer(id, now_ + std::chrono::hours(2),
                               "deferred: freeze window fri 16:00-23:59 Europe/Paris", now_)
                        .has_value());
    }

    store::Job job(std::int64_t id) {
        auto j = db().get_job(id);
        EXPECT_TRUE(j.has_value() && j->has_value()) << "no job " << id;
        return j && *j ? **j : store::Job{};
    }

    // The config with a freeze window holding deploys now, whatever the time.
    void freeze_all_day() {
        std::ofstream(config_) << "version: 1\n"
                                  "state:\n"
                                  "  path: "
                               << db_path_.string()
                               << "\n"
                                  "scalingo:\n"
                                  "  dry_run: true\n"
                                  "freeze:\n"
                                  "  - { from: \"00:00\", to: \"24:00\", tz: UTC, mode: defer }\n";
    }

    fs::path dir_;
    fs::path db_path_;
    fs::path config_;
    std::string pg_url_;  // set: the state is this PostgreSQL database
    std::unique_ptr<store::Store> store_;
    std::chrono::system_clock::time_point now_{std::chrono::seconds{1'767'225'600}};  // 2026-01-01
};

TEST_F(JobsCli, EmptyStorePrintsOnlyTheHeader) {
    auto r = run("jobs");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 1U) << r.out;
    EXPECT_TRUE(out[0].starts_with("ID ")) << out[0];
    EXPECT_NE(out[0].find("STATE"), std::string::npos);
    EXPECT_NE(out[0].find("APP"), std::string::npos);
}

TEST_F(JobsCli, TableStartsEachRowWithTheJobIdAndUtcTimes) {
    const auto id = add_job("d-1", "deploy", "shop-staging", R"({"branch":"main"})");
    auto r = run("jobs");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 2U) << r.out;
    EXPECT_TRUE(out[1].starts_with(std::to_string(id) + " ")) << out[1];
    EXPECT_NE(out[1].find("pending"), std::string::npos) << out[1];
    EXPECT_NE(out[1].find("shop-staging"), std::string::npos) << out[1];
    EXPECT_NE(out[1].find("2026-01-01T00:00:00Z"), std::string::npos) << out[1];
}

TEST_F(JobsCli, JsonOfFailedJobsHasTheSpecFields) {
    add_job("d-1", "deploy", "shop-staging", R"({"branch":"main"})");
    const auto failed = add_job("d-2", "review_app", "shop-review", R"({"pr_number":7})");
    fail_job(failed, "404 Not Found: app");

    auto r = run("jobs --state failed --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    boost::system::error_code ec;
    auto doc = json::parse(r.out, ec);
    ASSERT_FALSE(ec) << r.out;
    ASSERT_TRUE(doc.is_array()) << r.out;
    ASSERT_EQ(doc.as_array().size(), 1U) << r.out;
    const auto& j = doc.as_array()[0].as_object();
    for (const char* key :
         {"id", "delivery", "rule", "action", "app", "args", "state", "attempts", "next_attempt_at",
          "last_error", "created_at", "updated_at", "history", "ignore_freeze"}) {
        EXPECT_TRUE(j.contains(key)) << key << " missing in " << r.out;
    }
    EXPECT_EQ(j.at("id").as_int64(), failed);
    EXPECT_EQ(j.at("delivery").as_string(), "d-2");
    EXPECT_EQ(j.at("rule").as_string(), "staging-follows-main");
    EXPECT_EQ(j.at("action").as_string(), "review_app");
    EXPECT_EQ(j.at("app").as_string(), "shop-review");
    EXPECT_EQ(j.at("args").as_object().at("pr_number").as_int64(), 7);
    EXPECT_EQ(j.at("state").as_string(), "failed");
    EXPECT_EQ(j.at("attempts").as_int64(), 1);
    EXPECT_EQ(j.at("last_error").as_string(), "404 Not Found: app");
    EXPECT_EQ(j.at("created_at").as_string(), "2026-01-01T00:00:00Z");
}

TEST_F(JobsCli, EmptyJsonIsAnEmptyArray) {
    auto r = run("jobs --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "[]\n");
}

TEST_F(JobsCli, RetryPutsAFailedJobBackInTheQueue) {
    const auto id = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    fail_job(id, "500 Internal Server Error");
    auto r = run("retry " + std::to_string(id));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto job = db().get_job(id);
    ASSERT_TRUE(job.has_value() && job->has_value());
    EXPECT_EQ((*job)->state, "pending");
    EXPECT_EQ((*job)->attempts, 0);
}

TEST_F(JobsCli, RetryOfADoneJobFailsWithOneLine) {
    const auto id = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    ASSERT_TRUE(db().claim_runnable(now_, 10).has_value());
    ASSERT_TRUE(db().complete(id, "deployment 1 queued", now_).has_value());
    auto r = run("retry " + std::to_string(id));
    EXPECT_EQ(r.exit_code, 1);
    auto err = lines(r.err);
    ASSERT_EQ(err.size(), 1U) << r.err;
    EXPECT_NE(err[0].find("is done"), std::string::npos) << err[0];
}

TEST_F(JobsCli, RetryOfAnUnknownJobFails) {
    auto r = run("retry 999");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no job 999"), std::string::npos) << r.err;
    r = run("retry abc");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(lines(r.err).size(), 1U) << r.err;
}

// Checks `note` reads `cancelled by USER@HOST at TIME`, TIME (UTC) within [from, to].
void expect_cancel_note(const std::string& note, std::chrono::system_clock::time_point from,
                        std::chrono::system_clock::time_point to) {
    const std::string prefix = "cancelled by ";
    const auto at = note.rfind(" at ");
    ASSERT_TRUE(note.starts_with(prefix) && at != std::string::npos) << note;
    const auto who = note.substr(prefix.size(), at - prefix.size());
    const auto sep = who.find('@');
    EXPECT_TRUE(sep != std::string::npos && sep > 0 && sep + 1 < who.size()) << note;
    EXPECT_EQ(who.find(' '), std::string::npos) << note;
    const auto when = testing::utc(note.substr(at + 4));
    EXPECT_GE(when, std::chrono::floor<std::chrono::seconds>(from)) << note;
    EXPECT_LE(when, to) << note;
}

TEST_F(JobsCli, CancelEndsAHeldJobWithWhoAndWhenInItsNote) {
    const auto id = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    const auto next = add_job("d-2", "deploy", "shop", R"({"branch":"main"})");
    defer_job(id);
    const auto before = std::chrono::system_clock::now();
    auto r = run("jobs cancel " + std::to_string(id));
    const auto after = std::chrono::system_clock::now();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = job(id);
    EXPECT_EQ(j.state, "cancelled");
    ASSERT_TRUE(j.note.has_value());
    expect_cancel_note(*j.note, before, after);
    EXPECT_EQ(r.out, "job " + std::to_string(id) + " (deploy shop) " + *j.note + "\n");
    // No longer its app's head: the next job is claimable.
    auto claimed = db().claim_runnable(now_, 10);
    ASSERT_TRUE(claimed.has_value());
    ASSERT_EQ(claimed->size(), 1U);
    EXPECT_EQ(claimed->front().id, next);

    auto listed = run("jobs --state cancelled --json");
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    const auto doc = json::parse(listed.out).as_array();
    ASSERT_EQ(doc.size(), 1U) << listed.out;
    EXPECT_EQ(doc.at(0).at("id").as_int64(), id);
    EXPECT_EQ(doc.at(0).at("state").as_string(), "cancelled");
}

TEST_F(JobsCli, CancelOfAJobNotPendingFailsWithOneLine) {
    const auto id = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    ASSERT_TRUE(db().claim_runnable(now_, 10).has_value());
    auto r = run("jobs cancel " + std::to_string(id));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "linkpilot: jobs cancel: job " + std::to_string(id) +
                         " is running; only a pending job can be cancelled\n");
    EXPECT_EQ(job(id).state, "running");

    r = run("jobs cancel 999");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "linkpilot: jobs cancel: no job 999\n");
    r = run("jobs cancel abc");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(lines(r.err).size(), 1U) << r.err;
}

TEST_F(JobsCli, CancelRefusesTheJobThatFollowsARunningOne) {
    const auto first = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    const auto second = add_job("d-2", "deploy", "shop", R"({"branch":"main"})");
    ASSERT_TRUE(db().claim_runnable(now_, 10).has_value());
    auto r = run("jobs cancel " + std::to_string(second));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "linkpilot: jobs cancel: job " + std::to_string(second) +
                         " is next in shop's queue behind running job " + std::to_string(first) +
                         " and may be starting already, so it cannot be cancelled\n");
    EXPECT_EQ(job(second).state, "pending");
}

TEST_F(JobsCli, RunNowMakesAHeldJobDueNow) {
    const auto id = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    defer_job(id);
    const auto before =
        std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    auto r = run("jobs run-now " + std::to_string(id));
    const auto after = std::chrono::system_clock::now();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "job " + std::to_string(id) + " (deploy shop) is due now\n");
    const auto j = job(id);
    EXPECT_EQ(j.state, "pending");
    EXPECT_GE(j.next_attempt_at, before);
    EXPECT_LE(j.next_attempt_at, after);
    EXPECT_FALSE(j.freeze_deferred);
    EXPECT_FALSE(j.ignore_freeze);
    ASSERT_TRUE(j.note.has_value());
    EXPECT_TRUE(j.note->starts_with("run now by ")) << *j.note;
    EXPECT_EQ(j.note->find("ignoring"), std::string::npos) << *j.note;
}

TEST_F(JobsCli, RunNowNamesTheJobAheadInTheAppsQueue) {
    const auto first = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    const auto second = add_job("d-2", "deploy", "shop", R"({"branch":"main"})");
    auto r = run("jobs run-now " + std::to_string(second));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "job " + std::to_string(second) +
                         " (deploy shop) is due now; it runs after job " + std::to_string(first) +
                         " (pending), ahead of it in shop's queue\n");
}

TEST_F(JobsCli, RunNowSaysWhenAFreezeWindowHoldsTheJobAndIgnoreFreezeOverridesIt) {
    freeze_all_day();
    const auto id = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    auto r = run("jobs run-now " + std::to_string(id));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 2U) << r.out;
    EXPECT_EQ(out[0], "job " + std::to_string(id) + " (deploy shop) is due now");
    EXPECT_TRUE(out[1].starts_with("freeze window every day 00:00-24:00 UTC holds it until "))
        << out[1];
    EXPECT_TRUE(
        out[1].ends_with(": the daemon will defer it until then (add --ignore-freeze to run it "
                         "anyway)"))
        << out[1];
    EXPECT_FALSE(job(id).ignore_freeze);

    r = run("jobs run-now " + std::to_string(id) + " --ignore-freeze");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    out = lines(r.out);
    ASSERT_EQ(out.size(), 2U) << r.out;
    EXPECT_EQ(out[1],
              "freeze window every day 00:00-24:00 UTC is in force and ignored for this job");
    const auto j = job(id);
    EXPECT_TRUE(j.ignore_freeze);
    ASSERT_TRUE(j.note.has_value());
    EXPECT_TRUE(j.note->ends_with(", ignoring freeze windows")) << *j.note;
    auto listed = run("jobs --json");
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_TRUE(json::parse(listed.out).as_array().at(0).at("ignore_freeze").as_bool());
}

TEST_F(JobsCli, RunNowOfAJobNotPendingFailsWithOneLine) {
    const auto id = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    fail_job(id, "HTTP 404");
    auto r = run("jobs run-now " + std::to_string(id));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "linkpilot: jobs run-now: job " + std::to_string(id) +
                         " is failed; only a pending job can be run now\n");
}

TEST_F(JobsCli, JsonShowsEveryAttemptAndNoErrorOnceARetrySucceeds) {
    const auto id = add_job("d-1", "deploy", "shop", R"({"branch":"main"})");
    fail_job(id, "500 Internal Server Error");
    ASSERT_TRUE(db().retry(id, now_).has_value());
    ASSERT_TRUE(db().claim_runnable(now_, 10).has_value());
    ASSERT_TRUE(db().complete(id, "deployment 1 queued", now_).has_value());

    auto r = run("jobs --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = json::parse(r.out).as_array();
    ASSERT_EQ(doc.size(), 1U) << r.out;
    const auto& j = doc.at(0).as_object();
    EXPECT_EQ(j.at("state").as_string(), "done");
    EXPECT_TRUE(j.at("last_error").is_null()) << r.out;
    const auto& history = j.at("history").as_array();
    ASSERT_EQ(history.size(), 2U) << r.out;
    EXPECT_EQ(history.at(0),
              json::parse(R"({"attempt":1,"at":"2026-01-01T00:00:00Z",)"
                          R"("outcome":"failed","detail":"500 Internal Server Error"})"));
    EXPECT_EQ(history.at(1), json::parse(R"({"attempt":2,"at":"2026-01-01T00:00:00Z",)"
                                         R"("outcome":"done","detail":"deployment 1 queued"})"));
}

TEST_F(JobsCli, MigratePrintsTheSchemaVersion) {
    const auto expected = "schema version " + std::to_string(store::sqlite_latest_schema_version());
    auto r = run("migrate");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(expected + " (created)"), std::string::npos) << r.out;
    r = run("migrate");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(expected + " (up to date)"), std::string::npos) << r.out;
}

TEST_F(JobsCli, UnreachablePostgresIsAClearErrorWithoutThePassword) {
    std::ofstream(config_) << "version: 1\n"
                              "state:\n"
                              "  url: postgresql://linkpilot:hunter2-pw@127.0.0.1:1/linkpilot\n"
                              "scalingo:\n"
                              "  dry_run: true\n";
    for (const auto* command : {"jobs", "migrate", "retry 1"}) {
        auto r = run(command);
        EXPECT_EQ(r.exit_code, 1) << command;
        EXPECT_NE(r.err.find("postgresql://linkpilot:***@127.0.0.1:1/linkpilot: connecting to "
                             "PostgreSQL"),
                  std::string::npos)
            << command << ": " << r.err;
        EXPECT_EQ(r.err.find("hunter2-pw"), std::string::npos) << command << ": " << r.err;
    }
}

// The same commands with the state on PostgreSQL (issue 11): what an operator of replicas
// runs next to them.
TEST_F(JobsCli, JobsRetryAndMigrateWorkOnPostgres) {
    const auto server = testing::test_postgres_url();
    if (!server) {
        GTEST_SKIP() << testing::kNoPostgres;
    }
    testing::PgSchema schema(*server);
    ASSERT_TRUE(schema.ok()) << schema.error();
    pg_url_ = schema.url();
    std::ofstream(config_) << "version: 1\n"
                              "state:\n"
                              "  url: \""
                           << pg_url_
                           << "\"\n"
                              "scalingo:\n"
                              "  dry_run: true\n";

    const auto version =
        ": schema version " + std::to_string(store::postgres_latest_schema_version());
    auto created = run("migrate");
    EXPECT_EQ(created.exit_code, 0) << created.err;
    EXPECT_NE(created.out.find(version + " (created)"), std::string::npos) << created.out;
    auto again = run("migrate");
    EXPECT_NE(again.out.find(version + " (up to date)"), std::string::npos) << again.out;

    const auto id = add_job("pg-d1", "deploy", "shop-staging", R"({"branch":"main"})");
    fail_job(id, "HTTP 404: app not found");
    auto failed = run("jobs --state failed --json");
    ASSERT_EQ(failed.exit_code, 0) << failed.err;
    const auto listed = json::parse(failed.out).as_array();
    ASSERT_EQ(listed.size(), 1U) << failed.out;
    EXPECT_EQ(listed.at(0).at("id").as_int64(), id);
    EXPECT_EQ(listed.at(0).at("last_error").as_string(), "HTTP 404: app not found");

    auto retried = run("retry " + std::to_string(id));
    EXPECT_EQ(retried.exit_code, 0) << retried.err;
    auto job = db().get_job(id);
    ASSERT_TRUE(job.has_value() && job->has_value());
    EXPECT_EQ((*job)->state, "pending");
}

}  // namespace
}  // namespace linkpilot
