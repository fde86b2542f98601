// A Matrix Market instance's functional key hashes that instance's own files (A, b, its
// context), not the whole directory; the directory's content as a whole is in the problem
// fingerprint (InputsDigest), not in the canonical spec.
#include <filesystem>
#include <fstream>

#include "evaluators/solver/matrix_market.h"
#include "evaluators/solver/sequences.h"
#include "evaluators/solver/solver_problem.h"
#include "gmock/gmock.h"
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

TEST(SolverInstanceKeyTest, OtherMatricesGiveAnotherFingerprintButTheSameCanonicalSpec) {
  TempDir a, b;
  ASSERT_TRUE(WriteMatrixMarket(a.Sub("A_0001.mtx"), ShiftedLaplacian(4, 0.1)).ok());
  ASSERT_TRUE(WriteMatrixMarket(a.Sub("A_0002.mtx"), ShiftedLaplacian(4, 0.3)).ok());
  ASSERT_TRUE(WriteMatrixMarket(b.Sub("A_0001.mtx"), ShiftedLaplacian(4, 0.1)).ok());
  ASSERT_TRUE(WriteMatrixMarket(b.Sub("A_0002.mtx"), ShiftedLaplacian(4, 0.7)).ok());
  auto pa = OpenDir(a.path()), pb = OpenDir(b.path());
  ASSERT_NE(pa, nullptr);
  ASSERT_NE(pb, nullptr);
  // Cache keys stay per instance: the shared first system keeps one key in both directories.
  EXPECT_EQ(pa->CanonicalSpec(), pb->CanonicalSpec());
  EXPECT_EQ(KeyOf(*pa, 0, 2), KeyOf(*pb, 0, 2));
  EXPECT_NE(KeyOf(*pa, 1, 2), KeyOf(*pb, 1, 2));
  // The problems as a whole differ, so a worker holding b refuses a coordinator's a.
  EXPECT_THAT(pa->InputsDigest(), ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE(pa->InputsDigest(), pb->InputsDigest());
  EXPECT_NE(ProblemFingerprint(*pa), ProblemFingerprint(*pb));
}

TEST(SolverInstanceKeyTest, TheSameFilesElsewhereGiveTheSameFingerprint) {
  TempDir a, b;
  ASSERT_TRUE(WriteMatrixMarket(a.Sub("A_0001.mtx"), ShiftedLaplacian(4, 0.1)).ok());
  ASSERT_TRUE(WriteMatrixMarket(a.Sub("A_0002.mtx"), ShiftedLaplacian(4, 0.3)).ok());
  for (const char* name : {"A_0001.mtx", "A_0002.mtx"}) {
    std::filesystem::copy_file(a.Sub(name), b.Sub(name));
  }
  auto pa = OpenDir(a.path()), pb = OpenDir(b.path());
  ASSERT_NE(pa, nullptr);
  ASSERT_NE(pb, nullptr);
  EXPECT_EQ(pa->InputsDigest(), pb->InputsDigest());
  EXPECT_EQ(ProblemFingerprint(*pa), ProblemFingerprint(*pb));
  // The order of the instances is part of the content: the sequence is another problem.
  TempDir swapped;
  std::filesystem::copy_file(a.Sub("A_0001.mtx"), swapped.Sub("A_0002.mtx"));
  std::filesystem::copy_file(a.Sub("A_0002.mtx"), swapped.Sub("A_0001.mtx"));
  auto ps = OpenDir(swapped.path());
  ASSERT_NE(ps, nullptr);
  EXPECT_NE(ps->InputsDigest(), pa->InputsDigest());
}

TEST(SolverInstanceKeyTest, GeneratedSequencesHaveNoInputsDigest) {
  v1::SolverSpec spec = SolverExampleSpec();
  ASSERT_NE(spec.source_case(), v1::SolverSpec::kMatrixMarket);
  auto problem = CreateSolverProblem(spec);
  ASSERT_TRUE(problem.ok()) << problem.status();
  EXPECT_EQ((*problem)->InputsDigest(), "");
  // So its fingerprint is the hash of the three parts alone, as before inputs digests.
  EXPECT_EQ(
      ProblemFingerprint(**problem),
      ProblemFingerprint("solver", (*problem)->EvaluatorVersion(), (*problem)->CanonicalSpec()));
}

}  // namespace
}  // namespace evolv
