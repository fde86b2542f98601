#include "evaluators/numerics/probe.h"

#include <gtest/gtest.h>

#include "evaluators/numerics/program_edit.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

const FunctionalProbe kReal(0, 1, false);
const FunctionalProbe kFloat(0, 1, true);

Program Times(double c) {  // x * c
  Program p;
  p.constants = {c};
  p.instructions = {{Op::kMul, 0, 1, 0}};
  return p;
}

TEST(FunctionalProbeTest, EqualFunctionsWithEqualStructuralFactsShareAProbe) {
  Program commuted;  // c * x
  commuted.constants = {2.0};
  commuted.instructions = {{Op::kMul, 1, 0, 0}};
  Program with_dead = Times(2);  // x * 2 after a dead x - 2
  with_dead.instructions.insert(with_dead.instructions.begin(), {Op::kSub, 0, 1, 0});
  with_dead.instructions[1] = {Op::kMul, 0, 1, 0};
  Program twice_minus;  // (x + x) - c
  twice_minus.constants = {0.5};
  twice_minus.instructions = {{Op::kAdd, 0, 0, 0}, {Op::kSub, 2, 1, 0}};
  Program nested;  // x + (x - c)
  nested.constants = {0.5};
  nested.instructions = {{Op::kSub, 0, 1, 0}, {Op::kAdd, 0, 2, 0}};
  for (const FunctionalProbe* probe : {&kReal, &kFloat}) {
    EXPECT_EQ(probe->Bytes(Times(2)), probe->Bytes(commuted));
    EXPECT_EQ(probe->Bytes(Times(2)), probe->Bytes(with_dead));
  }
  // Equal in real arithmetic; in float they round differently, which evaluation would see.
  EXPECT_EQ(kReal.Bytes(twice_minus), kReal.Bytes(nested));
  EXPECT_NE(kFloat.Bytes(twice_minus), kFloat.Bytes(nested));
}

TEST(FunctionalProbeTest, TheOrderOfConstantsDoesNotMatter) {
  Program a;  // x * c0 + c1
  a.constants = {3.0, 0.25};
  a.instructions = {{Op::kMul, 0, 1, 0}, {Op::kAdd, 3, 2, 0}};
  Program b;  // c1 + c0 * x, with the constants the other way round
  b.constants = {0.25, 3.0};
  b.instructions = {{Op::kMul, 2, 0, 0}, {Op::kAdd, 1, 3, 0}};
  EXPECT_EQ(kReal.Bytes(a), kReal.Bytes(b));
  EXPECT_EQ(kFloat.Bytes(a), kFloat.Bytes(b));
}

// The probe holds what sets the objectives: equal functions whose cost, instruction count or
// free constants differ must not share a key.
TEST(FunctionalProbeTest, RedundantConstantsAndCostsSeparateEqualFunctions) {
  Program pair;  // (x * c0) * c1 = x * 6: cost 2
  pair.constants = {2.0, 3.0};
  pair.instructions = {{Op::kMul, 0, 1, 0}, {Op::kMul, 3, 2, 0}};
  Program folded;  // x * (c0 * c1) = x * 6: cost 1, 2 instructions, 2 free constants
  folded.constants = {2.0, 3.0};
  folded.instructions = {{Op::kMul, 1, 2, 0}, {Op::kMul, 0, 3, 0}};
  Program sum;  // x + x = x * 2 without a constant to fit
  sum.instructions = {{Op::kAdd, 0, 0, 0}};
  for (const FunctionalProbe* probe : {&kReal, &kFloat}) {
    EXPECT_NE(probe->Bytes(pair), probe->Bytes(Times(6)));
    EXPECT_NE(probe->Bytes(folded), probe->Bytes(Times(6)));
    EXPECT_NE(probe->Bytes(pair), probe->Bytes(folded));
    EXPECT_NE(probe->Bytes(sum), probe->Bytes(Times(2)));
    EXPECT_NE(probe->Bytes(Times(2)), probe->Bytes(Times(3)));
  }
  EXPECT_EQ(FreeConstants(folded), 2);
  EXPECT_EQ(FreeConstants(sum), 0);
}

// How each constant enters the function is part of the probe: the fit moves x * c and x / c'
// (c' = 1/c) along different paths, and lands in different places.
TEST(FunctionalProbeTest, ParametrizationSeparatesEqualFunctions) {
  Program quotient;  // x / 0.5 = x * 2
  quotient.constants = {0.5};
  quotient.instructions = {{Op::kDiv, 0, 1, 0}};
  EXPECT_NE(kReal.Bytes(quotient), kReal.Bytes(Times(2)));
  EXPECT_NE(kFloat.Bytes(quotient), kFloat.Bytes(Times(2)));
}

