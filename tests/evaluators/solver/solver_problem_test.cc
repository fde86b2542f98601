#include "evaluators/solver/solver_problem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "evaluators/solver/matrix_market.h"
#include "evaluators/solver/sequences.h"
#include "search/functional_hash.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::SolverSpec LaplacianSpec(uint32_t instances = 5) {
  v1::SolverSpec spec;
  auto* s = spec.mutable_shifted_laplacian();
  s->set_variance(v1::ShiftedLaplacianSource::HIGH);
  s->set_instances(instances);
  s->set_seed(3);
  return spec;
}

std::string ErrorOf(const v1::SolverSpec& spec) {
  auto problem = CreateSolverProblem(spec);
  EXPECT_FALSE(problem.ok());
  if (problem.ok()) return "";
  EXPECT_EQ(problem.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(problem.status().message());
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(SolverProblemTest, BadSpecsNameTheField) {
  v1::SolverSpec none;
  EXPECT_THAT(ErrorOf(none), StartsWith("solver.source: "));

  v1::SolverSpec spec = LaplacianSpec();
  spec.mutable_omegas()->set_hi(2.5);
  EXPECT_THAT(ErrorOf(spec), StartsWith("solver.omegas.hi: 2.5 is outside (0, 2)"));
  spec = LaplacianSpec();
  spec.mutable_omegas()->set_lo(-0.5);
  EXPECT_THAT(ErrorOf(spec), StartsWith("solver.omegas.lo: "));
  spec = LaplacianSpec();
  spec.mutable_omegas()->set_lo(1.9);
  spec.mutable_omegas()->set_hi(1.2);
  EXPECT_THAT(ErrorOf(spec), StartsWith("solver.omegas: lo 1.9 must be below hi 1.2"));
  spec = LaplacianSpec();
  spec.mutable_omegas()->set_count(5000);
  EXPECT_THAT(ErrorOf(spec), StartsWith("solver.omegas.count: "));
  spec = LaplacianSpec(0);
  EXPECT_THAT(ErrorOf(spec), StartsWith("solver.shifted_laplacian.instances: must be >= 1"));
  spec = LaplacianSpec();
  spec.set_tolerance(-1);
  EXPECT_THAT(ErrorOf(spec), StartsWith("solver.tolerance: "));
  spec = LaplacianSpec();
  spec.set_golden_evaluations(1);
  EXPECT_THAT(ErrorOf(spec), StartsWith("solver.golden_evaluations: "));

  v1::SolverSpec heat;
  heat.mutable_heat()->set_steps(10);
  EXPECT_THAT(ErrorOf(heat), StartsWith("solver.heat.nx: must be >= 1"));
  heat.mutable_heat()->set_nx(5);
  heat.mutable_heat()->set_dt(-1);
  EXPECT_THAT(ErrorOf(heat), StartsWith("solver.heat.dt: "));
}

TEST(SolverProblemTest, BadMatrixMarketInputNamesTheFileAndLine) {
  v1::SolverSpec spec;
  spec.mutable_matrix_market();
  EXPECT_THAT(ErrorOf(spec), StartsWith("solver.matrix_market.dir: required"));

  TempDir dir;
  spec.mutable_matrix_market()->set_dir(dir.Sub("missing"));
  EXPECT_THAT(ErrorOf(spec), AllOf(StartsWith("solver.matrix_market.dir: "),
                                   HasSubstr("missing: cannot list directory")));

  spec.mutable_matrix_market()->set_dir(dir.path());
  EXPECT_THAT(ErrorOf(spec), HasSubstr("no A_*.mtx files"));

  // Malformed entry on line 5 of the second file.
  ASSERT_TRUE(WriteMatrixMarket(dir.Sub("A_0001.mtx"), ShiftedLaplacian(2, 0.0)).ok());
  WriteFile(dir.Sub("A_0002.mtx"),
            "%%MatrixMarket matrix coordinate real general\n% c\n2 2 2\n1 1 4\n2 x 5\n");
  EXPECT_THAT(ErrorOf(spec),
              StartsWith("solver.matrix_market.dir: " + dir.Sub("A_0002.mtx") + ":5: "));

  // Non-square.
  WriteFile(dir.Sub("A_0002.mtx"),
            "%%MatrixMarket matrix coordinate real general\n2 3 2\n1 1 4\n2 2 5\n");
  EXPECT_THAT(ErrorOf(spec), AllOf(StartsWith("solver.matrix_market.dir: " + dir.Sub("A_0002.mtx")),
                                   HasSubstr("not square")));

  // Zero diagonal.
  WriteFile(dir.Sub("A_0002.mtx"),
            "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 4\n2 1 5\n");
  EXPECT_THAT(ErrorOf(spec), AllOf(StartsWith("solver.matrix_market.dir: " + dir.Sub("A_0002.mtx")),
                                   HasSubstr("diagonal")));

  // b of the wrong size.
  ASSERT_TRUE(WriteMatrixMarket(dir.Sub("A_0002.mtx"), ShiftedLaplacian(2, 0.5)).ok());
  ASSERT_TRUE(WriteMatrixMarket(dir.Sub("b_0002.mtx"), Eigen::VectorXd::Ones(3).eval()).ok());
  EXPECT_THAT(ErrorOf(spec), AllOf(StartsWith("solver.matrix_market.dir: " + dir.Sub("b_0002.mtx")),
                                   HasSubstr("does not match")));

  // Unreadable file.
  ASSERT_TRUE(WriteMatrixMarket(dir.Sub("b_0002.mtx"), Eigen::VectorXd::Ones(4).eval()).ok());
  std::filesystem::permissions(dir.Sub("A_0001.mtx"), std::filesystem::perms::none);
  if (!std::ifstream(dir.Sub("A_0001.mtx"))) {  // root reads anything
    EXPECT_THAT(ErrorOf(spec),
                StartsWith("solver.matrix_market.dir: " + dir.Sub("A_0001.mtx") + ": cannot open"));
  }
  std::filesystem::permissions(dir.Sub("A_0001.mtx"), std::filesystem::perms::owner_all);
  EXPECT_TRUE(CreateSolverProblem(spec).ok());
}

TEST(SolverProblemTest, APickSharesTheKeyOfTheFixedComparator) {
  auto problem = CreateSolverProblem(LaplacianSpec());
  ASSERT_TRUE(problem.ok());
  const auto& solver = dynamic_cast<const SolverProblem&>(**problem);
  const std::vector<v1::Candidate> comparators = solver.Comparators(2);
  ASSERT_EQ(comparators.size(), 21u);  // 20 grid omegas (1.0 among them) + instance-optimal
  BanditPick chebcb;
  chebcb.policy = "chebcb";
  chebcb.trial = 4;
  chebcb.arm = 7;
  chebcb.probability = 0.3;
  const v1::Candidate pick = solver.Pick(2, chebcb);
  EXPECT_EQ(FunctionalKey(solver, pick), FunctionalKey(solver, comparators[7]));
  EXPECT_NE(FunctionalKey(solver, pick), FunctionalKey(solver, comparators[8]));
  EXPECT_NE(FunctionalKey(solver, pick), FunctionalKey(solver, solver.Fixed(3, 7)));

  // Another seed is another sequence: no shared rows.
  v1::SolverSpec other = LaplacianSpec();
  other.mutable_shifted_laplacian()->set_seed(4);
  auto other_problem = CreateSolverProblem(other);
  ASSERT_TRUE(other_problem.ok());
  EXPECT_NE(FunctionalKey(**other_problem, pick), FunctionalKey(solver, pick));
  // The length of the sequence does not change what instance 2 is.
  auto longer = CreateSolverProblem(LaplacianSpec(50));
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(FunctionalKey(**longer, pick), FunctionalKey(solver, pick));
}

TEST(SolverProblemTest, EvaluateMatchesADirectSolve) {
  auto problem = CreateSolverProblem(LaplacianSpec());
  ASSERT_TRUE(problem.ok());
  const auto& solver = dynamic_cast<const SolverProblem&>(**problem);
  const v1::Evaluation e = solver.Evaluate(solver.Fixed(1, 10), {});
  ASSERT_EQ(e.status(), v1::OK) << e.error();
  const double c = solver.Context(1);
  EXPECT_EQ(e.metrics().at("context"), c);
  EXPECT_GE(c, -0.15);
  EXPECT_LE(c, 0.45);
  // Not the same b, but the same matrix: iteration counts agree within a few sweeps.
  Rng rng(9);
  Eigen::VectorXd b = TruncatedGaussianRhs(100, rng);
  Eigen::VectorXd x;
  auto direct = SolveSor(ShiftedLaplacian(10, c), b, solver.omegas()[10], x);
  ASSERT_TRUE(direct.ok());
  EXPECT_NEAR(e.objectives(0), direct->iterations, 0.2 * direct->iterations + 3);
  EXPECT_EQ(e.metrics().at("converged"), 1.0);
  EXPECT_LT(e.metrics().at("residual"), 1e-8);
  // Deterministic.
  EXPECT_EQ(solver.Evaluate(solver.Fixed(1, 10), {}).objectives(0), e.objectives(0));

  // The closed-form optimum beats omega = 1 by far on this family.
  const auto comparators = solver.Comparators(1);
  const v1::Evaluation best = solver.Evaluate(comparators.back(), {});
  ASSERT_EQ(best.status(), v1::OK);
  EXPECT_NEAR(best.metrics().at("omega"), OmegaStar(ShiftedLaplacianJacobiRadius(10, c)), 1e-12);
  EXPECT_LT(best.objectives(0), solver.Evaluate(comparators[0], {}).objectives(0) / 2);

  v1::Candidate outside = solver.Fixed(9, 0);
  EXPECT_EQ(solver.Evaluate(outside, {}).status(), v1::INFEASIBLE);
  v1::SolverChoice bad_omega;
  ASSERT_TRUE(UnpackCandidate(solver.Fixed(0, 0), &bad_omega));
  bad_omega.set_omega(2.0);
  EXPECT_EQ(solver.Evaluate(PackCandidate(bad_omega), {}).status(), v1::INFEASIBLE);
}

TEST(SolverProblemTest, HeatInstancesAreTheSameInAnyOrder) {
  v1::SolverSpec spec;
  spec.mutable_heat()->set_nx(6);
  spec.mutable_heat()->set_steps(30);
  spec.set_method(v1::SolverSpec::SSOR_CG);
  auto problem = CreateSolverProblem(spec);
  ASSERT_TRUE(problem.ok());
  const auto& solver = dynamic_cast<const SolverProblem&>(**problem);
  // Against the sequential sequence, step by step.
  HeatEquationSequence sequence(6, 30);
  std::vector<LinearSystem> systems;
  for (int t = 0; t < 30; ++t) systems.push_back(*sequence.Next());
  for (int t : {17, 3, 29, 0}) {
    const v1::Evaluation e = solver.Evaluate(solver.Fixed(t, 12), {});
    ASSERT_EQ(e.status(), v1::OK) << e.error();
    Eigen::VectorXd x = systems[t].x0;
    auto direct = SolveSsorCg(systems[t].a, systems[t].b, solver.omegas()[12], x);
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(e.objectives(0), direct->iterations) << "step " << t;
    EXPECT_EQ(solver.Context(t), systems[t].context);
  }
}

}  // namespace
}  // namespace evolv
