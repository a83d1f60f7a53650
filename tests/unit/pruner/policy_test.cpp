#include "daemon/pruner/policy.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/fake_clock.hpp"

namespace linkpilot::pruner {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr const char* kParent = "shop-staging";

rules::PatternList protect(const std::vector<std::string>& globs) {
    std::vector<rules::Pattern> out;
    for (const auto& g : globs) {
        auto p = rules::Pattern::compile(g, rules::PatternSyntax::text);
        EXPECT_TRUE(p.has_value()) << g;
        out.push_back(std::move(*p));
    }
    return rules::PatternList(std::move(out));
}

// A table row: name, parent, and ages (relative to the test clock's now) of the review app's
// creation, its last deployment and its PR's closure; nullopt leaves the date unset.
struct Row {
    Row(std::string n, std::optional<minutes> created, std::optional<minutes> deployed,
        std::optional<minutes> closed, std::string p = kParent,
        std::optional<std::uint64_t> number = std::nullopt)
        : name(std::move(n)),
          created_ago(created),
          deployed_ago(deployed),
          closed_ago(closed),
          parent(std::move(p)),
          pr(number) {}
    std::string name;
    std::optional<minutes> created_ago;
    std::optional<minutes> deployed_ago;
    std::optional<minutes> closed_ago;
    std::string parent;
    std::optional<std::uint64_t> pr;
};

class PrunerPolicy : public ::testing::Test {
  protected:
    PrunerPolicy() {
        cfg_.apps = {kParent};
        cfg_.max_deletions_per_sweep = 100;
    }

    [[nodiscard]] scalingo::ReviewApp review_app(const Row& r) const {
        const auto now = clock_.now();
        scalingo::ReviewApp ra;
        ra.app_name = r.name;
        ra.parent_app_name = r.parent;
        if (r.created_ago) {
            ra.created_at = now - *r.created_ago;
        }
        if (r.deployed_ago) {
            ra.last_deployment = scalingo::Deployment{};
            ra.last_deployment->created_at = now - *r.deployed_ago;
        }
        if (r.pr || r.closed_ago) {
            ra.pull_request = scalingo::PullRequest{};
            ra.pull_request->number = r.pr.value_or(0);
            if (r.closed_ago) {
                ra.pull_request->closed_at = now - *r.closed_ago;
            }
        }
        return ra;
    }

    Plan run(const std::vector<Row>& rows, std::optional<std::size_t> budget = std::nullopt,
             const std::vector<std::string>& queued = {}) {
        std::vector<scalingo::ReviewApp> listing;
        for (const auto& r : rows) {
            listing.push_back(review_app(r));
        }
        return select(cfg_, kParent, listing, clock_.now(),
                      budget.value_or(cfg_.max_deletions_per_sweep), queued);
    }

    static const Decision& find(const Plan& plan, const std::string& name) {
        for (const auto& d : plan.decisions) {
            if (d.app_name == name) {
                return d;
            }
        }
        ADD_FAILURE() << "no decision for " << name;
        static const Decision kNone;  // NOLINT: read-only sentinel for a failed lookup
        return kNone;
    }

    static std::vector<std::string> deleted(const Plan& plan) {
        std::vector<std::string> out;
        for (const auto& d : plan.decisions) {
            if (d.remove) {
                out.push_back(d.app_name);
            }
        }
        return out;
    }

    static void expect(const Plan& plan, const std::string& name, bool remove, Reason reason,
                       std::optional<Reason> candidate_for = std::nullopt) {
        const auto& d = find(plan, name);
        EXPECT_EQ(d.remove, remove) << name;
        EXPECT_EQ(d.reason, reason) << name << ": " << to_string(d.reason);
        EXPECT_EQ(d.candidate_for, candidate_for) << name;
    }

