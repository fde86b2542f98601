#include "evaluators/numerics/fitting.h"

#include <gtest/gtest.h>

#include <cmath>

#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/targets.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

using testing::EvenOddRational;

TEST(FitConstantsTest, DegreeFiveHornerForExp2ReachesChebyshevFigure) {
  const Target& t = *FindTarget("exp2");
  const Samples fit = MakeFitPoints(t, 0, 1, 1024, false);
  const Samples val = MakeValidationPoints(t, 0, 1, 10000, 7, false);
  Program p = HornerProgram(Polynomial(6, 0.5L));  // structure only
  ASSERT_EQ(Cost(p), 10);
  const FitResult r = FitConstants(p, fit, 1);
  const long double err = MaxRelativeError(r.program, val);
  EXPECT_LE(err, 1.5e-7L);
  EXPECT_GT(err, 1e-8L);  // a degree-5 polynomial cannot do much better
}

TEST(FitConstantsTest, NineOpRationalForExp2BeatsThePolynomial) {
  const Target& t = *FindTarget("exp2");
  const Samples fit = MakeFitPoints(t, 0, 1, 1024, false);
  const Samples val = MakeValidationPoints(t, 0, 1, 10000, 7, false);
  const Program p = EvenOddRational();
  ASSERT_EQ(Cost(p), 9);
  const FitResult r = FitConstants(p, fit, 1);
  const long double err = MaxRelativeError(r.program, val);
  EXPECT_LE(err, 2e-8L) << static_cast<double>(err);
}

TEST(FitConstantsTest, ScreeningSubsetLosesLittlePrecision) {
  // The default fit runs on ~160 Chebyshev-nearest samples; fitting on all 1024 must not be much
  // better on the validation points.
  const Target& t = *FindTarget("exp2");
  const Samples fit = MakeFitPoints(t, 0, 1, 1024, false);
  const Samples val = MakeValidationPoints(t, 0, 1, 10000, 7, false);
  FitOptions all;
  all.screen_points = 4096;
  for (const Program& p : {HornerProgram(Polynomial(6, 0.5L)), EvenOddRational()}) {
    const long double screened = MaxRelativeError(FitConstants(p, fit, 1).program, val);
    const long double full = MaxRelativeError(FitConstants(p, fit, 1, all).program, val);
    EXPECT_LE(screened, 1.3L * full)
        << static_cast<double>(screened) << " vs " << static_cast<double>(full);
  }
}

TEST(FitConstantsTest, ReportsTheErrorOfTheReturnedConstants) {
  const Target& t = *FindTarget("exp2");
  const Samples fit = MakeFitPoints(t, 0, 1, 1024, false);
  const FitResult r = FitConstants(EvenOddRational(), fit, 3);
  const long double measured = MaxRelativeError(r.program, fit);
  EXPECT_NEAR(static_cast<double>(r.max_rel_error / measured), 1.0, 1e-9);
}

TEST(FitConstantsTest, IsDeterministic) {
  const Target& t = *FindTarget("exp2");
  const Samples fit = MakeFitPoints(t, 0, 1, 256, false);
  EXPECT_EQ(FitConstants(EvenOddRational(), fit, 5).program,
            FitConstants(EvenOddRational(), fit, 5).program);
}

// Degree-6 minimax polynomial for 2^x on [0, 1] in Horner form, and float validation points.
struct FloatCase {
  Program program = HornerProgram(MinimaxPolynomial(*FindTarget("exp2"), 0, 1, 6));
  Samples val = MakeValidationPoints(*FindTarget("exp2"), 0, 1, 20000, 7, true);
};

TEST(RefineFloatConstantsTest, NeverWorseThanRoundedConstantsAndReportsItsError) {
  const FloatCase f;
  const double rounded = MaxUlpError(f.program, f.val).max_ulp;
  const FloatRefineResult r = RefineFloatConstants(f.program, f.val);
  EXPECT_LE(r.error.max_ulp, rounded);
  EXPECT_EQ(r.error.max_ulp, MaxUlpError(r.program, f.val).max_ulp);
  for (double c : r.program.constants) EXPECT_EQ(c, static_cast<double>(static_cast<float>(c)));
}

TEST(RefineFloatConstantsTest, RepairsAPerturbedConstant) {
  // The constant term of 2^x is exactly 1 at x = 0; pushed 3 ULPs off, the program is >= 3 ULPs
  // wrong there, and the refinement must win ULPs back (it is a local search: not always all).
  FloatCase f;
  size_t k0 = 0;  // the constant term, the constant nearest 1
  for (size_t k = 0; k < f.program.constants.size(); ++k) {
    if (std::abs(f.program.constants[k] - 1) < std::abs(f.program.constants[k0] - 1)) k0 = k;
  }
  float c0 = static_cast<float>(f.program.constants[k0]);
  for (int k = 0; k < 3; ++k) c0 = std::nextafter(c0, 2.0f);
  f.program.constants[k0] = c0;
  const double perturbed = MaxUlpError(f.program, f.val).max_ulp;
  ASSERT_GE(perturbed, 3);
  const FloatRefineResult r = RefineFloatConstants(f.program, f.val);
  EXPECT_LT(r.error.max_ulp, perturbed);
  EXPECT_GE(r.changed_constants, 1);
}

TEST(RefineFloatConstantsTest, IsDeterministic) {
  const FloatCase f;
  EXPECT_EQ(RefineFloatConstants(f.program, f.val).program,
            RefineFloatConstants(f.program, f.val).program);
}

}  // namespace
}  // namespace evolv::numerics
