#include "evaluators/numerics/interpreter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "evaluators/numerics/baselines.h"
#include "hwy/targets.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

Program Mixed() {
  Program p = testing::EvenOddRational();
  p.constants[0] = 1.1;
  p.instructions.push_back({Op::kFma, 13, 0, 2});   // 14: fma(r, x, c1)
  p.instructions.push_back({Op::kSub, 3, 14, 0});   // 15: c2 - v14 (const-reg)
  p.instructions.push_back({Op::kMul, 1, 2, 0});    // 16: constant only
  p.instructions.push_back({Op::kDiv, 15, 16, 0});  // 17: reg-const
  return p;
}

TEST(InterpreterTest, FloatMatchesInstructionByInstructionBitExactly) {
  const Program p = Mixed();
  const CompiledProgram<float> c(p);
  std::vector<float> x(1000), y(1000);
  for (int i = 0; i < 1000; ++i) x[i] = -2.0f + 0.0041f * i;
  c.Run(x.data(), y.data(), x.size());  // crosses chunk boundaries, ends in a partial chunk
  for (int i = 0; i < 1000; ++i) {
    const float want = testing::Naive<float>(p, x[i]);
    EXPECT_EQ(std::memcmp(&y[i], &want, sizeof want), 0) << i;
  }
  EXPECT_EQ(c.num_steps(), 12);  // 13 instructions, the constant-only one folded
}

TEST(InterpreterTest, KeepsSingleUseChainsInTheAccumulatorWithoutChangingResults) {
  // Horner of degree 5: each value is read once, by the next instruction, so the 10 instructions
  // run without a store; every intermediate must still be rounded to float.
  const Program p = HornerProgram({1.0L, 0.693L, 0.24L, 0.0555L, 0.0096L, 0.0013L});
  const CompiledProgram<float> c(p);
  EXPECT_EQ(c.num_steps(), 10);
  EXPECT_EQ(c.num_kernels(), 4);
  std::vector<float> x(700), y(700);
  for (int i = 0; i < 700; ++i) x[i] = 1.0f / 3.0f + 0.0013f * i;
  c.Run(x.data(), y.data(), x.size());
  for (int i = 0; i < 700; ++i) {
    const float want = testing::Naive<float>(p, x[i]);
    EXPECT_EQ(std::memcmp(&y[i], &want, sizeof want), 0) << i;
  }
  // The rational reads x*x, E and O twice: those are stored; (E + O) / (E - O) is one kernel.
  EXPECT_EQ(CompiledProgram<float>(testing::EvenOddRational()).num_kernels(), 4);
}

TEST(InterpreterTest, ReversedChainLinksAndMirrorsMatchBitExactly) {
  // Chains whose running value is the second operand of - and / (c - t, c / t), and a mirror
  // (x + c) / (x - c) with a constant operand, extended by one link.
  Program p;
  p.constants = {0.75, 3.0, 1.25};         // values 1..3
  p.instructions = {{Op::kMul, 1, 0, 0},   // 4: c0 * x
                    {Op::kSub, 2, 4, 0},   // 5: c1 - v4
                    {Op::kDiv, 3, 5, 0},   // 6: c2 / v5
                    {Op::kAdd, 0, 1, 0},   // 7: x + c0
                    {Op::kSub, 0, 1, 0},   // 8: x - c0
                    {Op::kDiv, 7, 8, 0},   // 9: mirror
                    {Op::kSub, 6, 9, 0}};  // 10: v6 - v9 (link)
  const CompiledProgram<float> c(p);
  EXPECT_EQ(c.num_kernels(), 2);
  std::vector<float> x(600), y(600);
  for (int i = 0; i < 600; ++i) x[i] = -3.0f + 0.01f * i;
  c.Run(x.data(), y.data(), x.size());
  for (int i = 0; i < 600; ++i) {
    const float want = testing::Naive<float>(p, x[i]);
    EXPECT_EQ(std::memcmp(&y[i], &want, sizeof want), 0) << i;
  }
  const CompiledProgram<long double> l(p);
  for (long double v : {-1.5L, 0.5L, 2.0L})
    EXPECT_EQ(l.RunOne(v), testing::Naive<long double>(p, v));
}

TEST(InterpreterTest, OutputMayAliasTheInput) {
  const Program p = Mixed();
  std::vector<float> x(300), y(300);
  for (int i = 0; i < 300; ++i) x[i] = 0.01f * i;
  const CompiledProgram<float> c(p);
  c.Run(x.data(), y.data(), x.size());
  c.Run(x.data(), x.data(), x.size());
  EXPECT_EQ(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)), 0);
}

TEST(InterpreterTest, LongDoubleMatchesInstructionByInstruction) {
  const Program p = Mixed();
  const CompiledProgram<long double> c(p);
  for (long double x : {-1.5L, 0.0L, 0.25L, 3.0L})
    EXPECT_EQ(c.RunOne(x), testing::Naive<long double>(p, x));
}

TEST(InterpreterTest, ConstantsAreRoundedToFloatInFloatMode) {
  Program p;
  p.constants = {0.1};
  p.instructions = {{Op::kMul, 0, 1, 0}};
  EXPECT_EQ(CompiledProgram<float>(p).RunOne(1.0f), 0.1f);
  EXPECT_EQ(CompiledProgram<long double>(p).RunOne(1.0L), static_cast<long double>(0.1));
}

