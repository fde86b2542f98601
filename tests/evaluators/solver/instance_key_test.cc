// A Matrix Market instance's functional key hashes that instance's own files (A, b, its
// context), not the whole directory.
#include <filesystem>
#include <fstream>

#include "evaluators/solver/matrix_market.h"
#include "evaluators/solver/sequences.h"
#include "evaluators/solver/solver_problem.h"
#include "gtest/gtest.h"
#include "search/functional_hash.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

std::unique_ptr<Problem> OpenDir(const std::string& dir) {
  v1::SolverSpec spec;
  spec.mutable_matrix_market()->set_dir(dir);
  spec.mutable_matrix_market()->set_seed(5);
  auto problem = CreateSolverProblem(spec);
  EXPECT_TRUE(problem.ok()) << problem.status();
  return problem.ok() ? std::move(*problem) : nullptr;
}

CacheKey KeyOf(const Problem& problem, uint64_t instance, int arm) {
  const auto* solver = static_cast<const SolverProblem*>(&problem);
  return FunctionalKey(problem, solver->Fixed(instance, arm));
}

TEST(SolverInstanceKeyTest, AddingAFileKeepsTheOtherInstancesKeys) {
  TempDir dir;
  ASSERT_TRUE(WriteMatrixMarket(dir.Sub("A_0001.mtx"), ShiftedLaplacian(4, 0.1)).ok());
  ASSERT_TRUE(WriteMatrixMarket(dir.Sub("A_0002.mtx"), ShiftedLaplacian(4, 0.3)).ok());
  auto before = OpenDir(dir.path());
  ASSERT_NE(before, nullptr);
  const CacheKey first = KeyOf(*before, 0, 3), second = KeyOf(*before, 1, 3);
  EXPECT_NE(first, second);

  ASSERT_TRUE(WriteMatrixMarket(dir.Sub("A_0003.mtx"), ShiftedLaplacian(4, 0.2)).ok());
  auto after = OpenDir(dir.path());
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(KeyOf(*after, 0, 3), first);
  EXPECT_EQ(KeyOf(*after, 1, 3), second);
  EXPECT_NE(KeyOf(*after, 2, 3), first);
  EXPECT_NE(KeyOf(*after, 2, 3), second);
}

TEST(SolverInstanceKeyTest, TheRightHandSideIsPartOfTheInstance) {
  TempDir a, b;
  ASSERT_TRUE(WriteMatrixMarket(a.Sub("A_0001.mtx"), ShiftedLaplacian(4, 0.1)).ok());
  ASSERT_TRUE(WriteMatrixMarket(b.Sub("A_0001.mtx"), ShiftedLaplacian(4, 0.1)).ok());
  auto pa = OpenDir(a.path());
  ASSERT_NE(pa, nullptr);
  EXPECT_EQ(KeyOf(*pa, 0, 5), KeyOf(*OpenDir(b.path()), 0, 5));  // same files, other folder
  Eigen::VectorXd rhs = Eigen::VectorXd::Ones(16);
  ASSERT_TRUE(WriteMatrixMarket(b.Sub("b_0001.mtx"), rhs).ok());
  EXPECT_NE(KeyOf(*pa, 0, 5), KeyOf(*OpenDir(b.path()), 0, 5));
}

}  // namespace
}  // namespace evolv
