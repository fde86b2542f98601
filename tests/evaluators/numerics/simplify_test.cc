#include "evaluators/numerics/simplify.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "evaluators/numerics/interpreter.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Whether `q` has no dead and no constant-only instruction.
bool OnlyLiveXDependent(const Program& q) {
  return LiveInstructions(q) == static_cast<int>(q.instructions.size()) &&
         Cost(q) == static_cast<int>(q.instructions.size());
}

// A random valid program leaning on constant-only parts: operands are x, constants (some huge,
// zero or infinite) or earlier instructions; ops are all five.
Program RandomProgram(std::mt19937& rng) {
  std::uniform_int_distribution<int> n_constants(1, 4), n_instructions(1, 12), op(0, 4), kind(0, 9);
  std::normal_distribution<double> normal;
  Program p;
  for (int k = n_constants(rng); k > 0; --k) {
    switch (kind(rng)) {
      case 0:
        p.constants.push_back(3e38 * normal(rng));  // overflows when squared in float
        break;
      case 1:
        p.constants.push_back(0.0);
        break;
      case 2:
        p.constants.push_back(kInf);
        break;
      default:
        p.constants.push_back(normal(rng));
    }
  }
  for (int i = n_instructions(rng); i > 0; --i) {
    const uint32_t limit = p.num_values();
    std::uniform_int_distribution<uint32_t> operand(0, limit - 1);
    // Constants two times in three, so many instructions depend on constants only.
    auto pick = [&] {
      const uint32_t v = operand(rng);
      return kind(rng) < 6 ? static_cast<uint32_t>(1 + v % p.constants.size()) : v;
    };
    const Op o = static_cast<Op>(op(rng));
    p.instructions.push_back({o, pick(), pick(), o == Op::kFma ? pick() : 0u});
  }
  return p;
}

TEST(SimplifyTest, FoldsConstantOnlyInstructionsAndDropsDeadOnes) {
  Program p;
  p.constants = {0.5, 3.0};
  p.instructions = {
      {Op::kAdd, 1, 1, 0},  // 3: c0 + c0 = 1, constant-only
      {Op::kDiv, 2, 2, 0},  // 4: c1 / c1 = 1, constant-only
      {Op::kMul, 0, 0, 0},  // 5: x * x, dead
      {Op::kMul, 0, 3, 0},  // 6: x * 1
      {Op::kSub, 6, 4, 0},  // 7: x * 1 - 1
  };
  ASSERT_EQ(Cost(p), 2);
  ASSERT_EQ(LiveInstructions(p), 4);
  for (ExportPrecision precision : {ExportPrecision::kFloat, ExportPrecision::kReal}) {
    const ExportedProgram e = SimplifyForExport(p, precision);
    EXPECT_FALSE(e.constant_result.has_value());
    // Both folded values are 1: one constant, read by both instructions.
    EXPECT_EQ(e.program.constants, std::vector<double>{1.0});
    const std::vector<Instruction> want = {{Op::kMul, 0, 1, 0}, {Op::kSub, 2, 1, 0}};
    EXPECT_EQ(e.program.instructions, want);
    EXPECT_TRUE(FiniteConstants(e));
  }
}

TEST(SimplifyTest, KeepsTheStoredConstantsFirstInTheirOrder) {
  const Program p = testing::EvenOddRational();
  const ExportedProgram e = SimplifyForExport(p, ExportPrecision::kReal);
  EXPECT_EQ(e.program, p);  // nothing to fold or drop
}

TEST(SimplifyTest, FoldsInThePrecisionItExportsTo) {
  // c0 * c0 overflows in float but not in long double; x / (c0 * c0) is x * 0 in float.
  Program p;
  p.constants = {1e20};
  p.instructions = {{Op::kMul, 1, 1, 0}, {Op::kDiv, 0, 2, 0}};
  const ExportedProgram real = SimplifyForExport(p, ExportPrecision::kReal);
  ASSERT_EQ(real.program.constants.size(), 1u);
  EXPECT_DOUBLE_EQ(real.program.constants[0], 1e40);
  EXPECT_EQ(real.program.instructions[0].op, Op::kDiv);
  const ExportedProgram in_float = SimplifyForExport(p, ExportPrecision::kFloat);
  EXPECT_EQ(in_float.program.constants, std::vector<double>{0.0});
  EXPECT_EQ(in_float.program.instructions[0].op, Op::kMul);
  EXPECT_TRUE(FiniteConstants(in_float));
}

