#include "daemon/scalingo/types.hpp"

#include <gtest/gtest.h>

namespace linkpilot::scalingo {
namespace {

TEST(Scalingo_Types, ReviewAppNameIsParentDashPrN) {
    EXPECT_EQ(review_app_name("shop-staging", 42), "shop-staging-pr42");
}

TEST(Scalingo_Types, ReviewAppNumberReadsOnlyTheParentsReviewApps) {
    EXPECT_EQ(review_app_number("shop", "shop-pr7"), 7U);
    EXPECT_EQ(review_app_number("shop", review_app_name("shop", 123456)), 123456U);
    // Another parent's review app, even one whose name starts with this parent's.
    EXPECT_EQ(review_app_number("shop", "shop-staging-pr7"), std::nullopt);
    EXPECT_EQ(review_app_number("shop-staging", "shop-pr7"), std::nullopt);
    // Not a number, trailing text, zero, empty.
    EXPECT_EQ(review_app_number("shop", "shop-prx"), std::nullopt);
    EXPECT_EQ(review_app_number("shop", "shop-pr7-old"), std::nullopt);
    EXPECT_EQ(review_app_number("shop", "shop-pr0"), std::nullopt);
    EXPECT_EQ(review_app_number("shop", "shop-pr"), std::nullopt);
    EXPECT_EQ(review_app_number("shop", "shop"), std::nullopt);
}

}  // namespace
}  // namespace linkpilot::scalingo
