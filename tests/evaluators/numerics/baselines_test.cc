#include "evaluators/numerics/baselines.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "evaluators/numerics/fitting.h"
#include "evaluators/numerics/interpreter.h"
#include "evaluators/numerics/verify_float.h"

namespace evolv::numerics {
namespace {

using ::testing::HasSubstr;

const std::vector<Op> kBasicOps = {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv};

// The reference on 200,001 evenly spaced points of [lower, upper] (both ends included): an
// evaluation independent of the Remez grid.
Samples Dense(const Target& t, double lower, double upper) {
  Samples s;
  for (int i = 0; i <= 200000; ++i) {
    const long double x =
        i == 200000 ? upper : lower + (static_cast<long double>(upper) - lower) * i / 200000;
    s.x.push_back(x);
    s.y.push_back(t.reference(x));
  }
  return s;
}

// The baselines of `family` and form `form`, in the set's order.
std::vector<const Baseline*> Find(const BaselineSet& set, const std::string& family,
                                  const std::string& form) {
  std::vector<const Baseline*> out;
  for (const Baseline& b : set.baselines) {
    if (b.family == family && b.form == form) out.push_back(&b);
  }
  return out;
}

// Max relative error on the dense points of the minimax polynomials "<prefix>P<m>(<var>)", by
// m, from the first m the set has to the last.
std::vector<long double> PolynomialErrors(const BaselineSet& set, const Samples& dense,
                                          const std::string& prefix, const std::string& var) {
  std::vector<long double> errors;
  for (int m = 0; m <= kMaxPolynomialDegree; ++m) {
    std::vector<const Baseline*> b =
        Find(set, "minimax", prefix + "P" + std::to_string(m) + "(" + var + ")");
    if (b.empty() && !errors.empty()) break;
    if (!b.empty()) errors.push_back(MaxRelativeError(b[0]->program, dense));
  }
  return errors;
}

TEST(BaselinesTest, ErfMinimaxErrorFallsWithEveryDegree) {
  // erf vanishes at 0: a relative-error Remez on erf itself stalls there (the old 2.7e-4 at
  // degree 4, worse at 5, ~5e8 ULP); on erf(x) / x it falls with every degree.
  const Target& erf = *FindTarget("erf");
  const BaselineSet set = ComputeBaselineSet(erf, 0, 1, 10, kBasicOps);
  ASSERT_EQ(set.shape.zeros, std::vector<long double>{0.0L});
  const std::vector<long double> errors = PolynomialErrors(set, Dense(erf, 0, 1), "x*", "x");
  ASSERT_EQ(errors.size(), 7u);  // x*P0 .. x*P6: 1..13 ops
  for (size_t m = 1; m < errors.size(); ++m) EXPECT_LT(errors[m], errors[m - 1]) << m;
  EXPECT_LT(errors[3], 3e-4L);  // degree 4 in x
  EXPECT_LT(errors[6], 2e-6L);  // degree 7
  const std::vector<const Baseline*> odd = Find(set, "minimax", "x*P4(x^2)");
  ASSERT_EQ(odd.size(), 1u);
  EXPECT_EQ(odd[0]->ops, 10);
  EXPECT_LT(MaxRelativeError(odd[0]->program, Dense(erf, 0, 1)), 1.2e-6L);
  const Samples floats = MakeValidationPoints(erf, 0, 1, 10000, 3, true);
  EXPECT_LT(MaxUlpError(odd[0]->program, floats).max_ulp, 100);
}

TEST(BaselinesTest, TanhOddRationalIsBelow1e8AndBeatsItsPade) {
  const Target& tanh = *FindTarget("tanh");
  const BaselineSet set = ComputeBaselineSet(tanh, 0, 1, 10, kBasicOps);
  ASSERT_EQ(set.shape.symmetries.size(), 1u);
  EXPECT_TRUE(set.shape.symmetries[0].odd);
  const Samples dense = Dense(tanh, 0, 1);
  const std::vector<const Baseline*> minimax = Find(set, "minimax", "x*P2(x^2)/Q2(x^2)");
  const std::vector<const Baseline*> pade = Find(set, "pade", "x*P2(x^2)/Q2(x^2)");
  ASSERT_EQ(minimax.size(), 1u);
  ASSERT_EQ(pade.size(), 1u);
  EXPECT_EQ(minimax[0]->ops, 10);
  EXPECT_EQ(Cost(minimax[0]->program), 10);
  const long double minimax_error = MaxRelativeError(minimax[0]->program, dense);
  const long double pade_error = MaxRelativeError(pade[0]->program, dense);
  EXPECT_LT(minimax_error, 1e-8L);
  EXPECT_NEAR(static_cast<double>(pade_error), 6.2e-8, 0.2e-8);  // the [5/4] Padé form
  EXPECT_LT(minimax_error, pade_error / 10);
}

TEST(BaselinesTest, Log2ZeroAtTheLowerEndIsFactoredOutAndErrorFallsWithDegree) {
  const Target& log2 = *FindTarget("log2");
  const BaselineSet set = ComputeBaselineSet(log2, 1, 2, 10, kBasicOps);
  ASSERT_EQ(set.shape.zeros, std::vector<long double>{1.0L});
  EXPECT_TRUE(set.shape.symmetries.empty());
  const Samples dense = Dense(log2, 1, 2);  // holds x = 1, where log2 is 0
  const std::vector<long double> errors = PolynomialErrors(set, dense, "(x-1)*", "x");
  ASSERT_GE(errors.size(), 6u);
  for (size_t m = 1; m < errors.size(); ++m) EXPECT_LT(errors[m], errors[m - 1] / 3) << m;
  EXPECT_LT(errors[4], 1e-4L);  // 10 ops
}

TEST(BaselinesTest, SinOnAQuarterPeriodGetsOddPolynomialsThatBeatFullOnes) {
  const Target& sin = *FindTarget("sin");
  const double half_pi = 1.5707963267948966;
  const BaselineSet set = ComputeBaselineSet(sin, 0, half_pi, 10, kBasicOps);
  ASSERT_EQ(set.shape.symmetries.size(), 1u);
  EXPECT_EQ(set.shape.symmetries[0].center, 0);
  EXPECT_TRUE(set.shape.symmetries[0].odd);
  const Samples dense = Dense(sin, 0, half_pi);
  const std::vector<long double> odd = PolynomialErrors(set, dense, "x*", "x^2");
  const std::vector<long double> full = PolynomialErrors(set, dense, "x*", "x");
  // x*P1(x^2) .. x*P4(x^2), 4..10 ops (x*P0(x^2) is x*P0(x), listed once).
  ASSERT_EQ(odd.size(), 4u);
  for (size_t m = 1; m < odd.size(); ++m) EXPECT_LT(odd[m], odd[m - 1]) << m;
  EXPECT_LT(odd[3], 1e-8L);
  ASSERT_GE(full.size(), 5u);
  EXPECT_LT(odd[3], full[4] / 100);  // x*P4(x), 9 ops
}

TEST(BaselinesTest, ShapeFindsExactZerosAndSymmetries) {
  TargetShape cos = AnalyzeTarget(*FindTarget("cos"), 0, 1);
  EXPECT_TRUE(cos.zeros.empty());
  ASSERT_EQ(cos.symmetries.size(), 1u);
  EXPECT_FALSE(cos.symmetries[0].odd);
  TargetShape log = AnalyzeTarget(*FindTarget("log"), 0.5, 2);
  EXPECT_EQ(log.zeros, std::vector<long double>{1.0L});  // interior, snapped to exactly 1
  EXPECT_TRUE(log.symmetries.empty());
  EXPECT_TRUE(AnalyzeTarget(*FindTarget("sigmoid"), -4, 4).symmetries.empty());
  TargetShape tanh = AnalyzeTarget(*FindTarget("tanh"), -1, 1);
  EXPECT_EQ(tanh.zeros, std::vector<long double>{0.0L});
  ASSERT_EQ(tanh.symmetries.size(), 1u);
  EXPECT_TRUE(tanh.symmetries[0].odd);
  TargetShape cos2 = AnalyzeTarget(*FindTarget("cos"), 0, 2);  // even about 0, odd about pi/2
  ASSERT_EQ(cos2.zeros.size(), 1u);
  EXPECT_NEAR(static_cast<double>(cos2.zeros[0]), M_PI / 2, 1e-15);
  EXPECT_EQ(cos2.symmetries.size(), 2u);
}

TEST(BaselinesTest, OpsAreTheProgramsCostAndRationalsFitTheBudget) {
  const BaselineSet set = ComputeBaselineSet(*FindTarget("exp2"), 0, 1, 10, kBasicOps);
  int rationals = 0;
  for (const Baseline& b : set.baselines) {
    EXPECT_EQ(b.ops, Cost(b.program)) << b.family << " " << b.form;
    EXPECT_TRUE(b.uses_allowed_ops) << b.form;
    if (b.form.find("/Q") != std::string::npos) {
      ++rationals;
      EXPECT_LE(b.ops, 10) << b.form;
    }
  }
  // (m, n) with 2m + 2n <= 10 and n >= 1: 15 pairs, minimax and Padé; nested minimax for
  // 2m + 2n - 1 <= 10 and m >= n >= 1: 6 pairs.
  EXPECT_EQ(rationals, 36);
  EXPECT_TRUE(set.failures.empty());
  const std::vector<const Baseline*> p5 = Find(set, "minimax", "P5(x)");
  ASSERT_EQ(p5.size(), 1u);
  EXPECT_EQ(p5[0]->ops, 10);
}

TEST(BaselinesTest, WithFmaHornerStepsCostOneOp) {
  const std::vector<Op> ops = {Op::kAdd, Op::kMul, Op::kDiv, Op::kFma};
  const BaselineSet set = ComputeBaselineSet(*FindTarget("exp2"), 0, 1, 10, ops);
  const std::vector<const Baseline*> p10 = Find(set, "minimax", "P10(x)");
  ASSERT_EQ(p10.size(), 1u);
  EXPECT_EQ(p10[0]->ops, 10);
  EXPECT_TRUE(p10[0]->uses_allowed_ops);
}

TEST(BaselinesTest, DivisionOutsideTheOpsIsMarked) {
  const BaselineSet set = ComputeBaselineSet(*FindTarget("exp2"), 0, 1, 10, {Op::kAdd, Op::kMul});
  for (const Baseline& b : set.baselines) {
    EXPECT_EQ(b.uses_allowed_ops, b.form.find("/Q") == std::string::npos) << b.form;
  }
}

TEST(BaselinesTest, TargetNotFiniteOnTheIntervalGivesOneFailureWithTheReason) {
  const BaselineSet set = ComputeBaselineSet(*FindTarget("exp"), 0, 12000, 10, kBasicOps);
  EXPECT_TRUE(set.baselines.empty());
  ASSERT_EQ(set.failures.size(), 1u);
  EXPECT_EQ(set.failures[0].form, "all baselines");
  EXPECT_THAT(set.failures[0].reason, HasSubstr("exp is not finite at x = "));
}

TEST(BaselinesTest, ManyZerosFallBackToAbsoluteErrorAndSaySo) {
  const BaselineSet set = ComputeBaselineSet(*FindTarget("sin"), 0, 30, 10, kBasicOps);
  EXPECT_EQ(set.shape.zeros.size(), 10u);
  ASSERT_FALSE(set.baselines.empty());
  for (const Baseline& b : set.baselines) EXPECT_FALSE(b.relative) << b.form;
  std::string notes;
  for (const std::string& n : set.notes) notes += n + "\n";
  EXPECT_THAT(notes, HasSubstr("10 zeros on the interval (more than 4)"));
  EXPECT_THAT(notes, HasSubstr("absolute error"));
}

TEST(BaselinesTest, FloatRefinementNeverLosesUlps) {
  const Target& t = *FindTarget("exp2");
  const BaselineSet set = ComputeBaselineSet(t, 0, 1, 10, kBasicOps);
  const Samples real = MakeValidationPoints(t, 0, 1, 10000, 3, false);
  const Samples fl = MakeValidationPoints(t, 0, 1, 10000, 3, true);
  const std::vector<BaselineRow> plain = MeasureBaselines(set, real, fl, false);
  const std::vector<BaselineRow> refined = MeasureBaselines(set, real, fl, true);
  ASSERT_EQ(plain.size(), refined.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_LE(refined[i].max_ulp, plain[i].max_ulp) << plain[i].baseline->form;
    EXPECT_EQ(refined[i].rel_error, plain[i].rel_error);
  }
}

// Long double values of `p` on the dense points.
std::vector<long double> Values(const Program& p, const Samples& dense) {
  std::vector<long double> v(dense.x.size());
  CompiledProgram<long double>(p).Run(dense.x.data(), v.data(), v.size());
  return v;
}

// Each nested minimax rational is the function of its P/Q form (to the rounding of the
// constants to double), written with one op fewer -- or as many where w = x - lower costs one
// that no zero factor shares.
void ExpectNestedFormsMatch(const char* target, double lower, double upper, int max_ops,
                            int saved_ops, int expected_pairs) {
  const Target& t = *FindTarget(target);
  const BaselineSet set = ComputeBaselineSet(t, lower, upper, max_ops, kBasicOps);
  const Samples dense = Dense(t, lower, upper);
  int pairs = 0;
  for (const Baseline& nested : set.baselines) {
    const size_t at = nested.form.find(" nested");
    if (at == std::string::npos) continue;
    EXPECT_EQ(nested.kind.substr(nested.kind.size() - 7), " nested") << nested.kind;
    const std::vector<const Baseline*> plain = Find(set, nested.family, nested.form.substr(0, at));
    if (plain.empty()) continue;  // its P/Q form is over the budget
    ++pairs;
    EXPECT_EQ(nested.ops, plain[0]->ops - saved_ops) << nested.form;
    const std::vector<long double> a = Values(nested.program, dense),
                                   b = Values(plain[0]->program, dense);
    long double diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, fabsl(a[i] - b[i]) / fabsl(b[i]));
    EXPECT_LT(diff, 1e-13L) << nested.form;
  }
  EXPECT_EQ(pairs, expected_pairs) << target;
}

TEST(BaselinesTest, NestedRationalsAreTheSameFunctionsWithFewerOps) {
  ExpectNestedFormsMatch("exp2", 0, 1, 10, 1, 6);
  ExpectNestedFormsMatch("log2", 1, 2, 12, 1, 6);  // (x-1) shared by the anchor and the zero
  ExpectNestedFormsMatch("exp", 1, 2, 10, 0, 6);   // w = x - 1 costs the op it saves
}

TEST(BaselinesTest, NestedP4Q1KeepsFloat32Exp2WithinOneUlpOnEveryFloatOfTheInterval) {
  // exp2 on [0, 1] in float needs a 12-op polynomial for 1 ULP; the P/Q forms of 10 ops give
  // 2 ULP: rounding P, Q and the division costs about 1.5 ULP. Nested, the rational's rounding
  // is scaled by x^3 and the result's by the Horner steps' own: 1 ULP with 9 ops.
  const Target& t = *FindTarget("exp2");
  const BaselineSet set = ComputeBaselineSet(t, 0, 1, 10, kBasicOps);
  const std::vector<const Baseline*> nested = Find(set, "minimax", "P4(x)/Q1(x) nested");
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_EQ(nested[0]->ops, 9);
  // As a FLOAT32 evaluation takes it: constants fitted in float ULPs, then refined over
  // neighbouring floats.
  FitOptions in_ulps;
  in_ulps.float_ulps = true;
  const FitResult fit =
      FitConstants(nested[0]->program, MakeFitPoints(t, 0, 1, 1024, true), 1, in_ulps);
  const Samples fl = MakeValidationPoints(t, 0, 1, 10000, 3, true);
  const FloatRefineResult refined = RefineFloatConstants(fit.program, fl);
  const ExhaustiveResult all = VerifyAllFloats(refined.program, t, 0.0f, 1.0f);
  EXPECT_LE(all.max_ulp, 1.0) << "worst at x = " << all.worst_x;
  EXPECT_EQ(all.checked, 1065353217u);
}

TEST(BaselinesTest, MinimaxPolynomialVanishesExactlyAtAZeroAtTheOrigin) {
  const Polynomial p = MinimaxPolynomial(*FindTarget("erf"), 0, 1, 5);
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0], 0.0L);
  EXPECT_LT(MaxRelativeError(HornerProgram(p), Dense(*FindTarget("erf"), 0, 1)), 1e-4L);
}