TEST(FunctionalProbeTest, SeesSingularitiesAtTheEnds) {
  Program ratio;  // (x * x) / x: x except NaN at 0
  ratio.instructions = {{Op::kMul, 0, 0, 0}, {Op::kDiv, 1, 0, 0}};
  Program difference;  // (x + x) - x: x everywhere
  difference.instructions = {{Op::kAdd, 0, 0, 0}, {Op::kSub, 1, 0, 0}};
  EXPECT_NE(kReal.Bytes(ratio), kReal.Bytes(difference));
  EXPECT_EQ(FunctionalProbe(0.5, 1, false).Bytes(ratio),
            FunctionalProbe(0.5, 1, false).Bytes(difference));
}

// In float, (x + c0) + c1 and (x + c1) + c0 round differently; in real arithmetic (24 bits) they
// are the same function.
TEST(FunctionalProbeTest, Float32SeesRoundingDifferences) {
  Program a;
  a.constants = {0.1, 0.7};
  a.instructions = {{Op::kAdd, 0, 1, 0}, {Op::kAdd, 3, 2, 0}};
  Program b = a;
  b.instructions = {{Op::kAdd, 0, 2, 0}, {Op::kAdd, 3, 1, 0}};
  EXPECT_EQ(kReal.Bytes(a), kReal.Bytes(b));
  EXPECT_NE(kFloat.Bytes(a), kFloat.Bytes(b));
}

// Float rounding at the constants evaluation ends up with counts too: on [1, 2], (x - c*c) - x
// and (x - x) - c*c are both exactly -1 in float at c = 1, but not once the fit moves c.
TEST(FunctionalProbeTest, Float32SeesRoundingAtMovedConstants) {
  Program a;
  a.constants = {1.0};
  a.instructions = {{Op::kMul, 1, 1, 0}, {Op::kSub, 0, 2, 0}, {Op::kSub, 3, 0, 0}};
  Program b = a;
  b.instructions = {{Op::kMul, 1, 1, 0}, {Op::kSub, 0, 0, 0}, {Op::kSub, 3, 2, 0}};
  const FunctionalProbe real(1, 2, false), single(1, 2, true);
  EXPECT_EQ(real.Bytes(a), real.Bytes(b));
  EXPECT_NE(single.Bytes(a), single.Bytes(b));
}

TEST(FunctionalProbeTest, CanonicalConstantOrderFollowsHowConstantsEnter) {
  Program a;  // x * c0 + c1
  a.constants = {3.0, 0.25};
  a.instructions = {{Op::kMul, 0, 1, 0}, {Op::kAdd, 3, 2, 0}};
  Program b;  // c1 + c0 * x, with the constants the other way round
  b.constants = {0.25, 3.0};
  b.instructions = {{Op::kMul, 2, 0, 0}, {Op::kAdd, 1, 3, 0}};
  const std::vector<size_t> order_a = kReal.CanonicalConstantOrder(a);
  const std::vector<size_t> order_b = kReal.CanonicalConstantOrder(b);
  ASSERT_EQ(order_a.size(), 2u);
  ASSERT_EQ(order_b.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {  // corresponding constants at the same positions
    EXPECT_EQ(a.constants[order_a[i]], b.constants[order_b[i]]);
  }
  Program dead = a;  // a dead constant is not listed
  AddConstant(dead, 5.0);
  EXPECT_EQ(kReal.CanonicalConstantOrder(dead), order_a);
}

TEST(FunctionalProbeTest, InputsIncludeBothEndsAndAreFloatsInFloat32Mode) {
  const FunctionalProbe probe(0.1, 0.7, true);
  ASSERT_EQ(probe.inputs().size(), static_cast<size_t>(FunctionalProbe::kPoints));
  EXPECT_EQ(probe.inputs()[0], static_cast<float>(0.1));
  EXPECT_EQ(probe.inputs()[1], static_cast<float>(0.7));
  for (long double x : probe.inputs()) {
    EXPECT_EQ(x, static_cast<float>(x));
    EXPECT_GE(x, static_cast<float>(0.1));
    EXPECT_LE(x, static_cast<float>(0.7));
  }
  const std::string bytes = kReal.Bytes(testing::EvenOddRational());
  EXPECT_EQ(bytes.size(), 12u + (1 + 4) * 8u * FunctionalProbe::kPoints);  // 4 free constants
}

}  // namespace
}  // namespace evolv::numerics
