#include "evaluators/solver/omega_star.h"

#include "evaluators/solver/sequences.h"
#include "gtest/gtest.h"

namespace evolv {
namespace {

int Iterations(const RelaxationSolver& solver, const Eigen::VectorXd& b, double omega) {
  Eigen::VectorXd x;
  return solver.SolveSor(b, omega, x)->iterations;
}

TEST(OmegaStarTest, MatchesTheReferenceValues) {
  EXPECT_NEAR(OmegaStar(ShiftedLaplacianJacobiRadius(10, 0.0)), 1.560, 5e-4);
  EXPECT_NEAR(OmegaStar(ShiftedLaplacianJacobiRadius(10, -0.15)), 1.854, 5e-4);
  EXPECT_NEAR(OmegaStar(ShiftedLaplacianJacobiRadius(10, 0.45)), 1.328, 5e-4);
  EXPECT_DOUBLE_EQ(OmegaStar(0.0), 1.0);
}

TEST(OmegaStarTest, BeatsNeighbouringOmegas) {
  Rng rng(17);
  const Eigen::VectorXd b = TruncatedGaussianRhs(100, rng);
  for (double c : {-0.15, 0.0, 0.2, 0.45}) {
    const RelaxationSolver solver = *RelaxationSolver::Create(ShiftedLaplacian(10, c));
    const double star = OmegaStar(ShiftedLaplacianJacobiRadius(10, c));
    const int at_star = Iterations(solver, b, star);
    EXPECT_LT(at_star, Iterations(solver, b, star - 0.05)) << "c " << c;
    EXPECT_LT(at_star, Iterations(solver, b, star + 0.05)) << "c " << c;
  }
}

TEST(OmegaStarTest, GoldenSectionFindsTheMinimumOfAVShapedCost) {
  auto cost = [](double omega) { return static_cast<int>(1000 * std::abs(omega - 1.37)); };
  const OmegaSearchResult best = GoldenSectionOmega(cost, 1.0, 1.99, 30);
  EXPECT_NEAR(best.omega, 1.37, 2e-3);
  EXPECT_EQ(best.evaluations, 30);
}

TEST(OmegaStarTest, InstanceOptimalOmegaIsNearOmegaStar) {
  Rng rng(3);
  const Eigen::VectorXd b = TruncatedGaussianRhs(100, rng);
  const RelaxationSolver solver = *RelaxationSolver::Create(ShiftedLaplacian(10, 0.0));
  const OmegaSearchResult best =
      *InstanceOptimalOmega(solver, b, Eigen::VectorXd(), RelaxationMethod::kSor);
  const int at_star = Iterations(solver, b, OmegaStar(ShiftedLaplacianJacobiRadius(10, 0.0)));
  EXPECT_NEAR(best.omega, 1.56, 0.06);
  EXPECT_LE(best.iterations, at_star + 2);
  EXPECT_EQ(best.iterations, Iterations(solver, b, best.omega));
}

}  // namespace
}  // namespace evolv