class Exp2BaselinesTest : public ::testing::Test {
 protected:
  const Target& t = *FindTarget("exp2");
  const Samples real = MakeValidationPoints(t, 0, 1, 10000, 3, false);
};

TEST_F(Exp2BaselinesTest, MinimaxIsAtMostTheReferenceChebyshevColumn) {
  const double chebyshev[] = {1.0e-4, 3.5e-6, 1.0e-7, 2.5e-9};  // degrees 3..6
  for (int d = 3; d <= 6; ++d) {
    const long double err = MaxRelativeError(HornerProgram(MinimaxPolynomial(t, 0, 1, d)), real);
    EXPECT_LE(err, chebyshev[d - 3]) << "degree " << d;
    EXPECT_GT(err, chebyshev[d - 3] / 4) << "degree " << d;  // and not impossibly good
  }
}

TEST_F(Exp2BaselinesTest, TaylorAtZeroMatchesReference) {
  const double taylor[] = {5.6e-3, 7.5e-4, 8.5e-5, 8.3e-6};  // degrees 3..6
  for (int d = 3; d <= 6; ++d) {
    const long double err = MaxRelativeError(HornerProgram(TaylorPolynomial(t, 0, d)), real);
    EXPECT_NEAR(err / taylor[d - 3], 1.0, 0.05) << "degree " << d;
  }
}

TEST_F(Exp2BaselinesTest, HornerCostsTwoOpsPerDegree) {
  EXPECT_EQ(Cost(HornerProgram({1, 2, 3, 4})), 6);
}

TEST_F(Exp2BaselinesTest, SmallestFloatDegreeWithinOneUlp) {
  const Samples fl = MakeValidationPoints(t, 0, 1, 10000, 3, true);
  const int d = SmallestFloatMinimaxDegree(t, 0, 1, fl);
  EXPECT_GE(d, 5);
  EXPECT_LE(d, 8);
  EXPECT_LE(MaxUlpError(HornerProgram(MinimaxPolynomial(t, 0, 1, d)), fl).max_ulp, 1.0);
  EXPECT_GT(MaxUlpError(HornerProgram(MinimaxPolynomial(t, 0, 1, d - 1)), fl).max_ulp, 1.0);
}

}  // namespace
}  // namespace evolv::numerics