    testing::FakeClock clock_;
    config::Prune cfg_;
};

TEST_F(PrunerPolicy, KeepsAnActiveReviewAppWhenNothingApplies) {
    cfg_.stale_after = hours(72);
    cfg_.closed_after = hours(1);
    cfg_.keep_at_most = 10;
    const auto plan = run({{"shop-staging-pr1", hours(2), hours(1), std::nullopt}});
    ASSERT_EQ(plan.decisions.size(), 1U);
    expect(plan, "shop-staging-pr1", false, Reason::active);
    EXPECT_EQ(plan.deletions(), 0U);
}

TEST_F(PrunerPolicy, DeletesAReviewAppClosedLongerThanClosedAfter) {
    cfg_.closed_after = hours(1);
    const auto plan = run({{"shop-staging-pr1", hours(5), hours(5), hours(2)},
                           {"shop-staging-pr2", hours(5), hours(5), minutes(30)}});
    expect(plan, "shop-staging-pr1", true, Reason::closed);
    expect(plan, "shop-staging-pr2", false, Reason::active);
}

TEST_F(PrunerPolicy, ClosedAfterIsReachedExactlyAtTheLimit) {
    cfg_.closed_after = hours(1);
    const auto plan = run({{"shop-staging-pr1", hours(5), hours(5), hours(1)}});
    expect(plan, "shop-staging-pr1", true, Reason::closed);
}

TEST_F(PrunerPolicy, KeepsAnOpenPullRequestWhateverClosedAfterSays) {
    cfg_.closed_after = hours(0);
    const auto plan = run({{"shop-staging-pr1", hours(500), hours(500), std::nullopt, kParent, 1}});
    expect(plan, "shop-staging-pr1", false, Reason::active);
}

TEST_F(PrunerPolicy, DeletesAStaleReviewAppByItsNewestActivity) {
    cfg_.stale_after = hours(72);
    const auto plan = run({
        {"shop-staging-pr1", hours(100), hours(80), std::nullopt},  // both old: stale
        {"shop-staging-pr2", hours(100), hours(10), std::nullopt},  // redeployed lately
        {"shop-staging-pr3", hours(10), std::nullopt, std::nullopt},
        {"shop-staging-pr4", hours(100), std::nullopt, std::nullopt},  // no deployment
    });
    expect(plan, "shop-staging-pr1", true, Reason::stale);
    expect(plan, "shop-staging-pr2", false, Reason::active);
    expect(plan, "shop-staging-pr3", false, Reason::active);
    expect(plan, "shop-staging-pr4", true, Reason::stale);
}

TEST_F(PrunerPolicy, NeverCallsStaleAReviewAppWithoutAnyDate) {
    cfg_.stale_after = hours(1);
    const auto plan = run({{"shop-staging-pr1", std::nullopt, std::nullopt, std::nullopt}});
    expect(plan, "shop-staging-pr1", false, Reason::active);
}

TEST_F(PrunerPolicy, LeavesReasonsOffWhenTheirSettingIsAbsent) {
    const auto plan = run({{"shop-staging-pr1", hours(1000), hours(1000), hours(1000)}});
    expect(plan, "shop-staging-pr1", false, Reason::active);
}

TEST_F(PrunerPolicy, ClosedWinsOverStaleAsTheReason) {
    cfg_.closed_after = hours(1);
    cfg_.stale_after = hours(1);
    const auto plan = run({{"shop-staging-pr1", hours(10), hours(10), hours(5)}});
    expect(plan, "shop-staging-pr1", true, Reason::closed);
}

TEST_F(PrunerPolicy, DeletesBeyondKeepAtMostOldestActivityFirst) {
    cfg_.keep_at_most = 2;
    const auto plan = run({
        {"shop-staging-pr1", hours(50), hours(1), std::nullopt},  // newest activity
        {"shop-staging-pr2", hours(40), std::nullopt, std::nullopt},
        {"shop-staging-pr3", hours(30), hours(20), std::nullopt},
        {"shop-staging-pr4", hours(5), std::nullopt, std::nullopt},
    });
    EXPECT_EQ(deleted(plan), (std::vector<std::string>{"shop-staging-pr2", "shop-staging-pr3"}));
    expect(plan, "shop-staging-pr2", true, Reason::over_cap);
    expect(plan, "shop-staging-pr1", false, Reason::active);
    expect(plan, "shop-staging-pr4", false, Reason::active);
}

TEST_F(PrunerPolicy, BreaksActivityTiesByNameWhenOverTheCap) {
    cfg_.keep_at_most = 1;
    const auto plan = run({
        {"shop-staging-pr9", hours(10), std::nullopt, std::nullopt},
        {"shop-staging-pr10", hours(10), std::nullopt, std::nullopt},
        {"shop-staging-pr11", hours(10), std::nullopt, std::nullopt},
    });
    // Same activity: the smallest names go first; "pr9" sorts last and stays.
    EXPECT_EQ(deleted(plan), (std::vector<std::string>{"shop-staging-pr10", "shop-staging-pr11"}));
    expect(plan, "shop-staging-pr9", false, Reason::active);
}

TEST_F(PrunerPolicy, CountsUnknownActivityAsNewestWhenOverTheCap) {
    cfg_.keep_at_most = 1;
    const auto plan = run({
        {"shop-staging-pr1", std::nullopt, std::nullopt, std::nullopt},
        {"shop-staging-pr2", hours(1), std::nullopt, std::nullopt},
    });
    EXPECT_EQ(deleted(plan), (std::vector<std::string>{"shop-staging-pr2"}));
}

TEST_F(PrunerPolicy, CountsTheCapAfterClosedAndStaleDeletions) {
    cfg_.keep_at_most = 2;
    cfg_.closed_after = hours(1);
    const auto plan = run({
        {"shop-staging-pr1", hours(50), std::nullopt, hours(2)},  // closed: goes anyway
        {"shop-staging-pr2", hours(40), std::nullopt, std::nullopt},
        {"shop-staging-pr3", hours(30), std::nullopt, std::nullopt},
    });
    EXPECT_EQ(deleted(plan), (std::vector<std::string>{"shop-staging-pr1"}));
    expect(plan, "shop-staging-pr1", true, Reason::closed);
}

TEST_F(PrunerPolicy, NeverDeletesAProtectedReviewApp) {
    cfg_.closed_after = hours(1);
    cfg_.stale_after = hours(1);
    cfg_.protect = protect({"shop-staging-pr1", "*-pr7?"});
    const auto plan = run({
        {"shop-staging-pr1", hours(50), hours(50), hours(20)},
        {"shop-staging-pr71", hours(50), hours(50), std::nullopt},
        {"shop-staging-pr8", hours(50), hours(50), std::nullopt},
    });
    expect(plan, "shop-staging-pr1", false, Reason::protected_app, Reason::closed);
    expect(plan, "shop-staging-pr71", false, Reason::protected_app, Reason::stale);
    expect(plan, "shop-staging-pr8", true, Reason::stale);
}

TEST_F(PrunerPolicy, ProtectsNothingWithAnEmptyProtectList) {
    cfg_.stale_after = hours(1);
    const auto plan = run({{"shop-staging-pr1", hours(5), hours(5), std::nullopt}});
    expect(plan, "shop-staging-pr1", true, Reason::stale);
}

TEST_F(PrunerPolicy, CountsProtectedAppsTowardsTheCapWithoutDeletingThem) {
    cfg_.keep_at_most = 2;
    cfg_.protect = protect({"shop-staging-pr1", "shop-staging-pr2"});
    const auto plan = run({
        {"shop-staging-pr1", hours(90), std::nullopt, std::nullopt},  // oldest, protected
        {"shop-staging-pr2", hours(80), std::nullopt, std::nullopt},  // protected
        {"shop-staging-pr3", hours(1), std::nullopt, std::nullopt},   // newest, not protected
    });
    EXPECT_EQ(deleted(plan), (std::vector<std::string>{"shop-staging-pr3"}));
    expect(plan, "shop-staging-pr3", true, Reason::over_cap);
    expect(plan, "shop-staging-pr1", false, Reason::protected_app);
}

TEST_F(PrunerPolicy, NeverDeletesAnAppOfAnotherParent) {
    cfg_.closed_after = hours(1);
    cfg_.stale_after = hours(1);
    cfg_.keep_at_most = 0;
    const auto plan = run({
        {"other-pr1", hours(50), hours(50), hours(20), "other"},
        {"shop-staging-pr2", hours(50), hours(50), hours(20), ""},
    });
    EXPECT_EQ(plan.deletions(), 0U);
    expect(plan, "other-pr1", false, Reason::wrong_parent);
    expect(plan, "shop-staging-pr2", false, Reason::wrong_parent);
}

TEST_F(PrunerPolicy, LeavesOtherParentsOutOfTheCap) {
    cfg_.keep_at_most = 1;
    const auto plan = run({
        {"other-pr1", hours(1), std::nullopt, std::nullopt, "other"},
        {"shop-staging-pr2", hours(50), std::nullopt, std::nullopt},
    });
    EXPECT_EQ(plan.deletions(), 0U);
}

TEST_F(PrunerPolicy, NeverDeletesAnUnnamedEntry) {
    cfg_.stale_after = hours(1);
    const auto plan = run({{"", hours(50), hours(50), std::nullopt}});
    ASSERT_EQ(plan.decisions.size(), 1U);
    EXPECT_FALSE(plan.decisions[0].remove);
    EXPECT_EQ(plan.decisions[0].reason, Reason::unnamed);
}

TEST_F(PrunerPolicy, DecidesAnAppListedTwiceOnlyOnce) {
    cfg_.stale_after = hours(1);
    const auto plan = run({{"shop-staging-pr1", hours(50), hours(50), std::nullopt},
                           {"shop-staging-pr1", hours(50), hours(50), std::nullopt}});
    ASSERT_EQ(plan.decisions.size(), 2U);
    EXPECT_EQ(plan.deletions(), 1U);
    EXPECT_EQ(plan.decisions[1].reason, Reason::duplicate);
}

TEST_F(PrunerPolicy, SkipsAppsWhoseDeletionIsAlreadyQueued) {
    cfg_.stale_after = hours(1);
    cfg_.keep_at_most = 1;
    const auto plan = run(
        {
            {"shop-staging-pr1", hours(50), hours(50), std::nullopt},  // stale, queued
            {"shop-staging-pr2", minutes(30), std::nullopt, std::nullopt, kParent, 2},  // queued
            {"shop-staging-pr3", hours(0), std::nullopt, std::nullopt},
        },
        std::nullopt, {"shop-staging-pr1", "shop-staging-pr2"});
    expect(plan, "shop-staging-pr1", false, Reason::queued, Reason::stale);
    expect(plan, "shop-staging-pr2", false, Reason::queued);
    // Both queued ones are on their way out: pr3 alone is within the cap.
    expect(plan, "shop-staging-pr3", false, Reason::active);
}

TEST_F(PrunerPolicy, StopsAtTheBudgetClosedFirstThenStaleThenOverCap) {
    cfg_.closed_after = hours(1);
    cfg_.stale_after = hours(48);
    cfg_.keep_at_most = 1;
    const auto plan = run(
        {
            {"shop-staging-pr1", hours(100), std::nullopt, std::nullopt},  // stale, oldest
            {"shop-staging-pr2", hours(60), std::nullopt, std::nullopt},   // stale
            {"shop-staging-pr3", hours(9), std::nullopt, hours(3)},        // closed
            {"shop-staging-pr4", hours(9), std::nullopt, hours(5)},        // closed earlier
            {"shop-staging-pr5", hours(5), std::nullopt, std::nullopt},    // over the cap
            {"shop-staging-pr6", hours(1), std::nullopt, std::nullopt},    // newest: kept
        },
        3);
    EXPECT_EQ(deleted(plan), (std::vector<std::string>{"shop-staging-pr1", "shop-staging-pr3",
                                                       "shop-staging-pr4"}));
    expect(plan, "shop-staging-pr4", true, Reason::closed);
    expect(plan, "shop-staging-pr1", true, Reason::stale);
    expect(plan, "shop-staging-pr2", false, Reason::limit_reached, Reason::stale);
    expect(plan, "shop-staging-pr5", false, Reason::limit_reached, Reason::over_cap);
    expect(plan, "shop-staging-pr6", false, Reason::active);
}

TEST_F(PrunerPolicy, DeletesNothingWithAZeroBudget) {
    cfg_.stale_after = hours(1);
    const auto plan = run({{"shop-staging-pr1", hours(5), std::nullopt, std::nullopt}}, 0);
    expect(plan, "shop-staging-pr1", false, Reason::limit_reached, Reason::stale);
}

// The cap, protection and the per-sweep limit together: 7 review apps, keep 3, two protected
// (one of them closed), one of another parent, at most 2 deletions.
TEST_F(PrunerPolicy, CombinesCapProtectionAndTheSweepLimit) {
    cfg_.closed_after = hours(1);
    cfg_.keep_at_most = 3;
    cfg_.protect = protect({"shop-staging-pr1", "shop-staging-pr2"});
    cfg_.max_deletions_per_sweep = 2;
    const auto plan = run({
        {"shop-staging-pr1", hours(100), std::nullopt, hours(10)},    // protected, closed
        {"shop-staging-pr2", hours(90), std::nullopt, std::nullopt},  // protected
        {"shop-staging-pr3", hours(80), std::nullopt, std::nullopt},
        {"shop-staging-pr4", hours(70), std::nullopt, hours(2)},  // closed
        {"shop-staging-pr5", hours(60), std::nullopt, std::nullopt},
        {"shop-staging-pr6", hours(50), std::nullopt, std::nullopt},
        {"shop-staging-pr7", hours(40), std::nullopt, std::nullopt},
        {"other-pr8", hours(200), std::nullopt, hours(100), "other"},
    });
    // After pr4 (closed) goes, 6 of ours remain (pr1, pr2 protected) for a cap of 3: the 3
    // oldest unprotected (pr3, pr5, pr6) are over it. The limit of 2 takes pr4 first (closed),
    // then pr3 (oldest over the cap); pr5 and pr6 wait for the next sweep.
    EXPECT_EQ(deleted(plan), (std::vector<std::string>{"shop-staging-pr3", "shop-staging-pr4"}));
    expect(plan, "shop-staging-pr1", false, Reason::protected_app, Reason::closed);
    expect(plan, "shop-staging-pr2", false, Reason::protected_app);
    expect(plan, "shop-staging-pr3", true, Reason::over_cap);
    expect(plan, "shop-staging-pr4", true, Reason::closed);
    expect(plan, "shop-staging-pr5", false, Reason::limit_reached, Reason::over_cap);
    expect(plan, "shop-staging-pr6", false, Reason::limit_reached, Reason::over_cap);
    expect(plan, "shop-staging-pr7", false, Reason::active);
    expect(plan, "other-pr8", false, Reason::wrong_parent);
}

TEST_F(PrunerPolicy, ReadsThePullRequestNumberFromTheListingOrTheName) {
    const auto plan = run({{"shop-staging-pr12", hours(1), std::nullopt, std::nullopt},
                           {"custom-name", hours(1), std::nullopt, std::nullopt, kParent, 34},
                           {"shop-staging-prx", hours(1), std::nullopt, std::nullopt}});
    EXPECT_EQ(find(plan, "shop-staging-pr12").pr_number, 12U);
    EXPECT_EQ(find(plan, "custom-name").pr_number, 34U);
    EXPECT_EQ(find(plan, "shop-staging-prx").pr_number, std::nullopt);
}

TEST_F(PrunerPolicy, SortsDecisionsByName) {
    const auto plan = run({{"shop-staging-pr3", hours(1), std::nullopt, std::nullopt},
                           {"shop-staging-pr1", hours(1), std::nullopt, std::nullopt},
                           {"shop-staging-pr2", hours(1), std::nullopt, std::nullopt}});
    ASSERT_EQ(plan.decisions.size(), 3U);
    EXPECT_EQ(plan.decisions[0].app_name, "shop-staging-pr1");
    EXPECT_EQ(plan.decisions[2].app_name, "shop-staging-pr3");
}

TEST_F(PrunerPolicy, AgesByTheNewestOfCreationAndLastDeployment) {
    scalingo::ReviewApp ra;
    EXPECT_EQ(activity_of(ra), std::nullopt);
    const auto now = clock_.now();
    ra.created_at = now - hours(5);
    EXPECT_EQ(activity_of(ra), now - hours(5));
    ra.last_deployment = scalingo::Deployment{};
    ra.last_deployment->created_at = now - hours(1);
    EXPECT_EQ(activity_of(ra), now - hours(1));
    ra.last_deployment->created_at = now - hours(9);
    EXPECT_EQ(activity_of(ra), now - hours(5));
    ra.created_at.reset();
    EXPECT_EQ(activity_of(ra), now - hours(9));
}

TEST_F(PrunerPolicy, MovesWithTheInjectedClock) {
    cfg_.stale_after = hours(72);
    const std::vector<Row> rows{{"shop-staging-pr1", hours(70), std::nullopt, std::nullopt}};
    std::vector<scalingo::ReviewApp> listing{review_app(rows[0])};
    EXPECT_EQ(select(cfg_, kParent, listing, clock_.now(), 5).deletions(), 0U);
    clock_.advance(hours(2));
    EXPECT_EQ(select(cfg_, kParent, listing, clock_.now(), 5).deletions(), 1U);
}

}  // namespace
}  // namespace linkpilot::pruner
