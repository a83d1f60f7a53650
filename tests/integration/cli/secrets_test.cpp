// Issue 22: a command reads only the secrets it uses (SPEC 1), `check` fails closed on webhook
// providers, and a missing config names every path tried. The real binary, run as an operator
// would: no Scalingo token nor webhook secret in its environment, no $CREDENTIALS_DIRECTORY.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace linkpilot {
namespace {

using testing::Process;

struct Run {
    int code = -1;
    std::string out;
    std::string err;
};

// `cwd`: the directory the binary runs in (through sh, so a relative path means what an
// operator's shell would make of it).
Run linkpilot(const std::vector<std::string>& args, const std::filesystem::path& cwd = {}) {
    std::string script = cwd.empty() ? "exec \"$0\"" : "cd \"$1\" && exec \"$0\"";
    std::vector<std::string> argv = {"-c", "", LINKPILOT_BINARY};
    if (!cwd.empty()) {
        argv.push_back(cwd.string());
    }
    const std::size_t first = cwd.empty() ? 1 : 2;
    for (std::size_t i = 0; i < args.size(); ++i) {
        script += " \"${" + std::to_string(i + first) + "}\"";
        argv.push_back(args[i]);
    }
    // The variables the config names are unset whatever the test's own environment holds.
    argv[1] = "unset LP_TEST_SCALINGO_TOKEN LP_TEST_GITLAB_TOKEN CREDENTIALS_DIRECTORY; " + script;
    Process p("/bin/sh", argv);
    Run r;
    r.code = p.wait(std::chrono::seconds(30)).value_or(-1);
    r.out = p.stdout_text();
    r.err = p.stderr_text();
    return r;
}

class Cli_Secrets : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::make_temp_dir("linkpilot-secrets"); }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& yaml) {
        const auto path = dir_ / name;
        std::ofstream(path) << yaml;
        return path.string();
    }
    // A production config as a systemd host has it: every secret from the environment or a
    // credential file relative to $CREDENTIALS_DIRECTORY.
    std::string production(const std::string& scalingo_token_line) {
        return write("linkpilot.yaml",
                     "version: 1\n"
                     "state: { path: \"" +
                         (dir_ / "state.db").string() +
                         "\" }\n"
                         "scalingo:\n  " +
                         scalingo_token_line +
                         "\n"
                         "providers:\n"
                         "  github: { secret_files: [github-webhook-secret] }\n"
                         "  gitlab: { tokens: [\"${LP_TEST_GITLAB_TOKEN}\"] }\n"
                         "rules:\n"
                         "  - { name: staging, on: push, deploy: { app: shop-staging } }\n");
    }

    std::filesystem::path dir_;
};

TEST_F(Cli_Secrets, OperatorCommandsRunWithoutAnySecret) {
    for (const std::string token_line :
         {"token: \"${LP_TEST_SCALINGO_TOKEN}\"", "token_file: scalingo-api-token"}) {
        const auto cfg = production(token_line);
        auto jobs = linkpilot({"jobs", "-c", cfg});
        EXPECT_EQ(jobs.code, 0) << token_line << "\n" << jobs.err;
        EXPECT_EQ(jobs.err, "") << token_line;
        auto json = linkpilot({"jobs", "--json", "-c", cfg});
        EXPECT_EQ(json.code, 0) << json.err;
        EXPECT_EQ(json.out, "[]\n");
        auto migrate = linkpilot({"migrate", "-c", cfg});
        EXPECT_EQ(migrate.code, 0) << migrate.err;
        // retry reaches the store: the job is unknown, the config is fine.
        auto retry = linkpilot({"retry", "42", "-c", cfg});
        EXPECT_EQ(retry.code, 1);
        EXPECT_EQ(retry.err.find("invalid config"), std::string::npos) << retry.err;
        EXPECT_NE(retry.err.find("42"), std::string::npos) << retry.err;
        auto explain = linkpilot({"explain", "--delivery", "nope", "-c", cfg});
        EXPECT_EQ(explain.code, 1);
        EXPECT_NE(explain.err.find("no delivery nope in the state store"), std::string::npos)
            << explain.err;
    }
}

