// token_file / secret_files / token_files under systemd's LoadCredential=: relative paths
// resolve against $CREDENTIALS_DIRECTORY.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config/load.hpp"
#include "tests/support/process.hpp"
#include "tests/unit/config/fake_env.hpp"

namespace linkpilot::config {
namespace {

using linkpilot::testing::fake_env;

class Config_Credentials : public ::testing::Test {
  protected:
    void SetUp() override { dir_ = testing::make_temp_dir("linkpilot-creds"); }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void write(const std::string& name, const std::string& value) {
        std::ofstream(dir_ / name) << value;
    }

    std::filesystem::path dir_;
};

TEST_F(Config_Credentials, RelativeTokenFileResolvesAgainstCredentialsDirectory) {
    write("scalingo-token", "tk-credential\n");
    auto r = load_string("version: 1\nscalingo: { token_file: scalingo-token }\n", "t.yaml",
                         fake_env({{"CREDENTIALS_DIRECTORY", dir_.string()}}));
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    EXPECT_EQ(r->scalingo.token.reveal(), "tk-credential");
}

TEST_F(Config_Credentials, RelativeWebhookSecretFilesResolveAgainstCredentialsDirectory) {
    write("github-secret", "gh-secret");
    write("gitlab-token", "gl-token\n");
    auto r = load_string(
        "version: 1\nscalingo: { dry_run: true }\n"
        "providers:\n"
        "  github: { secret_files: [github-secret] }\n"
        "  gitlab: { token_files: [gitlab-token] }\n",
        "t.yaml", fake_env({{"CREDENTIALS_DIRECTORY", dir_.string()}}));
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    ASSERT_EQ(r->providers.github.secrets.size(), 1u);
    EXPECT_EQ(r->providers.github.secrets[0].reveal(), "gh-secret");
    ASSERT_EQ(r->providers.gitlab.secrets.size(), 1u);
    EXPECT_EQ(r->providers.gitlab.secrets[0].reveal(), "gl-token");
}

TEST_F(Config_Credentials, AbsolutePathIgnoresCredentialsDirectory) {
    write("token", "tk-absolute");
    auto r =
        load_string("version: 1\nscalingo: { token_file: \"" + (dir_ / "token").string() + "\" }\n",
                    "t.yaml", fake_env({{"CREDENTIALS_DIRECTORY", "/nonexistent-credentials"}}));
    ASSERT_TRUE(r.has_value()) << r.error().front().to_string();
    EXPECT_EQ(r->scalingo.token.reveal(), "tk-absolute");
}

TEST_F(Config_Credentials, MissingCredentialReportsTheResolvedPathAndMark) {
    auto r = load_string("version: 1\nscalingo: { token_file: absent }\n", "t.yaml",
                         fake_env({{"CREDENTIALS_DIRECTORY", dir_.string()}}));
    ASSERT_FALSE(r.has_value());
    ASSERT_EQ(r.error().size(), 1u);
    const auto& e = r.error()[0];
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.col, 25);
    EXPECT_NE(e.message.find((dir_ / "absent").string()), std::string::npos) << e.to_string();
}

TEST_F(Config_Credentials, RelativePathWithoutCredentialsDirectoryStaysRelative) {
    auto r = load_string("version: 1\nscalingo: { token_file: no-such-linkpilot-credential }\n",
                         "t.yaml", fake_env());
    ASSERT_FALSE(r.has_value());
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_NE(r.error()[0].message.find("\"no-such-linkpilot-credential\""), std::string::npos)
        << r.error()[0].to_string();
}

}  // namespace
}  // namespace linkpilot::config