TEST(InterpreterTest, EmptyAndConstantPrograms) {
  Program p;
  p.constants = {2.0};
  EXPECT_EQ(CompiledProgram<float>(p).RunOne(3.0f), 3.0f);
  p.instructions = {{Op::kAdd, 1, 1, 0}};
  EXPECT_EQ(CompiledProgram<float>(p).RunOne(3.0f), 4.0f);
}

// Restores the best SIMD target after a test that selected another.
class InterpreterSimdTest : public ::testing::Test {
 protected:
  void TearDown() override {
    hwy::SetSupportedTargetsForTest(0);
    ASSERT_TRUE(SelectSimdTarget("best").ok());
  }
};

// Runs 300 random programs on the target selected now; every result must be the reference's
// bits (any NaN matching any NaN) and the program must report `target`.
void ExpectRandomProgramsMatchReference(const std::string& target) {
  std::mt19937 rng(2026);
  const std::vector<float> x = testing::EdgeInputs(rng);
  std::vector<float> y(x.size());
  for (int trial = 0; trial < 300; ++trial) {
    const Program p = testing::RandomProgram(rng);
    ASSERT_TRUE(Validate(p).ok());
    const CompiledProgram<float> c(p);
    ASSERT_EQ(std::string(c.simd_target()), target);
    c.Run(x.data(), y.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = testing::Naive<float>(p, x[i]);
      ASSERT_TRUE(testing::SameFloat(y[i], want)) << target << " program " << trial << " input "
                                                  << x[i] << ": got " << y[i] << ", want " << want;
    }
  }
}

TEST_F(InterpreterSimdTest, EveryAvailableTargetMatchesTheReferenceOnRandomEdgeCasePrograms) {
  const std::vector<std::string> targets = AvailableSimdTargets();
  ASSERT_FALSE(targets.empty());
  EXPECT_EQ(targets.back(), "baseline");
  for (const std::string& target : targets) {
    ASSERT_TRUE(SelectSimdTarget(target).ok()) << target;
    EXPECT_EQ(CurrentSimdTarget(), target);
    ExpectRandomProgramsMatchReference(target);
  }
  // Long double programs keep the baseline kernels whatever the target.
  EXPECT_STREQ(CompiledProgram<long double>(Mixed()).simd_target(), "baseline");
}

TEST_F(InterpreterSimdTest, HighwaysSupportedTargetsDecideTheTarget) {
  // Forcing Highway's view of the CPU down to each lower target (as on an older CPU) picks it.
  const std::pair<int64_t, const char*> kTargets[] = {
      {HWY_AVX3, "avx512"}, {HWY_AVX2, "avx2"}, {HWY_SSE4, "sse4"}};
  for (const auto& [target, name] : kTargets) {
    if ((hwy::SupportedTargets() & target) == 0) continue;
    hwy::SetSupportedTargetsForTest(target | HWY_EMU128);
    EXPECT_EQ(CurrentSimdTarget(), name);
    ExpectRandomProgramsMatchReference(name);
  }
  hwy::SetSupportedTargetsForTest(HWY_EMU128);
  EXPECT_EQ(CurrentSimdTarget(), "baseline");
  ExpectRandomProgramsMatchReference("baseline");
}

TEST_F(InterpreterSimdTest, ProgramsKeepTheTargetTheyWereConstructedWith) {
  const Program p = Mixed();
  const CompiledProgram<float> best(p);
  ASSERT_TRUE(SelectSimdTarget("baseline").ok());
  const CompiledProgram<float> baseline(p);
  EXPECT_STREQ(baseline.simd_target(), "baseline");
  EXPECT_EQ(std::string(best.simd_target()), AvailableSimdTargets().front());
  ASSERT_TRUE(SelectSimdTarget("BEST").ok());
  EXPECT_EQ(CurrentSimdTarget(), AvailableSimdTargets().front());
}

TEST_F(InterpreterSimdTest, UnknownTargetIsInvalidArgumentNamingTheField) {
  const absl::Status status = SelectSimdTarget("avx1024");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("simd target 'avx1024'"), std::string::npos) << status;
  EXPECT_NE(status.message().find("baseline"), std::string::npos) << status;
  EXPECT_EQ(CurrentSimdTarget(), AvailableSimdTargets().front());  // unchanged
}

// The environment variable is read at the first construction, so these run in a fresh process
// (the threadsafe death-test style re-executes the binary for just this test).
TEST(InterpreterSimdEnvTest, EnvironmentVariableSelectsTheTarget) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("EVOLV_SIMD_TARGET", "baseline", 1);
        const CompiledProgram<float> c(Mixed());
        std::exit(std::string(c.simd_target()) == "baseline" ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        setenv("EVOLV_SIMD_TARGET", "avx1024", 1);
        const CompiledProgram<float> c(Mixed());
        std::exit(c.simd_target() == AvailableSimdTargets().front() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "EVOLV_SIMD_TARGET ignored: simd target 'avx1024'");
}

}  // namespace
}  // namespace evolv::numerics
