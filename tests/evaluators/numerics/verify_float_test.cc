#include "evaluators/numerics/verify_float.h"

#include <gtest/gtest.h>

#include <cmath>

#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/interpreter.h"

namespace evolv::numerics {
namespace {

TEST(VerifyAllFloatsTest, ConstantProgramIsExactAtItsOnePoint) {
  // exp2 of x on [3, 3]: a single float; the program returns the constant 8.
  Program p;
  p.constants = {8.0};
  p.instructions = {{Op::kMul, 1, 1, 0}, {Op::kDiv, 2, 1, 0}};  // 64 / 8, constant
  const ExhaustiveResult r = VerifyAllFloats(p, *FindTarget("exp2"), 3.0f, 3.0f);
  EXPECT_EQ(r.checked, 1u);
  EXPECT_EQ(r.max_ulp, 0.0);
}

TEST(VerifyAllFloatsTest, CountsEveryFloatAndFindsTheWorstOne) {
  const Target& t = *FindTarget("exp2");
  // Degree-3 minimax on [1, 1.0625]: every float checked; the error is measured, not sampled.
  const Program p = HornerProgram(MinimaxPolynomial(t, 1.0, 1.0625, 3));
  const ExhaustiveResult r = VerifyAllFloats(p, t, 1.0f, 1.0625f, 2);
  EXPECT_EQ(r.checked, (1u << 19) + 1);  // 2^-4 / 2^-23 steps, both ends included
  EXPECT_GE(r.max_ulp, 1.0);
  // The worst x really has that error.
  const float y = CompiledProgram<float>(p).RunOne(r.worst_x);
  const float ref = static_cast<float>(t.reference(r.worst_x));
  EXPECT_EQ(static_cast<double>(UlpDistance(y, ref)), r.max_ulp);
  // Same answer with one thread (deterministic split).
  const ExhaustiveResult one = VerifyAllFloats(p, t, 1.0f, 1.0625f, 1);
  EXPECT_EQ(one.max_ulp, r.max_ulp);
  EXPECT_EQ(one.worst_x, r.worst_x);
}

TEST(VerifyAllFloatsTest, FastReferenceAgreesWithLongDouble) {
  // Program = x (empty); target sin near 0.5: the error in ULPs must equal a direct
  // long double computation on a sample of floats.
  const Target& t = *FindTarget("sin");
  Program p;
  const ExhaustiveResult r = VerifyAllFloats(p, t, 0.5f, 0.5001f);
  double want = 0;
  for (float x = 0.5f; x <= 0.5001f; x = std::nextafter(x, 1.0f)) {
    want = std::max(want, static_cast<double>(UlpDistance(x, static_cast<float>(sinl(x)))));
  }
  EXPECT_EQ(r.max_ulp, want);
}

}  // namespace
}  // namespace evolv::numerics
