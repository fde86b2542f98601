#include "evaluators/numerics/targets.h"

#include <gtest/gtest.h>

#include <cmath>

namespace evolv::numerics {
namespace {

TEST(TargetsTest, AllTenAreKnownWithReferences) {
  EXPECT_EQ(TargetNames(), "exp, exp2, log, log2, log1p, erf, sin, cos, tanh, sigmoid");
  EXPECT_EQ(FindTarget("foo"), nullptr);
  EXPECT_EQ(FindTarget("exp2")->reference(10.0L), 1024.0L);
  EXPECT_NEAR(static_cast<double>(FindTarget("sigmoid")->reference(0.0L)), 0.5, 0);
  EXPECT_EQ(FindTarget("log")->domain_lower, 0.0L);
  EXPECT_EQ(FindTarget("log1p")->domain_lower, -1.0L);
}

// Taylor coefficients agree with the function a small step away, for every target.
TEST(TargetsTest, TaylorCoefficientsMatchTheFunction) {
  for (const char* name :
       {"exp", "exp2", "log", "log2", "log1p", "erf", "sin", "cos", "tanh", "sigmoid"}) {
    const Target& t = *FindTarget(name);
    const long double a = 0.7L, h = 0.01L;
    const std::vector<long double> c = TaylorCoefficients(t, a, 8);
    long double sum = 0;
    for (int k = 8; k >= 0; --k) sum = sum * h + c[k];
    EXPECT_NEAR(static_cast<double>(sum), static_cast<double>(t.reference(a + h)), 1e-16) << name;
  }
}

}  // namespace
}  // namespace evolv::numerics
