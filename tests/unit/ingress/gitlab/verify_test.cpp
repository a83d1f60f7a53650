#include "daemon/ingress/gitlab/verify.hpp"

#include <gtest/gtest.h>

namespace linkpilot::ingress::gitlab {
namespace {

using config::Secret;

std::vector<Secret> tokens(std::initializer_list<std::string_view> values) {
    std::vector<Secret> out;
    for (auto v : values) {
        out.emplace_back(std::string(v));
    }
    return out;
}

TEST(Ingress_GitlabVerify, MatchingTokenIsOk) {
    EXPECT_EQ(verify_token("s3cr3t", tokens({"s3cr3t"})), Verdict::ok);
}

TEST(Ingress_GitlabVerify, WrongTokenIsMismatch) {
    EXPECT_EQ(verify_token("s3cr3T", tokens({"s3cr3t"})), Verdict::mismatch);
    EXPECT_EQ(verify_token("s3cr3", tokens({"s3cr3t"})), Verdict::mismatch);  // prefix
    EXPECT_EQ(verify_token("s3cr3tt", tokens({"s3cr3t"})), Verdict::mismatch);
}

TEST(Ingress_GitlabVerify, MissingTokenIsMissing) {
    EXPECT_EQ(verify_token(std::nullopt, tokens({"s3cr3t"})), Verdict::missing);
    EXPECT_EQ(verify_token(std::string_view(), tokens({"s3cr3t"})), Verdict::missing);
}

TEST(Ingress_GitlabVerify, RotatedSecondTokenIsOk) {
    EXPECT_EQ(verify_token("old", tokens({"new", "old"})), Verdict::ok);
}

// Fail closed (issue 22): without a token nothing verifies.
TEST(Ingress_GitlabVerify, NoTokenConfiguredVerifiesNothing) {
    EXPECT_EQ(verify_token(std::nullopt, {}), Verdict::missing);
    EXPECT_EQ(verify_token("anything", {}), Verdict::mismatch);
}

TEST(Ingress_GitlabVerify, VerdictNamesNeverContainTokens) {
    EXPECT_EQ(to_string(Verdict::mismatch), "token mismatch");
    EXPECT_EQ(to_string(Verdict::missing), "missing token");
}

}  // namespace
}  // namespace linkpilot::ingress::gitlab
