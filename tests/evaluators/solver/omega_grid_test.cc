#include "evaluators/solver/omega_star.h"

#include "gtest/gtest.h"

namespace evolv {
namespace {

TEST(OmegaGridTest, DefaultIsTheReferenceLinspace) {
  const std::vector<double> grid = OmegaGrid();
  ASSERT_EQ(grid.size(), 20u);
  EXPECT_DOUBLE_EQ(grid.front(), 1.0);
  EXPECT_DOUBLE_EQ(grid.back(), 1.95);
  EXPECT_NEAR(grid[1], 1.05, 1e-12);
  EXPECT_EQ(OmegaGrid(1.3, 1.9, 1), std::vector<double>{1.3});
}

}  // namespace
}  // namespace evolv
