#include "evaluators/solver/sequences.h"

#include <cmath>

#include "evaluators/solver/distributions.h"
#include "gtest/gtest.h"

namespace evolv {
namespace {

TEST(DistributionsTest, GammaAndBetaHaveTheRightMoments) {
  Rng rng(8);
  const int n = 200000;
  for (double shape : {0.5, 1.5, 6.0}) {
    double sum = 0.0, squares = 0.0;
    for (int i = 0; i < n; ++i) {
      const double g = SampleGamma(rng, shape);
      ASSERT_GT(g, 0.0);
      sum += g;
      squares += g * g;
    }
    const double mean = sum / n;
    EXPECT_NEAR(mean, shape, 0.02 * shape) << shape;
    EXPECT_NEAR(squares / n - mean * mean, shape, 0.05 * shape) << shape;  // variance
  }
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += SampleBeta(rng, 0.5, 1.5);
  EXPECT_NEAR(sum / n, 0.25, 0.005);
  sum = 0.0;
  for (int i = 0; i < n; ++i) sum += SampleBeta(rng, 2.0, 6.0);
  EXPECT_NEAR(sum / n, 0.25, 0.005);
}

TEST(ShiftedLaplacianSequenceTest, IsDeterministicAndWithinTheFamily) {
  ShiftedLaplacianSequence a(ShiftedLaplacianSequence::Variance::kHigh, 99);
  ShiftedLaplacianSequence b(ShiftedLaplacianSequence::Variance::kHigh, 99);
  for (int t = 0; t < 50; ++t) {
    const LinearSystem sa = *a.Next();
    const LinearSystem sb = *b.Next();
    EXPECT_EQ(sa.context, sb.context);
    EXPECT_EQ(sa.b, sb.b);
    EXPECT_GE(sa.context, -0.15);
    EXPECT_LE(sa.context, 0.45);
    EXPECT_LE(sa.b.norm(), 10.0);  // sqrt(n)
    EXPECT_EQ(sa.a.rows(), 100);
    EXPECT_DOUBLE_EQ(sa.a.coeff(7, 7), 4.0 + sa.context);
    EXPECT_DOUBLE_EQ(sa.a.coeff(7, 8), -1.0);
    EXPECT_EQ(sa.a.coeff(9, 10), 0.0);  // no coupling across the grid's edge
    EXPECT_EQ(sa.x0.size(), 0);
  }
  ShiftedLaplacianSequence low(ShiftedLaplacianSequence::Variance::kLow, 1);
  for (int t = 0; t < 50; ++t) {
    const double c = low.Next()->context;
    EXPECT_GE(c, 0.0);
    EXPECT_LE(c, 1.0);
  }
}

TEST(HeatEquationSequenceTest, KappaFollowsTheReferenceFormula) {
  EXPECT_NEAR(HeatEquationSequence::Kappa(0.25), 0.1, 1e-12);
  EXPECT_NEAR(HeatEquationSequence::Kappa(0.75), 10.0, 1e-12);
  EXPECT_NEAR(HeatEquationSequence::Kappa(0.0), 0.0, 1e-12);
}

TEST(HeatEquationSequenceTest, StepsAreCrankNicolsonWithWarmStarts) {
  HeatEquationSequence sequence(8, 3);
  const LinearSystem first = *sequence.Next();
  EXPECT_EQ(first.a.rows(), 64);
  const double h = 1.0 / 9.0;
  const double kappa = HeatEquationSequence::Kappa(0.0005);
  EXPECT_DOUBLE_EQ(first.context, kappa);
  EXPECT_NEAR(first.a.coeff(0, 0), 1.0 + 0.5 * kappa * 0.001 * 4.0 / (h * h), 1e-12);
  EXPECT_EQ(first.x0, Eigen::VectorXd::Zero(64));
  const LinearSystem second = *sequence.Next();
  // The warm start is the previous step's solution.
  Eigen::VectorXd x = second.x0;
  EXPECT_LT((first.b - first.a * x).norm(), 1e-10 * first.b.norm());
  EXPECT_GT(x.norm(), 0.0);
  // SSOR-CG solves a step from the warm start.
  Eigen::VectorXd y = second.x0;
  const SolveResult result = *SolveSsorCg(second.a, second.b, 1.3, y);
  EXPECT_TRUE(result.converged);
  ASSERT_TRUE(sequence.Next().ok());
  EXPECT_TRUE(sequence.Done());
  EXPECT_EQ(sequence.Next().status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace evolv
