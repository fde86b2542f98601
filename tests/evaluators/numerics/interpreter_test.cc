#include "evaluators/numerics/interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "evaluators/numerics/baselines.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

// Reference: evaluate one instruction at a time in T.
template <typename T>
T Naive(const Program& p, T x) {
  std::vector<T> v(p.num_values());
  v[0] = x;
  for (size_t k = 0; k < p.constants.size(); ++k) v[1 + k] = static_cast<T>(p.constants[k]);
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const Instruction& in = p.instructions[i];
    T r;
    switch (in.op) {
      case Op::kAdd:
        r = v[in.a] + v[in.b];
        break;
      case Op::kSub:
        r = v[in.a] - v[in.b];
        break;
      case Op::kMul:
        r = v[in.a] * v[in.b];
        break;
      case Op::kDiv:
        r = v[in.a] / v[in.b];
        break;
      default:
        r = std::fma(v[in.a], v[in.b], v[in.c]);
        break;
    }
    v[p.value_of(i)] = r;
  }
  return v[p.result()];
}

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
    const float want = Naive<float>(p, x[i]);
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
    const float want = Naive<float>(p, x[i]);
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
    const float want = Naive<float>(p, x[i]);
    EXPECT_EQ(std::memcmp(&y[i], &want, sizeof want), 0) << i;
  }
  const CompiledProgram<long double> l(p);
  for (long double v : {-1.5L, 0.5L, 2.0L}) EXPECT_EQ(l.RunOne(v), Naive<long double>(p, v));
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
  for (long double x : {-1.5L, 0.0L, 0.25L, 3.0L}) EXPECT_EQ(c.RunOne(x), Naive<long double>(p, x));
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

}  // namespace
}  // namespace evolv::numerics
