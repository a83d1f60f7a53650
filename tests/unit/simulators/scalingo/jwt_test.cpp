#include "simulators/scalingo/jwt.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace linkpilot::simulator {
namespace {

using std::chrono::seconds;
const std::chrono::system_clock::time_point kT0{seconds{1'700'000'000}};

TEST(Simulator_Jwt, VerifiesATokenItIssued) {
    JwtSigner signer("fixed-key");
    const auto token = signer.issue("tk-abc", kT0);
    auto claims = signer.verify(token, kT0 + seconds{10});
    ASSERT_TRUE(claims.has_value());
    EXPECT_EQ(claims->subject, "tk-abc");
    EXPECT_EQ(claims->issued_at, kT0);
    EXPECT_EQ(claims->expires_at, kT0 + seconds{3600});
}

TEST(Simulator_Jwt, PayloadCarriesExpOneHourAfterIat) {
    JwtSigner signer("fixed-key");
    const auto token = signer.issue("s", kT0);
    const auto first = token.find('.');
    const auto second = token.find('.', first + 1);
    auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    ASSERT_TRUE(payload.has_value());
    const auto v = boost::json::parse(*payload);
    EXPECT_EQ(v.at("exp").as_int64() - v.at("iat").as_int64(), 3600);
    auto header = base64url_decode(token.substr(0, first));
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(boost::json::parse(*header).at("alg"), "HS256");
}

TEST(Simulator_Jwt, RejectsExpiredToken) {
    JwtSigner signer("fixed-key");
    const auto token = signer.issue("s", kT0);
    auto claims = signer.verify(token, kT0 + seconds{3600});
    ASSERT_FALSE(claims.has_value());
    EXPECT_EQ(claims.error(), JwtError::kExpired);
}

TEST(Simulator_Jwt, RejectsTokenFromAnotherKey) {
    JwtSigner a("key-a");
    JwtSigner b("key-b");
    auto claims = b.verify(a.issue("s", kT0), kT0);
    ASSERT_FALSE(claims.has_value());
    EXPECT_EQ(claims.error(), JwtError::kBadSignature);
}

TEST(Simulator_Jwt, RejectsTokensAfterRotate) {
    JwtSigner signer;
    const auto token = signer.issue("s", kT0);
    ASSERT_TRUE(signer.verify(token, kT0).has_value());
    signer.rotate();
    EXPECT_FALSE(signer.verify(token, kT0).has_value());
}

TEST(Simulator_Jwt, RejectsTamperedPayload) {
    JwtSigner signer("fixed-key");
    auto token = signer.issue("s", kT0);
    const auto first = token.find('.');
    token[first + 3] = token[first + 3] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(signer.verify(token, kT0).has_value());
}

TEST(Simulator_Jwt, RejectsGarbage) {
    JwtSigner signer("fixed-key");
    for (const char* bad : {"", "abc", "a.b", "a.b.c.d", "..", "!!.??.**"}) {
        auto r = signer.verify(bad, kT0);
        EXPECT_FALSE(r.has_value()) << bad;
    }
}

TEST(Simulator_Base64, RoundTripsUrlAlphabetWithoutPadding) {
    const std::string bytes("\xfb\xff\x00\x01 hello", 10);
    const auto text = base64url_encode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    auto back = base64url_decode(text);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, bytes);
}

TEST(Simulator_Base64, DecodesBasicAuthCredentials) {
    auto v = base64_decode("OnRrLXNlY3JldA==");  // ":tk-secret"
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, ":tk-secret");
}

}  // namespace
}  // namespace linkpilot::simulator