TEST(SimplifyTest, DivisionByInfinityBecomesMultiplicationBySignedZeroBitForBit) {
  // (x - 1) / -inf + x: the quotient is -0 or +0 with the sign of 1 - x.
  Program p;
  p.constants = {1.0, -kInf};
  p.instructions = {{Op::kSub, 0, 1, 0}, {Op::kDiv, 3, 2, 0}, {Op::kAdd, 4, 0, 0}};
  const ExportedProgram e = SimplifyForExport(p, ExportPrecision::kFloat);
  ASSERT_TRUE(FiniteConstants(e));
  ASSERT_EQ(e.program.constants.size(), 2u);
  EXPECT_TRUE(std::signbit(e.program.constants[1]));
  EXPECT_EQ(e.program.constants[1], 0.0);
  EXPECT_EQ(e.program.instructions[1].op, Op::kMul);
  const CompiledProgram<float> original(p), exported(e.program);
  for (float x : {0.0f, -0.0f, 0.5f, 1.0f, 2.0f, -3.0f, INFINITY, -INFINITY, NAN}) {
    EXPECT_TRUE(testing::SameFloat(original.RunOne(x), exported.RunOne(x))) << x;
  }
  // Only the quotient's sign matters when the other term is a zero: 1 - x for x = 1 gives +0.
  Program q = p;
  q.instructions[2] = {Op::kMul, 4, 0, 0};  // quotient * x keeps the sign visible
  const CompiledProgram<float> q_original(q),
      q_exported(SimplifyForExport(q, ExportPrecision::kFloat).program);
  for (float x : {0.5f, 1.0f, 2.0f, -3.0f}) {
    EXPECT_TRUE(testing::SameFloat(q_original.RunOne(x), q_exported.RunOne(x))) << x;
  }
}

TEST(SimplifyTest, ReportsALiveNonFiniteConstant) {
  Program p;
  p.constants = {kInf};
  p.instructions = {{Op::kAdd, 0, 1, 0}};  // x + inf
  EXPECT_FALSE(FiniteConstants(SimplifyForExport(p, ExportPrecision::kReal)));
  p.constants = {0.0};
  p.instructions = {{Op::kDiv, 1, 1, 0}, {Op::kMul, 0, 2, 0}};  // x * (0 / 0)
  EXPECT_FALSE(FiniteConstants(SimplifyForExport(p, ExportPrecision::kFloat)));
  // Non-finite constants that only dead code reads do not count.
  p.instructions = {{Op::kDiv, 1, 1, 0}, {Op::kMul, 0, 0, 0}};
  EXPECT_TRUE(FiniteConstants(SimplifyForExport(p, ExportPrecision::kFloat)));
}

TEST(SimplifyTest, ConstantFunctionHasAConstantResultAndIdentityStaysX) {
  Program p;
  p.constants = {1.5, 2.0};
  p.instructions = {{Op::kMul, 0, 0, 0}, {Op::kMul, 1, 2, 0}};  // x * x is dead; returns 3
  const ExportedProgram e = SimplifyForExport(p, ExportPrecision::kFloat);
  ASSERT_TRUE(e.constant_result.has_value());
  EXPECT_EQ(*e.constant_result, 3.0);
  EXPECT_TRUE(e.program.instructions.empty());
  const ExportedProgram identity = SimplifyForExport(Program(), ExportPrecision::kReal);
  EXPECT_FALSE(identity.constant_result.has_value());
  EXPECT_EQ(identity.program, Program());
}

TEST(SimplifyTest, FloatExportRunsBitForBitAsTheProgramAndHasCostInstructions) {
  std::mt19937 rng(12);
  std::vector<float> xs;
  for (float x = -2.0f; x <= 2.0f; x += 1.0f / 64) xs.push_back(x);
  int with_folding = 0, with_dead = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const Program p = RandomProgram(rng);
    const ExportedProgram e = SimplifyForExport(p, ExportPrecision::kFloat);
    ASSERT_EQ(static_cast<int>(e.program.instructions.size()), Cost(p)) << trial;
    ASSERT_TRUE(OnlyLiveXDependent(e.program)) << trial;
    with_folding += LiveInstructions(p) > Cost(p) ? 1 : 0;
    with_dead += static_cast<int>(p.instructions.size()) > LiveInstructions(p) ? 1 : 0;
    const CompiledProgram<float> original(p), exported(e.program);
    for (float x : xs) {
      const float want = original.RunOne(x);
      const float got = e.constant_result.has_value() ? static_cast<float>(*e.constant_result)
                                                      : exported.RunOne(x);
      ASSERT_TRUE(testing::SameFloat(want, got)) << "trial " << trial << " x " << x;
    }
  }
  // The random programs exercise what they are for.
  EXPECT_GT(with_folding, 500);
  EXPECT_GT(with_dead, 500);
}

TEST(SimplifyTest, RealExportHasCostInstructions) {
  std::mt19937 rng(13);
  for (int trial = 0; trial < 2000; ++trial) {
    const Program p = RandomProgram(rng);
    const ExportedProgram e = SimplifyForExport(p, ExportPrecision::kReal);
    ASSERT_EQ(static_cast<int>(e.program.instructions.size()), Cost(p)) << trial;
    ASSERT_TRUE(OnlyLiveXDependent(e.program)) << trial;
    ASSERT_TRUE(Validate(e.program).ok()) << trial;
  }
}

}  // namespace
}  // namespace evolv::numerics
