#include "evaluators/solver/sor.h"

#include <cmath>

#include "evaluators/solver/omega_star.h"
#include "evaluators/solver/sequences.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;

Eigen::VectorXd FixedRhs(int n) {
  Rng rng(42);
  return TruncatedGaussianRhs(n, rng);
}

int SorIterations(double c, double omega) {
  const SparseMatrix a = ShiftedLaplacian(10, c);
  Eigen::VectorXd x;
  absl::StatusOr<SolveResult> result = SolveSor(a, FixedRhs(100), omega, x);
  EXPECT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->converged);
  return result->iterations;
}

// REFERENCE "Solver parameters", Test 1: rough iteration counts for one b, within 15 %.
void ExpectNear(int actual, int reference) {
  EXPECT_GE(actual, 0.85 * reference) << "reference " << reference;
  EXPECT_LE(actual, 1.15 * reference) << "reference " << reference;
}

TEST(SorTest, IterationCountsMatchTheReferenceAtCZero) {
  ExpectNear(SorIterations(0.0, 1.0), 199);
  ExpectNear(SorIterations(0.0, 1.8), 85);
  ExpectNear(SorIterations(0.0, 1.560), 37);
}

TEST(SorTest, IterationCountsMatchTheReferenceAtTheShiftExtremes) {
  ExpectNear(SorIterations(-0.15, 1.0), 2620);
  ExpectNear(SorIterations(-0.15, 1.8), 264);
  ExpectNear(SorIterations(-0.15, 1.854), 133);
  ExpectNear(SorIterations(0.45, 1.0), 56);
  ExpectNear(SorIterations(0.45, 1.8), 86);
  ExpectNear(SorIterations(0.45, 1.328), 22);
}

TEST(SorTest, SolutionMeetsTheTolerance) {
  const SparseMatrix a = ShiftedLaplacian(10, 0.1);
  const Eigen::VectorXd b = FixedRhs(100);
  Eigen::VectorXd x;
  const SolveResult result = *SolveSor(a, b, 1.5, x);
  EXPECT_TRUE(result.converged);
  EXPECT_LT(result.relative_residual, 1e-8);
  EXPECT_LT((b - a * x).norm() / b.norm(), 1e-8);
}

TEST(SorTest, WarmStartAtTheSolutionNeedsFewIterations) {
  const SparseMatrix a = ShiftedLaplacian(10, 0.0);
  const Eigen::VectorXd b = FixedRhs(100);
  Eigen::VectorXd x;
  ASSERT_TRUE(SolveSor(a, b, 1.5, x).ok());
  Eigen::VectorXd warm = x + 1e-3 * Eigen::VectorXd::Ones(100);
  const SolveResult result = *SolveSor(a, b, 1.5, warm);
  EXPECT_TRUE(result.converged);
  EXPECT_LT((b - a * warm).norm(), 1e-8 * (b - a * (x + 1e-3 * Eigen::VectorXd::Ones(100))).norm());
}

TEST(SorTest, CapStopsUnconvergedSolves) {
  const SparseMatrix a = ShiftedLaplacian(10, -0.15);
  Eigen::VectorXd x;
  SolveOptions options;
  options.max_iterations = 50;
  const SolveResult result = *SolveSor(a, FixedRhs(100), 1.0, x, options);
  EXPECT_EQ(result.iterations, 50);
  EXPECT_FALSE(result.converged);
  EXPECT_GT(result.relative_residual, 1e-8);
}

TEST(SsorCgTest, ConvergesAndMeetsTheTolerance) {
  const SparseMatrix a = ShiftedLaplacian(20, 0.0);
  Rng rng(1);
  const Eigen::VectorXd b = TruncatedGaussianRhs(400, rng);
  for (double omega : {1.0, 1.5, 1.9}) {
    Eigen::VectorXd x;
    const SolveResult result = *SolveSsorCg(a, b, omega, x);
    EXPECT_TRUE(result.converged) << omega;
    EXPECT_LT(result.relative_residual, 1e-8);
    EXPECT_LT((b - a * x).norm() / b.norm(), 1e-8);
    // Far fewer than SOR at omega = 1 on this grid, and at most n steps in exact arithmetic.
    EXPECT_LT(result.iterations, 60) << omega;
  }
}

TEST(SsorCgTest, RelaxationChangesTheIterationCount) {
  const SparseMatrix a = ShiftedLaplacian(30, 0.0);
  Rng rng(2);
  const Eigen::VectorXd b = TruncatedGaussianRhs(900, rng);
  Eigen::VectorXd x1, x2;
  const int at_one = SolveSsorCg(a, b, 1.0, x1)->iterations;
  const int at_best = SolveSsorCg(a, b, 1.7, x2)->iterations;
  EXPECT_LT(at_best, at_one);
}

TEST(SolverValidationTest, RejectsNonSquareMatrix) {
  SparseMatrix a(3, 4);
  EXPECT_THAT(RelaxationSolver::Create(a).status().message(), HasSubstr("a: matrix is 3x4"));
}

TEST(SolverValidationTest, RejectsMismatchedRhs) {
  Eigen::VectorXd x;
  const absl::StatusOr<SolveResult> result =
      SolveSor(ShiftedLaplacian(3, 0.0), Eigen::VectorXd::Ones(5), 1.0, x);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("b: size 5 does not match"));
}

TEST(SolverValidationTest, RejectsMismatchedWarmStart) {
  Eigen::VectorXd x = Eigen::VectorXd::Zero(4);
  EXPECT_THAT(
      SolveSor(ShiftedLaplacian(3, 0.0), Eigen::VectorXd::Ones(9), 1.0, x).status().message(),
      HasSubstr("x: warm start size 4"));
}

TEST(SolverValidationTest, RejectsZeroDiagonal) {
  SparseMatrix a = ShiftedLaplacian(3, 0.0);
  a.coeffRef(4, 4) = 0.0;
  const absl::Status status = RelaxationSolver::Create(a).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("a: zero diagonal entry at row 4"));
}

TEST(SolverValidationTest, RejectsOmegaOutsideOpenInterval) {
  const RelaxationSolver solver = *RelaxationSolver::Create(ShiftedLaplacian(3, 0.0));
  const Eigen::VectorXd b = Eigen::VectorXd::Ones(9);
  for (double omega : {0.0, 2.0, -1.0, 2.5}) {
    Eigen::VectorXd x;
    EXPECT_THAT(solver.SolveSor(b, omega, x).status().message(), HasSubstr("omega: "));
    EXPECT_THAT(solver.SolveSsorCg(b, omega, x).status().message(), HasSubstr("omega: "));
  }
}

}  // namespace
}  // namespace evolv
