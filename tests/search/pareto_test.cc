#include "search/pareto.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

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

// Fronts by their definition: each is the set of remaining points that no remaining point
// dominates, in input order.
std::vector<std::vector<size_t>> PeeledFronts(const std::vector<Objectives>& points) {
  std::vector<std::vector<size_t>> fronts;
  std::vector<bool> taken(points.size(), false);
  for (size_t left = points.size(); left > 0;) {
    std::vector<size_t> front;
    for (size_t p = 0; p < points.size(); ++p) {
      if (taken[p]) continue;
      bool dominated = false;
      for (size_t q = 0; q < points.size() && !dominated; ++q) {
        dominated = !taken[q] && Dominates(points[q], points[p]);
      }
      if (!dominated) front.push_back(p);
    }
    for (size_t p : front) taken[p] = true;
    left -= front.size();
    fronts.push_back(std::move(front));
  }
  return fronts;
}

TEST(ParetoTest, NondominatedSortMatchesTheDefinitionWithTiesAndNaN) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 1 + rng() % 60;
    const size_t dims = 1 + rng() % 3;
    std::vector<Objectives> points(n, Objectives(dims));
    for (auto& point : points) {
      for (double& v : point) {
        const uint64_t draw = rng() % 20;
        v = draw == 0 ? NAN : static_cast<double>(draw % 6);  // few values: many ties
      }
    }
    EXPECT_EQ(NondominatedSort(points), PeeledFronts(points)) << "trial " << trial;
  }
}

// Larger pools than the test above, with few distinct values (long fronts of ties) and with
// many (many fronts), and pools whose points have different numbers of objectives.
TEST(ParetoTest, NondominatedSortMatchesTheDefinitionOnLargePoolsAndMixedSizes) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 60; ++trial) {
    const size_t n = 100 + rng() % 200;
    const size_t dims = 1 + trial % 4;
    const uint64_t distinct = trial % 2 == 0 ? 4 : 1000;
    const bool mixed = trial % 5 == 4;
    std::vector<Objectives> points(n);
    for (auto& point : points) {
      point.resize(mixed ? 1 + rng() % dims : dims);
      for (double& v : point) {
        v = rng() % 50 == 0 ? NAN : static_cast<double>(rng() % distinct);
      }
    }
    const auto peeled = PeeledFronts(points);
    EXPECT_EQ(NondominatedSort(points), peeled) << "trial " << trial;
    EXPECT_EQ(PairwiseNondominatedSort(points), peeled) << "trial " << trial;
  }
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