// The secrets are real requirements where they are used: serve and check need them all.
TEST_F(Cli_Secrets, CheckAndServeStillNeedEverySecret) {
    const auto cfg = production("token: \"${LP_TEST_SCALINGO_TOKEN}\"");
    auto check = linkpilot({"check", "-c", cfg});
    EXPECT_EQ(check.code, 1);
    EXPECT_NE(check.out.find("environment variable LP_TEST_SCALINGO_TOKEN is not set"),
              std::string::npos)
        << check.out;
    EXPECT_NE(check.out.find("cannot read \"github-webhook-secret\""), std::string::npos)
        << check.out;
    EXPECT_NE(check.out.find("LP_TEST_GITLAB_TOKEN is not set"), std::string::npos) << check.out;
    auto serve = linkpilot({"serve", "-c", cfg});
    EXPECT_EQ(serve.code, 1);
    EXPECT_NE(serve.err.find("LP_TEST_SCALINGO_TOKEN is not set"), std::string::npos) << serve.err;
}

// The three provider cases of the README's "Webhook endpoints fail closed".
TEST_F(Cli_Secrets, CheckFailsWhenNoProviderCanDeliverToTheRules) {
    const std::string head = "version: 1\nscalingo: { dry_run: true }\n";
    const std::string rule = "  - { name: staging, on: push, deploy: { app: shop-staging } }\n";
    auto none = linkpilot({"check", "-c", write("none.yaml", head + "rules:\n" + rule)});
    EXPECT_EQ(none.code, 1);
    EXPECT_EQ(none.out, (dir_ / "none.yaml").string() +
                            ":4:3: rules: no provider can deliver events to them: give "
                            "providers.github.secrets or providers.gitlab.tokens (or "
                            "allow_unsigned: true behind a proxy that verifies deliveries)\n");
    auto gitlab_rule = linkpilot(
        {"check", "-c",
         write("gl.yaml", head + "providers: { github: { secrets: [s3cret] } }\nrules:\n" + rule +
                              "  - { name: gl, on: push, if: { provider: gitlab },"
                              " deploy: { app: shop-gitlab } }\n")});
    EXPECT_EQ(gitlab_rule.code, 1);
    EXPECT_EQ(gitlab_rule.out,
              (dir_ / "gl.yaml").string() +
                  ":6:5: rule \"gl\": no configured provider can deliver to it: give "
                  "providers.gitlab.tokens\n");
    auto unsigned_ = linkpilot(
        {"check", "-c",
         write("unsigned.yaml",
               head + "providers: { gitlab: { allow_unsigned: true } }\nrules:\n" + rule)});
    EXPECT_EQ(unsigned_.code, 0) << unsigned_.out;
    EXPECT_EQ(unsigned_.err, (dir_ / "unsigned.yaml").string() +
                                 ":3:40: warning: providers.gitlab.allow_unsigned is true: gitlab "
                                 "deliveries without a token are accepted unverified; only safe "
                                 "behind a proxy that verifies them\n");
    EXPECT_NE(unsigned_.out.find("no GitHub endpoint, GitLab unsigned (allow_unsigned)"),
              std::string::npos)
        << unsigned_.out;
}

TEST_F(Cli_Secrets, NoConfigFileNamesEveryPathTried) {
    for (const std::string cmd : {"jobs", "check", "serve"}) {
        auto r = linkpilot({cmd}, dir_);  // no -c, and no linkpilot.yaml here
        EXPECT_EQ(r.code, 1) << cmd;
        EXPECT_EQ(r.err, "linkpilot: " + cmd +
                             ": no config file (tried linkpilot.yaml, "
                             "/etc/linkpilot/linkpilot.yaml); give one with -c FILE\n")
            << cmd;
    }
}

}  // namespace
}  // namespace linkpilot
