// The real `linkpilot prune` and `linkpilot serve` against the real simulator (SPEC 6): the
// simulator is seeded with review apps of varied ages, parents and closed pull requests; the
// tests check what was deleted in the simulator's state and call log.
#include <date/date.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon/store/sqlite_store.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

namespace linkpilot {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::hours;
using std::chrono::minutes;
using testing::http_request;
using testing::Process;

constexpr const char* kToken = "prune-api-token";

std::string ago(std::chrono::system_clock::duration d) {
    return date::format("%FT%TZ",
                        date::floor<std::chrono::seconds>(std::chrono::system_clock::now() - d));
}

// Polls `done` until it holds or `timeout` passes (the processes run on real time).
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return done();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

json::object link(const std::string& app) {
    return {{"app", app},
            {"source", "https://github.com/acme/" + app},
            {"branch", "main"},
            {"deploy_review_apps_enabled", true}};
}

// shop-staging's review apps, one per case:
//   pr1 stale but protected; pr2 stale; pr3 closed 3h ago; pr4 fresh; pr5 stale and closed
//   but its parent_app_name says other-staging; pr6 closed 10 minutes ago (under closed_after);
//   pr7 created long ago but redeployed an hour ago (active).
// blog-staging: pr8 stale.
json::value seed() {
    return json::object{
        {"apps", json::array{"shop-staging", "blog-staging", "other-staging"}},
        {"links", json::array{link("shop-staging"), link("blog-staging"), link("other-staging")}},
        {"review_apps",
         json::array{
             json::object{
                 {"parent", "shop-staging"}, {"number", 1}, {"created_at", ago(hours(240))}},
             json::object{
                 {"parent", "shop-staging"}, {"number", 2}, {"created_at", ago(hours(200))}},
             json::object{{"parent", "shop-staging"},
                          {"number", 3},
                          {"created_at", ago(hours(20))},
                          {"pull_request", json::object{{"closed_at", ago(hours(3))}}}},
             json::object{{"parent", "shop-staging"}, {"number", 4}, {"created_at", ago(hours(1))}},
             json::object{{"parent", "shop-staging"},
                          {"number", 5},
                          {"created_at", ago(hours(300))},
                          {"parent_app_name", "other-staging"},
                          {"pull_request", json::object{{"closed_at", ago(hours(100))}}}},
             json::object{{"parent", "shop-staging"},
                          {"number", 6},
                          {"created_at", ago(hours(30))},
                          {"pull_request", json::object{{"closed_at", ago(minutes(10))}}}},
             json::object{{"parent", "shop-staging"},
                          {"number", 7},
                          {"created_at", ago(hours(500))},
                          {"last_deployment_at", ago(hours(1))}},
             json::object{
                 {"parent", "blog-staging"}, {"number", 8}, {"created_at", ago(hours(100))}},
         }}};
}

class PruneCli : public ::testing::Test {
  protected:
    PruneCli() : dir_(testing::make_temp_dir("linkpilot_prune")) {
        const auto seed_file = dir_ / "seed.json";
        std::ofstream(seed_file) << json::serialize(seed());
        sim_ = std::make_unique<Process>(
            LINKPILOT_BINARY,
            std::vector<std::string>{"simulate-scalingo", "--listen", "127.0.0.1:0", "--token",
                                     kToken, "--seed", seed_file.string()});
        sim_port_ = sim_->listening_port();
        EXPECT_NE(sim_port_, 0) << sim_->stderr_text();
    }
    ~PruneCli() override {
        daemon_.reset();
        sim_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    PruneCli(const PruneCli&) = delete;
    PruneCli& operator=(const PruneCli&) = delete;

    // Writes the config: `apps` to prune, `every`, and extra lines inside `scalingo:`.
    fs::path write_config(const std::string& apps, const std::string& every = "1h",
                          const std::string& scalingo_extra = "") {
        const auto url = "http://127.0.0.1:" + std::to_string(sim_port_);
        std::ofstream(config_) << "version: 1\n"
                               << "server: { listen: \"127.0.0.1:0\" }\n"
                               << "state: { path: \"" << (dir_ / "state.db").string() << "\" }\n"
                               << "scalingo:\n"
                               << "  api_url: " << url << "\n"
                               << "  auth_url: " << url << "\n"
                               << "  token: " << kToken << "\n"
                               << "  retry: { max_attempts: 3, initial_backoff: 10ms, "
                                  "max_backoff: 50ms }\n"
                               << scalingo_extra << "prune:\n"
                               << "  every: " << every << "\n"
                               << "  apps: " << apps << "\n"
                               << "  stale_after: 72h\n"
                               << "  closed_after: 1h\n"
                               << "  keep_at_most: 10\n"
                               << "  protect: [\"shop-staging-pr1\"]\n"
                               << "  max_deletions_per_sweep: 5\n";
        return config_;
    }

    struct Run {
        int code = -1;
        std::string out;
        std::string err;
    };
    Run prune(std::vector<std::string> args) {
        args.insert(args.begin(), "prune");
        args.push_back("-c");
        args.push_back(config_.string());
        Process p(LINKPILOT_BINARY, args);
        const auto code = p.wait(std::chrono::seconds(60));
        return {code.value_or(-1), p.stdout_text(), p.stderr_text()};
    }

    // GET /_sim/calls without token exchanges.
    std::vector<json::object> calls() {
        auto r = http_request("127.0.0.1", sim_port_, "GET", "/_sim/calls");
        EXPECT_EQ(r.status, 200) << r.error;
        std::vector<json::object> out;
        if (r.status != 200) {
            return out;
        }
        const auto doc = json::parse(r.body);  // outlives the loop
        for (const auto& c : doc.as_array()) {
            if (c.at("path").as_string() != "/v1/tokens/exchange") {
                out.push_back(c.as_object());
            }
        }
        return out;
    }

    std::set<std::string> deleted_in_log() {
        std::set<std::string> out;
        for (const auto& c : calls()) {
            if (c.at("method").as_string() == "DELETE") {
                std::string path(c.at("path").as_string());
                path = path.substr(0, path.find('?'));
                out.insert(path.substr(path.rfind('/') + 1));
            }
        }
        return out;
    }

    std::set<std::string> review_apps_left() {
        auto r = http_request("127.0.0.1", sim_port_, "GET", "/_sim/state");
        EXPECT_EQ(r.status, 200) << r.error;
        std::set<std::string> out;
        if (r.status == 200) {
            const auto doc = json::parse(r.body);
            for (const auto& [name, _] : doc.at("review_apps").as_object()) {
                out.insert(std::string(name));
            }
        }
        return out;
    }

    void fault(const json::object& spec) {
        auto r = http_request("127.0.0.1", sim_port_, "POST", "/_sim/faults", json::serialize(spec),
                              {{"Content-Type", "application/json"}});
        ASSERT_LT(r.status, 300) << r.body << r.error;
    }

    // The review apps of a `prune --json` answer with the given action, per app.
    static std::set<std::string> with_action(const json::value& doc, const std::string& action) {
        std::set<std::string> out;
        for (const auto& a : doc.at("apps").as_array()) {
            for (const auto& ra : a.at("review_apps").as_array()) {
                if (ra.at("action").as_string() == action) {
                    out.insert(std::string(ra.at("name").as_string()));
                }
            }
        }
        return out;
    }

    static std::string reason_of(const json::value& doc, const std::string& name) {
        for (const auto& a : doc.at("apps").as_array()) {
            for (const auto& ra : a.at("review_apps").as_array()) {
                if (ra.at("name").as_string() == name) {
                    return std::string(ra.at("reason").as_string());
                }
            }
        }
        return "(not listed)";
    }

    fs::path dir_;
    fs::path config_ = dir_ / "linkpilot.yaml";
    std::unique_ptr<Process> sim_;
    unsigned short sim_port_ = 0;
    std::unique_ptr<Process> daemon_;
};

const std::set<std::string> kAll{"shop-staging-pr1", "shop-staging-pr2", "shop-staging-pr3",
                                 "shop-staging-pr4", "shop-staging-pr5", "shop-staging-pr6",
                                 "shop-staging-pr7", "blog-staging-pr8"};
const std::set<std::string> kDoomed{"shop-staging-pr2", "shop-staging-pr3"};

TEST_F(PruneCli, DryRunDeletesNothingAndListsWhatTheRealRunDeletes) {
    write_config("[shop-staging]");
    const auto dry = prune({"--dry-run", "--json"});
    ASSERT_EQ(dry.code, 0) << dry.err;
    const auto dry_doc = json::parse(dry.out);
    EXPECT_TRUE(dry_doc.at("dry_run").as_bool());
    EXPECT_EQ(with_action(dry_doc, "would_delete"), kDoomed);
    EXPECT_EQ(reason_of(dry_doc, "shop-staging-pr1"), "protected");
    EXPECT_EQ(reason_of(dry_doc, "shop-staging-pr2"), "stale");
    EXPECT_EQ(reason_of(dry_doc, "shop-staging-pr3"), "closed");
    EXPECT_EQ(reason_of(dry_doc, "shop-staging-pr5"), "wrong_parent");
    EXPECT_EQ(reason_of(dry_doc, "shop-staging-pr6"), "active");
    EXPECT_EQ(reason_of(dry_doc, "shop-staging-pr7"), "active");
    // Zero mutating calls: only the listing went out, and nothing is gone.
    for (const auto& c : calls()) {
        EXPECT_EQ(c.at("method").as_string(), "GET") << json::serialize(c);
    }
    EXPECT_EQ(review_apps_left(), kAll);
    EXPECT_FALSE(fs::exists(dir_ / "state.db")) << "a dry run opens no state store";

    const auto real = prune({"--json"});
    ASSERT_EQ(real.code, 0) << real.err << real.out;
    const auto real_doc = json::parse(real.out);
    EXPECT_FALSE(real_doc.at("dry_run").as_bool());
    EXPECT_EQ(with_action(real_doc, "delete"), kDoomed);
    for (const auto& a : real_doc.at("apps").as_array()) {
        for (const auto& ra : a.at("review_apps").as_array()) {
            if (ra.at("action").as_string() == "delete") {
                EXPECT_EQ(ra.at("job").at("state").as_string(), "done") << json::serialize(ra);
            }
        }
    }
    EXPECT_EQ(deleted_in_log(), kDoomed);
    auto left = kAll;
    for (const auto& d : kDoomed) {
        left.erase(d);
    }
    EXPECT_EQ(review_apps_left(), left);  // protected and wrong-parent apps survive
}

TEST_F(PruneCli, PrintsAReadableTable) {
    write_config("[shop-staging]");
    const auto dry = prune({"--dry-run"});
    ASSERT_EQ(dry.code, 0) << dry.err;
    EXPECT_NE(dry.out.find("APP"), std::string::npos) << dry.out;
    EXPECT_NE(dry.out.find("REASON"), std::string::npos);
    EXPECT_NE(dry.out.find("would delete"), std::string::npos);
    EXPECT_NE(dry.out.find("protected (otherwise stale)"), std::string::npos) << dry.out;
    EXPECT_NE(dry.out.find("dry run: 2 review app(s) would be deleted"), std::string::npos);

    const auto real = prune({});
    ASSERT_EQ(real.code, 0) << real.err;
    EXPECT_NE(real.out.find("deleted"), std::string::npos) << real.out;
    EXPECT_NE(real.out.find("2 review app(s) queued for deletion"), std::string::npos);
}

TEST_F(PruneCli, ScalingoDryRunOnlyReports) {
    write_config("[shop-staging]", "1h", "  dry_run: true\n");
    const auto r = prune({"--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto doc = json::parse(r.out);
    EXPECT_TRUE(doc.at("dry_run").as_bool());
    EXPECT_EQ(with_action(doc, "would_delete"), kDoomed);
    EXPECT_TRUE(deleted_in_log().empty());
    EXPECT_EQ(review_apps_left(), kAll);
}

TEST_F(PruneCli, AListingFailureDeletesNothingForThatApp) {
    write_config("[shop-staging, blog-staging]");
    fault({{"path", "/v1/apps/shop-staging/scm_repo_link/review_apps"},
           {"method", "GET"},
           {"status", 500},
           {"times", 5}});
    const auto r = prune({"--json"});
    EXPECT_EQ(r.code, 1) << r.out;
    const auto doc = json::parse(r.out);
    const auto& apps = doc.at("apps").as_array();
    ASSERT_EQ(apps.size(), 2U);
    EXPECT_FALSE(apps[0].at("error").is_null());
    EXPECT_TRUE(apps[0].at("review_apps").as_array().empty());
    EXPECT_TRUE(apps[1].at("error").is_null());
    // blog-staging's sweep went on; nothing of shop-staging was touched.
    EXPECT_EQ(deleted_in_log(), (std::set<std::string>{"blog-staging-pr8"}));
    auto left = kAll;
    left.erase("blog-staging-pr8");
    EXPECT_EQ(review_apps_left(), left);
}

// Two sweeps on one SQLite state (issue 22): the test holds the sweep lock itself through the
// Store API, as a `serve` in the middle of its sweep does, so the overlap is certain.
TEST_F(PruneCli, ASweepRefusedTheLockNamesItsHolderExitsZeroAndDeletesNothing) {
    write_config("[shop-staging]");
    auto holder = store::open_sqlite({.path = dir_ / "state.db"});
    ASSERT_TRUE(holder.has_value()) << holder.error().message;
    const auto serve = store::this_process("serve", std::chrono::system_clock::now());
    auto lock = (*holder)->try_lock_sweep(serve);
    ASSERT_TRUE(lock.has_value()) << lock.error().message;
    ASSERT_TRUE(lock->taken);
    const auto named = "not swept: the sweep lock is held by " + store::to_string(serve);

    const auto refused = prune({});
    EXPECT_EQ(refused.code, 0) << refused.err;
    EXPECT_EQ(refused.out, "linkpilot: prune: " + named + "\n");
    const auto refused_json = prune({"--json"});
    ASSERT_EQ(refused_json.code, 0) << refused_json.err;
    const auto doc = json::parse(refused_json.out);
    EXPECT_FALSE(doc.at("swept").as_bool());
    EXPECT_EQ(doc.at("held_by").as_string(), store::to_string(serve));
    EXPECT_EQ(doc.at("reason").as_string(), named);
    // Neither run listed nor deleted anything: the holder's sweep is the one that does.
    EXPECT_TRUE(calls().empty()) << json::serialize(json::value_from(calls()));
    EXPECT_EQ(review_apps_left(), kAll);

    ASSERT_TRUE((*holder)->unlock_sweep().has_value());
    const auto swept = prune({});
    ASSERT_EQ(swept.code, 0) << swept.err;
    EXPECT_NE(swept.out.find("2 review app(s) queued for deletion"), std::string::npos)
        << swept.out;
    EXPECT_EQ(deleted_in_log(), kDoomed);
    // And it gave the lock back.
    EXPECT_TRUE((*holder)->try_lock_sweep(serve)->taken);
}

TEST_F(PruneCli, ServeLogsTheLockHolderAndSweepsOnceTheLockIsFree) {
    write_config("[shop-staging]", "1s");
    auto holder = store::open_sqlite({.path = dir_ / "state.db"});
    ASSERT_TRUE(holder.has_value()) << holder.error().message;
    const auto prune = store::this_process("prune", std::chrono::system_clock::now());
    ASSERT_TRUE((*holder)->try_lock_sweep(prune)->taken);
    daemon_ = std::make_unique<Process>(LINKPILOT_BINARY,
                                        std::vector<std::string>{"serve", "-c", config_.string()});
    ASSERT_NE(daemon_->listening_port(), 0) << daemon_->stderr_text();
    const auto logged = "prune: not swept: the sweep lock is held by " + store::to_string(prune);
    ASSERT_TRUE(eventually([&] {
        return daemon_->stderr_text().find(logged) != std::string::npos;
    })) << daemon_->stderr_text();
    EXPECT_TRUE(deleted_in_log().empty());

    ASSERT_TRUE((*holder)->unlock_sweep().has_value());
    ASSERT_TRUE(eventually([&] { return deleted_in_log() == kDoomed; })) << daemon_->stderr_text();
    EXPECT_EQ(daemon_->terminate(), 0);
}

TEST_F(PruneCli, ServeSweepsEveryPruneEvery) {
    write_config("[shop-staging]", "1s");
    daemon_ = std::make_unique<Process>(LINKPILOT_BINARY,
                                        std::vector<std::string>{"serve", "-c", config_.string()});
    const auto port = daemon_->listening_port();
    ASSERT_NE(port, 0) << daemon_->stderr_text();
    ASSERT_TRUE(eventually([&] { return deleted_in_log() == kDoomed; })) << daemon_->stderr_text();
    auto left = kAll;
    for (const auto& d : kDoomed) {
        left.erase(d);
    }
    EXPECT_EQ(review_apps_left(), left);
    // Later sweeps list again (prune.every = 1s) and find nothing more to delete.
    ASSERT_TRUE(eventually([&] {
        std::size_t listings = 0;
        for (const auto& c : calls()) {
            listings += c.at("path").as_string().ends_with("/review_apps") ? 1 : 0;
        }
        return listings >= 4;
    }));
    EXPECT_EQ(deleted_in_log(), kDoomed);
    auto m = http_request("127.0.0.1", port, "GET", "/metrics");
    ASSERT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("linkpilot_prune_review_apps_deleted_total{reason=\"stale\"} 1\n"),
              std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find("linkpilot_prune_review_apps_deleted_total{reason=\"closed\"} 1\n"),
              std::string::npos);
    EXPECT_NE(m.body.find("linkpilot_prune_review_apps_skipped_total{reason=\"protected\"}"),
              std::string::npos);
    EXPECT_NE(m.body.find("linkpilot_prune_last_sweep_duration_seconds"), std::string::npos);
    EXPECT_EQ(daemon_->terminate(), 0);
}

}  // namespace
}  // namespace linkpilot
