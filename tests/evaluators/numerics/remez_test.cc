#include "evaluators/numerics/remez.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace evolv::numerics {
namespace {

using ::testing::HasSubstr;

// Max weighted error of p / q against h on 100,001 evenly spaced points (independent of the
// Remez grid), in long double.
long double DenseError(const RationalFit& fit, long double (*h)(long double), long double lower,
                       long double upper, bool relative) {
  long double worst = 0;
  for (int i = 0; i <= 100000; ++i) {
    const long double u = lower + (upper - lower) * i / 100000;
    const long double e = Horner(fit.p, u) / Horner(fit.q, u) - h(u);
    worst = std::max(worst, fabsl(relative ? e / h(u) : e));
  }
  return worst;
}

long double Exp(long double u) { return expl(u); }

TEST(MinimaxGridTest, BestLinearApproximationOfExpHasTheClassicalError) {
  // p(x) = a + sinh(1) x, error (e^-1 + sinh(1) - e^x* + sinh(1) x*) / 2 at x* = ln sinh(1).
  MinimaxGrid grid(Exp, -1, 1, /*relative=*/false);
  absl::StatusOr<RationalFit> fit = grid.Fit(1, 0);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_NEAR(static_cast<double>(fit->p[1]), std::sinh(1.0), 1e-6);
  EXPECT_NEAR(static_cast<double>(fit->level), 0.2788015857955024, 1e-6);
  EXPECT_NEAR(static_cast<double>(DenseError(*fit, Exp, -1, 1, false)), 0.2788015857955024, 1e-6);
}

TEST(MinimaxGridTest, RationalFitsEquioscillateOnAnIndependentGrid) {
  // The dense error equal to the levelled error means equioscillation, so each fit is within the
  // grid's resolution of the true minimax (de la Vallée Poussin); more terms always help.
  MinimaxGrid grid(Exp, 0, 1, /*relative=*/true);
  long double previous = INFINITY;
  for (int d = 1; d <= 4; ++d) {
    absl::StatusOr<RationalFit> fit = grid.Fit(d, d);
    ASSERT_TRUE(fit.ok()) << "[" << d << "/" << d << "]: " << fit.status();
    const long double dense = DenseError(*fit, Exp, 0, 1, true);
    EXPECT_NEAR(static_cast<double>(dense / fit->level), 1.0, 1e-3) << d;
    EXPECT_LT(dense, previous / 100) << d;
    previous = dense;
  }
}

TEST(MinimaxGridTest, DenominatorIsPositiveOnTheInterval) {
  MinimaxGrid grid(Exp, 0, 1, true);
  absl::StatusOr<RationalFit> fit = grid.Fit(0, 3);
  ASSERT_TRUE(fit.ok()) << fit.status();
  for (int i = 0; i <= 1000; ++i) EXPECT_GT(Horner(fit->q, i / 1000.0L), 0) << i;
}

TEST(MinimaxGridTest, EvenFunctionOnASymmetricIntervalStillConverges) {
  // From the Chebyshev extrema the error of an even function alternates too few times; the Lawson
  // start recovers.
  MinimaxGrid grid([](long double u) { return coshl(u); }, -1, 1, true);
  for (int d = 1; d <= 6; ++d) {
    absl::StatusOr<RationalFit> fit = grid.Fit(d, 0);
    EXPECT_TRUE(fit.ok()) << d << ": " << fit.status();
  }
}

TEST(MinimaxGridTest, FunctionNotFiniteOnTheIntervalIsAnErrorNamingThePoint) {
  MinimaxGrid grid([](long double u) { return logl(u); }, 0, 1, /*relative=*/false);
  absl::StatusOr<RationalFit> fit = grid.Fit(2, 0);
  ASSERT_FALSE(fit.ok());
  EXPECT_THAT(fit.status().message(), HasSubstr("not finite at 0"));
}

TEST(MinimaxGridTest, RemovableSingularityIsAvoided) {
  // sin(u) / u is 0 / 0 at u = 0; the grid steps off it.
  MinimaxGrid grid([](long double u) { return sinl(u) / u; }, 0, 1, true, {0.0L});
  absl::StatusOr<RationalFit> fit = grid.Fit(4, 0);
  ASSERT_TRUE(fit.ok()) << fit.status();
  const long double dense = DenseError(
      *fit, [](long double u) { return u == 0 ? 1.0L : sinl(u) / u; }, 0, 1, true);
  EXPECT_NEAR(static_cast<double>(dense / fit->level), 1.0, 1e-3);
}

}  // namespace
}  // namespace evolv::numerics
