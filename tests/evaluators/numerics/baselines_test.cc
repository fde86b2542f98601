#include "evaluators/numerics/baselines.h"

#include <gtest/gtest.h>

namespace evolv::numerics {
namespace {

class Exp2BaselinesTest : public ::testing::Test {
 protected:
  const Target& t = *FindTarget("exp2");
  const Samples real = MakeValidationPoints(t, 0, 1, 10000, 3, false);
};

TEST_F(Exp2BaselinesTest, MinimaxIsAtMostTheReferenceChebyshevColumn) {
  const double chebyshev[] = {1.0e-4, 3.5e-6, 1.0e-7, 2.5e-9};  // degrees 3..6
  for (int d = 3; d <= 6; ++d) {
    const long double err = MaxRelativeError(HornerProgram(MinimaxPolynomial(t, 0, 1, d)), real);
    EXPECT_LE(err, chebyshev[d - 3]) << "degree " << d;
    EXPECT_GT(err, chebyshev[d - 3] / 4) << "degree " << d;  // and not impossibly good
  }
}

TEST_F(Exp2BaselinesTest, TaylorAtZeroMatchesReference) {
  const double taylor[] = {5.6e-3, 7.5e-4, 8.5e-5, 8.3e-6};  // degrees 3..6
  for (int d = 3; d <= 6; ++d) {
    const long double err = MaxRelativeError(HornerProgram(TaylorPolynomial(t, 0, d)), real);
    EXPECT_NEAR(err / taylor[d - 3], 1.0, 0.05) << "degree " << d;
  }
}

TEST_F(Exp2BaselinesTest, HornerCostsTwoOpsPerDegree) {
  EXPECT_EQ(Cost(HornerProgram({1, 2, 3, 4})), 6);
}

TEST_F(Exp2BaselinesTest, TableCoversBudgetPlusTwoDegreesInBothModes) {
  const Samples fl = MakeValidationPoints(t, 0, 1, 10000, 3, true);
  const std::vector<BaselineRow> rows = ComputeBaselines(t, 0, 1, 10, real, fl);
  ASSERT_EQ(rows.size(), 14u);  // degrees 1..7, taylor and minimax
  EXPECT_EQ(rows.back().method, "minimax");
  EXPECT_EQ(rows.back().ops, 14);
  EXPECT_LT(rows.back().rel_error, 1e-10L);
  EXPECT_LE(rows.back().max_ulp, 2.0);
  EXPECT_GT(rows.front().max_ulp, 1000.0);
}

TEST_F(Exp2BaselinesTest, SmallestFloatDegreeWithinOneUlp) {
  const Samples fl = MakeValidationPoints(t, 0, 1, 10000, 3, true);
  const int d = SmallestFloatMinimaxDegree(t, 0, 1, fl);
  EXPECT_GE(d, 5);
  EXPECT_LE(d, 8);
  EXPECT_LE(MaxUlpError(HornerProgram(MinimaxPolynomial(t, 0, 1, d)), fl).max_ulp, 1.0);
  EXPECT_GT(MaxUlpError(HornerProgram(MinimaxPolynomial(t, 0, 1, d - 1)), fl).max_ulp, 1.0);
}

}  // namespace
}  // namespace evolv::numerics
