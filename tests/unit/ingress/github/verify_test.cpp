#include "daemon/ingress/github/verify.hpp"

#include <gtest/gtest.h>

namespace linkpilot::ingress::github {
namespace {

using config::Secret;

// HMAC-SHA256 of kBody keyed with "It's a Secret to Everybody": the worked example in GitHub's
// "Validating webhook deliveries" documentation, computed independently with
// `printf 'Hello, World!' | openssl dgst -sha256 -hmac "It's a Secret to Everybody"`.
constexpr std::string_view kBody = "Hello, World!";
constexpr std::string_view kSecret = "It's a Secret to Everybody";
constexpr std::string_view kSignature =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

std::vector<Secret> secrets(std::initializer_list<std::string_view> values) {
    std::vector<Secret> out;
    for (auto v : values) {
        out.emplace_back(std::string(v));
    }
    return out;
}

TEST(Ingress_GithubVerify, ValidSignatureIsOk) {
    EXPECT_EQ(verify_signature(kBody, kSignature, secrets({kSecret})), Verdict::ok);
}

TEST(Ingress_GithubVerify, UppercaseHexIsAccepted) {
    std::string upper(kSignature);
    for (std::size_t i = 7; i < upper.size(); ++i) {
        upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    }
    EXPECT_EQ(verify_signature(kBody, upper, secrets({kSecret})), Verdict::ok);
}

TEST(Ingress_GithubVerify, WrongSecretIsMismatch) {
    EXPECT_EQ(verify_signature(kBody, kSignature, secrets({"another secret"})), Verdict::mismatch);
}

TEST(Ingress_GithubVerify, TamperedBodyIsMismatch) {
    EXPECT_EQ(verify_signature("Hello, World?", kSignature, secrets({kSecret})), Verdict::mismatch);
}

TEST(Ingress_GithubVerify, MissingHeaderWithSecretIsMissing) {
    EXPECT_EQ(verify_signature(kBody, std::nullopt, secrets({kSecret})), Verdict::missing);
    EXPECT_EQ(verify_signature(kBody, std::string_view(), secrets({kSecret})), Verdict::missing);
}

TEST(Ingress_GithubVerify, MalformedHeadersAreMalformed) {
    const auto s = secrets({kSecret});
    const std::string hex(kSignature.substr(7));
    EXPECT_EQ(verify_signature(kBody, hex, s), Verdict::malformed);  // no prefix
    EXPECT_EQ(verify_signature(kBody, "sha1=" + hex, s), Verdict::malformed);
    EXPECT_EQ(verify_signature(kBody, "sha256=" + hex.substr(1), s), Verdict::malformed);
    EXPECT_EQ(verify_signature(kBody, "sha256=" + hex + "00", s), Verdict::malformed);
    EXPECT_EQ(verify_signature(kBody, "sha256=" + std::string(64, 'g'), s), Verdict::malformed);
    EXPECT_EQ(verify_signature(kBody, "sha256=", s), Verdict::malformed);
}

TEST(Ingress_GithubVerify, RotatedSecondSecretIsOk) {
    EXPECT_EQ(verify_signature(kBody, kSignature, secrets({"new secret", kSecret})), Verdict::ok);
}

// Fail closed (issue 22): without a secret nothing verifies, whatever the header says.
TEST(Ingress_GithubVerify, NoSecretConfiguredVerifiesNothing) {
    EXPECT_EQ(verify_signature(kBody, std::nullopt, {}), Verdict::missing);
    EXPECT_EQ(verify_signature(kBody, "garbage", {}), Verdict::malformed);
    EXPECT_EQ(verify_signature(kBody, kSignature, {}), Verdict::mismatch);
}

TEST(Ingress_GithubVerify, EmptyConfiguredSecretStillRequiresSignature) {
    EXPECT_EQ(verify_signature(kBody, std::nullopt, secrets({""})), Verdict::missing);
    EXPECT_EQ(verify_signature(kBody, kSignature, secrets({""})), Verdict::mismatch);
}

TEST(Ingress_GithubVerify, VerdictNamesNeverContainSecrets) {
    EXPECT_EQ(to_string(Verdict::mismatch), "signature mismatch");
    EXPECT_EQ(to_string(Verdict::missing), "missing signature");
    EXPECT_EQ(to_string(Verdict::malformed), "malformed signature");
}

}  // namespace
}  // namespace linkpilot::ingress::github
