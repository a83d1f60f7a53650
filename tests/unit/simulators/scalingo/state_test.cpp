#include "simulators/scalingo/state.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>

#include "tests/support/process.hpp"

namespace linkpilot::simulator {
namespace {

namespace json = boost::json;
constexpr const char* kNow = "2026-01-02T03:04:05.000Z";

State seeded() {
    State s;
    auto r = apply_seed(s, json::parse(R"({
        "apps": ["shop-staging", {"name": "other-app", "status": "running"}],
        "links": [{"app": "shop-staging", "source": "https://github.com/acme/shop", "branch": "main"}],
        "pulls": [{"app": "shop-staging", "number": 7, "title": "Add cart", "branch_name": "cart"}],
        "review_apps": [{"parent": "shop-staging", "number": 7,
                         "created_at": "2026-01-01T00:00:00Z",
                         "last_deployment_at": "2026-01-01T06:00:00Z",
                         "pull_request": {"closed_at": "2026-01-01T07:00:00Z"}}]
    })"),
                        kNow);
    EXPECT_TRUE(r.has_value()) << r.error();
    return s;
}

TEST(Simulator_State, FormatsTimeAsRfc3339Utc) {
    EXPECT_EQ(format_time(std::chrono::system_clock::time_point{
                  std::chrono::milliseconds{1'700'000'000'123}}),
              "2023-11-14T22:13:20.123Z");
}

TEST(Simulator_State, SeedCreatesAppsLinksAndReviewApps) {
    const State s = seeded();
    EXPECT_NE(s.apps.if_contains("shop-staging"), nullptr);
    EXPECT_EQ(s.apps.at("other-app").at("status"), "running");
    const auto& link = s.links.at("shop-staging").as_object();
    EXPECT_EQ(link.at("owner"), "acme");
    EXPECT_EQ(link.at("repo"), "shop");
    EXPECT_EQ(link.at("scm_type"), "github");
    const auto& ra = s.review_apps.at("shop-staging-pr7").as_object();
    EXPECT_EQ(ra.at("parent_app_name"), "shop-staging");
    EXPECT_EQ(ra.at("created_at"), "2026-01-01T00:00:00Z");
    EXPECT_EQ(ra.at("last_deployment").at("created_at"), "2026-01-01T06:00:00Z");
    EXPECT_EQ(ra.at("pull_request").at("title"), "Add cart");
    EXPECT_EQ(ra.at("pull_request").at("closed_at"), "2026-01-01T07:00:00Z");
    EXPECT_EQ(ra.at("stale_deletion_date"), kZeroDate);
    EXPECT_EQ(s.apps.at("shop-staging-pr7").at("parent_app_name"), "shop-staging");
}

TEST(Simulator_State, SeedErrorNamesTheEntry) {
    State s;
    auto r = apply_seed(
        s, json::parse(R"({"links": [{"app": "nope", "source": "https://github.com/a/b"}]})"),
        kNow);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().find("links[0]"), std::string::npos) << r.error();
}

TEST(Simulator_State, JsonRoundTripKeepsEverything) {
    const State s = seeded();
    auto back = state_from_json(to_json(s));
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(to_json(*back), to_json(s));
    EXPECT_EQ(back->next_id, s.next_id);
}

TEST(Simulator_State, SaveThenLoadFromFile) {
    const auto dir = testing::make_temp_dir("sim-state");
    const auto path = dir / "state.json";
    const State s = seeded();
    auto saved = save_state_file(s, path);
    ASSERT_TRUE(saved.has_value()) << saved.error();
    EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
    auto loaded = load_state_file(path);
    ASSERT_TRUE(loaded.has_value()) << loaded.error();
    EXPECT_EQ(to_json(*loaded), to_json(s));
    std::filesystem::remove_all(dir);
}

TEST(Simulator_State, LoadRejectsCorruptFile) {
    const auto dir = testing::make_temp_dir("sim-state");
    const auto path = dir / "state.json";
    std::ofstream(path) << R"({"apps": [1, 2]})";
    EXPECT_FALSE(load_state_file(path).has_value());
    std::ofstream(path) << "{not json";
    EXPECT_FALSE(load_state_file(path).has_value());
    std::filesystem::remove_all(dir);
}

TEST(Simulator_State, DeleteAppRemovesItsReviewAppRecord) {
    State s = seeded();
    delete_app(s, "shop-staging-pr7");
    EXPECT_EQ(s.apps.if_contains("shop-staging-pr7"), nullptr);
    EXPECT_EQ(s.review_apps.if_contains("shop-staging-pr7"), nullptr);
}

TEST(Simulator_State, RedeployKeepsCreatedAtAndUpdatesLastDeployment) {
    State s = seeded();
    const auto again = deploy_review_app(s, "shop-staging", 7, kNow);
    EXPECT_EQ(again.at("created_at"), "2026-01-01T00:00:00Z");
    EXPECT_EQ(again.at("last_deployment").at("created_at"), kNow);
    EXPECT_EQ(s.deployments.at("shop-staging-pr7").as_array().size(), 2U);
}

}  // namespace
}  // namespace linkpilot::simulator
