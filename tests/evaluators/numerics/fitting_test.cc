#include "evaluators/numerics/fitting.h"

#include <gtest/gtest.h>

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

TEST(FitConstantsTest, IsDeterministic) {
  const Target& t = *FindTarget("exp2");
  const Samples fit = MakeFitPoints(t, 0, 1, 256, false);
  EXPECT_EQ(FitConstants(EvenOddRational(), fit, 5).program,
            FitConstants(EvenOddRational(), fit, 5).program);
}

}  // namespace
}  // namespace evolv::numerics
