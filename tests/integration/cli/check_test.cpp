// Runs the real `linkpilot` binary: `check`, `version` and `--help` on every subcommand.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Run {
    int exit_code = -1;
    std::string out;
    std::string err;
};

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// `env` is a prefix of VAR=value assignments for the shell.
Run run(const std::string& args, const std::string& env = "") {
    auto dir =
        std::filesystem::temp_directory_path() / ("linkpilot-cli-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string cmd = "cd " + std::string(LINKPILOT_SOURCE_DIR) + " && env -u SCALINGO_API_TOKEN " +
                      env + " " + LINKPILOT_BINARY + " " + args + " >" + (dir / "out").string() +
                      " 2>" + (dir / "err").string();
    int status = std::system(cmd.c_str());  // NOLINT(cert-env33-c): test drives the binary
    Run r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir / "out");
    r.err = slurp(dir / "err");
    std::filesystem::remove_all(dir);
    return r;
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

const std::string kSecrets =
    "SCALINGO_API_TOKEN=tk GITHUB_WEBHOOK_SECRET=gh-secret GITLAB_WEBHOOK_TOKEN=gl-token";

TEST(Cli_Check, ExampleConfigPassesWithOneLineSummary) {
    auto r = run("check -c config/examples/linkpilot.yaml", kSecrets);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 1u) << r.out;
    EXPECT_NE(out[0].find("4 rules, 2 repos patterns"), std::string::npos) << out[0];
    EXPECT_EQ(r.out.find("gh-secret"), std::string::npos) << "a secret was printed";
}

TEST(Cli_Check, EveryProblemGetsOneFileLineColLine) {
    auto r = run("check -c tests/data/config/every-problem.yaml");
    EXPECT_EQ(r.exit_code, 1);
    auto out = lines(r.out);
    EXPECT_EQ(out.size(), 16u) << r.out;
    const std::string prefix = "tests/data/config/every-problem.yaml:";
    for (const auto& l : out) {
        ASSERT_TRUE(l.starts_with(prefix)) << l;
        // LINE:COL: message
        std::istringstream rest(l.substr(prefix.size()));
        int line = 0;
        int col = 0;
        char c1 = 0;
        char c2 = 0;
        rest >> line >> c1 >> col >> c2;
        EXPECT_TRUE(rest && line > 0 && col > 0 && c1 == ':' && c2 == ':') << l;
    }
    // One line on stderr says how many problems.
    EXPECT_NE(r.err.find("16 problems"), std::string::npos) << r.err;
}

TEST(Cli_Check, SyntaxErrorPointsAtTheLine) {
    auto r = run("check -c tests/data/config/syntax-error.yaml");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out,
              "tests/data/config/syntax-error.yaml:5:12: YAML syntax error: illegal map value\n");
}

TEST(Cli_Check, MissingFileIsOneLineError) {
    auto r = run("check -c /nonexistent/linkpilot.yaml");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("/nonexistent/linkpilot.yaml: cannot read"), std::string::npos) << r.out;
}

TEST(Cli_Version, PrintsVersionWithoutConfig) {
    auto r = run("version");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.out.starts_with("linkpilot ")) << r.out;
}

TEST(Cli_Help, EverySubcommandHasHelp) {
    for (const char* sub : {"serve", "check", "explain", "prune", "jobs", "retry",
                            "simulate-scalingo", "migrate", "version"}) {
        auto r = run(std::string(sub) + " --help");
        EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.err;
        EXPECT_NE(r.out.find("Usage:"), std::string::npos) << sub;
    }
}

TEST(Cli_Usage, UnknownSubcommandIsOneLineError) {
    auto r = run("frobnicate");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
}

}  // namespace
