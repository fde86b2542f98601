#include "search/pareto.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace evolv {
namespace {

TEST(ParetoTest, DominanceNeedsOneStrictImprovement) {
  EXPECT_TRUE(Dominates({1, 2}, {2, 2}));
  EXPECT_FALSE(Dominates({1, 2}, {1, 2}));
  EXPECT_FALSE(Dominates({1, 3}, {2, 2}));
  EXPECT_TRUE(Dominates({1, 2}, {NAN, 2}));
}

TEST(ParetoTest, NondominatedSortLayersFronts) {
  const std::vector<Objectives> points = {{1, 5}, {2, 2}, {5, 1}, {3, 3}, {6, 6}, {2, 4}};
  const auto fronts = NondominatedSort(points);
  ASSERT_EQ(fronts.size(), 3u);
  EXPECT_EQ(fronts[0], (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(fronts[1], (std::vector<size_t>{3, 5}));
  EXPECT_EQ(fronts[2], (std::vector<size_t>{4}));
}

TEST(ParetoTest, CrowdingGivesBoundariesInfinity) {
  const std::vector<Objectives> points = {{0, 4}, {1, 3}, {2, 1}, {4, 0}};
  const auto d = CrowdingDistance(points, {0, 1, 2, 3});
  EXPECT_TRUE(std::isinf(d[0]));
  EXPECT_TRUE(std::isinf(d[3]));
  EXPECT_NEAR(d[1], 2.0 / 4 + 3.0 / 4, 1e-12);
  EXPECT_NEAR(d[2], 3.0 / 4 + 3.0 / 4, 1e-12);
}

TEST(ParetoTest, FrontDropsDominatedAndDuplicates) {
  const std::vector<Objectives> points = {{1, 5}, {1, 5}, {2, 6}, {0, 9}};
  EXPECT_EQ(ParetoFront(points), (std::vector<size_t>{0, 3}));
}

}  // namespace
}  // namespace evolv
