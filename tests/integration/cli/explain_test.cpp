// `linkpilot explain` run as a binary on the real fixtures of ../shared/fixtures (issue 5,
// must-show 3): the failing condition and its actual value are named, `--json` parses and says
// the same, a payload can come from stdin, bad arguments exit 1 with one clear line, and
// `--delivery ID` explains a delivery that a running `linkpilot serve` received.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "daemon/store/sqlite_store.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/process.hpp"
#include "tests/support/webhooks.hpp"

namespace linkpilot {
namespace {

namespace json = boost::json;
using testing::Process;

constexpr std::string_view kSecret = "explain-test-secret";

struct Run {
    int code = -1;
    std::string out;
    std::string err;
};

Run finish(Process& p) {
    Run r;
    r.code = p.wait(std::chrono::seconds(30)).value_or(-1);
    r.out = p.stdout_text();
    r.err = p.stderr_text();
    return r;
}

Run explain(std::vector<std::string> args) {
    args.insert(args.begin(), "explain");
    Process p(LINKPILOT_BINARY, args);
    return finish(p);
}

// The binary with `file` on its stdin (Process gives children /dev/null): through sh, with the
// binary and the file as positional parameters so no path is ever parsed as shell text.
Run explain_stdin(const std::vector<std::string>& args, const std::filesystem::path& file) {
    std::string script = "f=\"$1\"; shift; exec \"$0\" explain";
    std::vector<std::string> argv = {"-c", "", LINKPILOT_BINARY, file.string()};
    for (std::size_t i = 0; i < args.size(); ++i) {
        script += " \"${" + std::to_string(i + 1) + "}\"";
        argv.push_back(args[i]);
    }
    script += " <\"$f\"";
    argv[1] = script;
    Process p("/bin/sh", argv);
    return finish(p);
}

// A config of its own: two rules the fixtures exercise both ways, a state store in `dir`,
// Scalingo in dry-run (nothing is ever called; the address is never dialled).
std::filesystem::path write_config(const std::filesystem::path& dir) {
    const auto path = dir / "linkpilot.yaml";
    std::ofstream(path) << "version: 1\n"
                        << "server: { listen: \"127.0.0.1:0\" }\n"
                        << "state: { path: \"" << (dir / "state.db").string() << "\" }\n"
                        << "scalingo:\n"
                        << "  api_url: http://127.0.0.1:9\n"
                        << "  auth_url: http://127.0.0.1:9\n"
                        << "  token: explain-test-token\n"
                        << "  dry_run: true\n"
                        << "providers:\n"
                        << "  github: { secrets: [\"" << kSecret << "\"] }\n"
                        << "  gitlab: { tokens: [\"explain-test-gitlab\"] }\n"
                        << "rules:\n"
                        << "  - name: staging-follows-main\n"
                        << "    on: push\n"
                        << "    if: { branch: main }\n"
                        << "    deploy: { app: hello-staging }\n"
                        << "  - name: review-bugs\n"
                        << "    on: pull_request\n"
                        << "    if: { action: [opened, labeled], labels: [bug], fork: false }\n"
                        << "    review_app: { app: hello-review }\n"
                        << "  - name: drop-on-close\n"
                        << "    on: pull_request\n"
                        << "    if: { action: closed }\n"
                        << "    delete_review_app: { app: hello-review }\n";
    return path;
}

class ExplainTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::make_temp_dir("linkpilot-explain");
        config_ = write_config(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_;
    std::filesystem::path config_;
};

// The `  NAME: ...` line of the rules section.
std::string rule_line(const std::string& text, const std::string& rule) {
    const std::string needle = "\n  " + rule + ": ";
    auto pos = text.find(needle);
    if (pos == std::string::npos) {
        return "(no line for " + rule + ")";
    }
    pos += needle.size();
    return text.substr(pos, text.find('\n', pos) - pos);
}

TEST_F(ExplainTest, TextNamesTheFailingConditionAndTheActualValue) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    // A push to refs/heads/master.
    auto r = explain({"--provider", "github", "--event", "push", "-c", config_.string(),
                      (fixtures / "github/push/branch-created.json").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(rule_line(r.out, "staging-follows-main"),
              R"(no: branch: "master" does not match "main")")
        << r.out;
    EXPECT_EQ(rule_line(r.out, "review-bugs"), "no: on: pull_request, but the event is push");
    EXPECT_NE(r.out.find("repo: allowed\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nactions: none\n"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(ExplainTest, TextShowsTheMatchAndTheRenderedAction) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    auto r = explain({"--provider", "github", "--event", "pull_request", "-c", config_.string(),
                      (fixtures / "github/pull_request/labeled.json").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(rule_line(r.out, "review-bugs"), "match") << r.out;
    EXPECT_EQ(rule_line(r.out, "drop-on-close"),
              R"(no: action: "labeled" does not match "closed")");
    EXPECT_NE(r.out.find("\nactions:\n  review_app hello-review pr=2 (rule review-bugs)\n"),
              std::string::npos)
        << r.out;
}

TEST_F(ExplainTest, GitlabPayloadIsExplainedToo) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    auto r = explain({"--provider", "gitlab", "--event", "Merge Request Hook", "-c",
                      config_.string(), (fixtures / "gitlab/merge_request/open.json").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(rule_line(r.out, "review-bugs"), R"(no: labels: ["API"] lacks "bug")") << r.out;
}

TEST_F(ExplainTest, JsonParsesAndCarriesTheSameVerdicts) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const std::vector<std::string> args = {
        "--provider",
        "github",
        "--event",
        "pull_request",
        "-c",
        config_.string(),
        (fixtures / "github/pull_request/labeled.json").string()};
    auto text = explain(args);
    auto args_json = args;
    args_json.push_back("--json");
    auto r = explain(args_json);
    ASSERT_EQ(r.code, 0) << r.err;
    boost::system::error_code ec;
    auto doc = json::parse(r.out, ec);
    ASSERT_FALSE(ec) << r.out;
    const auto& o = doc.as_object();
    EXPECT_TRUE(o.at("repo_allowed").as_bool());
    EXPECT_FALSE(o.at("paths_fail_open").as_bool());
    EXPECT_EQ(o.at("event").at("kind").as_string(), "pull_request");
    const auto& rules = o.at("rules").as_array();
    ASSERT_EQ(rules.size(), 3U);
    for (const auto& v : rules) {
        const auto name = std::string(v.at("name").as_string());
        const std::string expected =
            v.at("matched").as_bool() ? "match" : "no: " + std::string(v.at("reason").as_string());
        EXPECT_EQ(rule_line(text.out, name), expected) << name;
    }
    EXPECT_TRUE(rules[1].at("matched").as_bool());
    EXPECT_EQ(rules[0].at("reason").as_string(), "on: push, but the event is pull_request");
    const auto& actions = o.at("actions").as_array();
    ASSERT_EQ(actions.size(), 1U);
    EXPECT_EQ(actions[0].at("action").as_string(), "review_app");
    EXPECT_EQ(actions[0].at("app").as_string(), "hello-review");
    EXPECT_EQ(actions[0].at("pr_number").as_int64(), 2);
    EXPECT_EQ(actions[0].at("rule").as_string(), "review-bugs");
}

TEST_F(ExplainTest, PayloadFromStdinWithDash) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    auto r = explain_stdin(
        {"--provider", "github", "--event", "pull_request", "-c", config_.string(), "-"},
        fixtures / "github/pull_request/closed-not-merged.json");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(rule_line(r.out, "drop-on-close"), "match") << r.out;
    EXPECT_NE(r.out.find("delete_review_app hello-review pr=2 (rule drop-on-close)"),
              std::string::npos)
        << r.out;
}

TEST_F(ExplainTest, MissingArgumentsExitOneWithAClearMessage) {
    auto r = explain({"-c", config_.string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("give --provider github|gitlab --event NAME PAYLOAD.json (or --delivery "
                         "ID)"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(ExplainTest, MissingEventHeaderExitsOne) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    auto r = explain({"--provider", "github", "-c", config_.string(),
                      (fixtures / "github/push/branch-created.json").string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("--event NAME"), std::string::npos) << r.err;
}

TEST_F(ExplainTest, UnknownProviderExitsOne) {
    auto r = explain(
        {"--provider", "bitbucket", "--event", "push", "-c", config_.string(), "payload.json"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("--provider"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bitbucket"), std::string::npos) << r.err;
}

TEST_F(ExplainTest, UnreadablePayloadExitsOne) {
    const auto missing = dir_ / "no-such-payload.json";
    auto r = explain(
        {"--provider", "github", "--event", "push", "-c", config_.string(), missing.string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("cannot read " + missing.string()), std::string::npos) << r.err;
}

TEST_F(ExplainTest, PayloadThatIsNotAJsonObjectExitsOne) {
    const auto bad = dir_ / "bad.json";
    std::ofstream(bad) << "[1, 2, 3]";
    auto r =
        explain({"--provider", "github", "--event", "push", "-c", config_.string(), bad.string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("the payload is not a JSON object"), std::string::npos) << r.err;
}

TEST_F(ExplainTest, InvalidConfigExitsOneWithFileLineCol) {
    const auto bad = dir_ / "bad.yaml";
    std::ofstream(bad) << "version: 1\nrules:\n  - name: x\n    on: push\n    if: { nope: x }\n"
                       << "    deploy: { app: hello-staging }\n";
    auto r = explain({"--provider", "github", "--event", "push", "-c", bad.string(), "-"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find(bad.string() + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("invalid config"), std::string::npos) << r.err;
}

// Issue 22: a pruning sweep's record is not a webhook; explain says what it is and what it
// queued instead of "event prune is not handled" and "repo \"\" is not allowed".
TEST_F(ExplainTest, PruneSweepRecordSaysWhatItIs) {
    {
        auto st = store::open_sqlite({.path = dir_ / "state.db"});
        ASSERT_TRUE(st.has_value()) << st.error().message;
        store::NewDelivery d;
        d.id = "prune-hello-review-1765000000000";
        d.provider = "linkpilot";  // as daemon/pruner/sweeper.cpp records a sweep
        d.event = "prune";
        d.received_at = std::chrono::system_clock::time_point(std::chrono::seconds(1765000000));
        d.status = "queued";
        d.payload = R"({"app":"hello-review","deletions":[{"review_app":"hello-review-pr7",)"
                    R"("reason":"stale","activity_at":"2025-11-01T10:00:00Z"}]})";
        d.event_json = d.payload;
        d.verdicts_json = "[]";
        store::NewJob job;
        job.rule = "prune";
        job.action = "delete_review_app";
        job.app = "hello-review";
        job.args_json = R"({"pr_number":7,"review_app":"hello-review-pr7"})";
        ASSERT_TRUE((*st)->accept(d, {job}).has_value());
    }
    auto r = explain({"--delivery", "prune-hello-review-1765000000000", "-c", config_.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out,
              "delivery: prune-hello-review-1765000000000 is not a webhook: linkpilot's "
              "review-app pruner recorded it at 2025-12-06T05:46:40Z (no rule evaluates it)\n"
              "sweep of: hello-review\n"
              "deletions queued: 1\n"
              "  hello-review-pr7: stale (last activity 2025-11-01T10:00:00Z)\n"
              "its jobs: linkpilot jobs --json (delivery prune-hello-review-1765000000000)\n");
    EXPECT_EQ(r.out.find("not handled"), std::string::npos);
    auto j = explain(
        {"--delivery", "prune-hello-review-1765000000000", "--json", "-c", config_.string()});
    ASSERT_EQ(j.code, 0) << j.err;
    auto doc = json::parse(j.out).as_object();
    EXPECT_EQ(doc.at("kind").as_string(), "prune");
    EXPECT_EQ(doc.at("plan").at("deletions").as_array().size(), 1U);
}

// The delivery is received by the real daemon (signed, over loopback), stored with its payload,
// then explained by a second process reading the same state store.
TEST_F(ExplainTest, DeliveryReceivedByARunningDaemon) {
    LINKPILOT_FIXTURES_OR_SKIP(fixtures);
    const auto payload = fixtures / "github/pull_request/labeled.json";
    Process serve(LINKPILOT_BINARY, {"serve", "-c", config_.string()});
    const unsigned short port = serve.listening_port();
    ASSERT_NE(port, 0) << serve.stderr_text();

    const std::string delivery = "explain-test-delivery-1";
    auto sent =
        testing::send_github(port, "pull_request", testing::read_file(payload), delivery, kSecret);
    ASSERT_EQ(sent.status, 202) << sent.body << sent.error;
    auto answer = json::parse(sent.body).as_object();
    EXPECT_EQ(answer.at("delivery").as_string(), delivery);
    EXPECT_EQ(answer.at("jobs").as_int64(), 1);

    auto r = explain({"--delivery", delivery, "-c", config_.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(r.out.starts_with("delivery: " + delivery + " (re-evaluated with ")) << r.out;
    EXPECT_EQ(rule_line(r.out, "review-bugs"), "match") << r.out;
    EXPECT_EQ(rule_line(r.out, "staging-follows-main"),
              "no: on: push, but the event is pull_request");
    EXPECT_EQ(rule_line(r.out, "drop-on-close"),
              R"(no: action: "labeled" does not match "closed")");
    EXPECT_NE(r.out.find("review_app hello-review pr=2 (rule review-bugs)"), std::string::npos);

    // The same verdicts as explaining the payload file directly, and in --json.
    auto direct = explain({"--provider", "github", "--event", "pull_request", "-c",
                           config_.string(), payload.string()});
    ASSERT_EQ(direct.code, 0) << direct.err;
    EXPECT_EQ(r.out.substr(r.out.find('\n') + 1), direct.out);
    auto j = explain({"--delivery", delivery, "--json", "-c", config_.string()});
    ASSERT_EQ(j.code, 0) << j.err;
    auto doc = json::parse(j.out).as_object();
    EXPECT_TRUE(doc.at("rules").as_array()[1].at("matched").as_bool());
    EXPECT_EQ(doc.at("actions").as_array().size(), 1U);

    auto unknown = explain({"--delivery", "no-such-delivery", "-c", config_.string()});
    EXPECT_EQ(unknown.code, 1);
    EXPECT_NE(unknown.err.find("no delivery no-such-delivery in the state store"),
              std::string::npos)
        << unknown.err;

    EXPECT_EQ(serve.terminate(), 0) << serve.stderr_text();
}

}  // namespace
}  // namespace linkpilot
