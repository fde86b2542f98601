#include "evaluators/solver/relax_experiment.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;

TEST(RelaxExperimentTest, GridIsTheReferenceLinspace) {
  const std::vector<double> grid = OmegaGrid();
  ASSERT_EQ(grid.size(), 20u);
  EXPECT_DOUBLE_EQ(grid.front(), 1.0);
  EXPECT_DOUBLE_EQ(grid.back(), 1.95);
  EXPECT_NEAR(grid[1], 1.05, 1e-12);
}

TEST(RelaxExperimentTest, BanditsBeatOmegaOneAndComparatorsAreConsistent) {
  ShiftedLaplacianSequence sequence(ShiftedLaplacianSequence::Variance::kHigh, 7);
  RelaxExperimentOptions options;
  options.num_instances = 300;
  options.golden_evaluations = 16;
  const RelaxExperimentReport report =
      *RunRelaxExperiment(sequence, {"tsallis_inf", "tsallis_inf_cb", "chebcb"}, options);
  EXPECT_EQ(report.instances, 300);
  EXPECT_EQ(report.omega_one_iterations, report.fixed_iterations[0]);
  EXPECT_LE(report.best_fixed_iterations, report.omega_one_iterations);
  EXPECT_LE(report.grid_oracle_iterations, report.best_fixed_iterations);
  EXPECT_LT(report.instance_optimal_iterations, report.best_fixed_iterations);
  for (const PolicyTotal& policy : report.policies) {
    EXPECT_GE(policy.iterations, report.grid_oracle_iterations) << policy.policy;
    EXPECT_LT(2 * policy.iterations, report.omega_one_iterations) << policy.policy;
  }
}

TEST(RelaxExperimentTest, RejectsUnknownPolicyAndBadGrid) {
  ShiftedLaplacianSequence sequence(ShiftedLaplacianSequence::Variance::kLow, 1);
  RelaxExperimentOptions options;
  options.num_instances = 1;
  EXPECT_THAT(RunRelaxExperiment(sequence, {"ucb"}, options).status().message(),
              HasSubstr("policy: unknown 'ucb'"));
  options.omegas = {1.0, 2.0};
  EXPECT_THAT(RunRelaxExperiment(sequence, {"chebcb"}, options).status().message(),
              HasSubstr("omegas: 2 is outside (0, 2)"));
}

}  // namespace
}  // namespace evolv
