#include "evaluators/numerics/error_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace evolv::numerics {
namespace {

TEST(ErrorMetricsTest, UlpDistanceCountsRepresentableFloats) {
  EXPECT_EQ(UlpDistance(1.0f, 1.0f), 0u);
  EXPECT_EQ(UlpDistance(0.0f, -0.0f), 0u);
  EXPECT_EQ(UlpDistance(1.0f, std::nextafter(1.0f, 2.0f)), 1u);
  EXPECT_EQ(UlpDistance(std::nextafter(1.0f, 0.0f), std::nextafter(1.0f, 2.0f)), 2u);
  // Across zero: the smallest subnormals on each side are two apart.
  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(UlpDistance(-tiny, tiny), 2u);
}

TEST(ErrorMetricsTest, PointSetsCoverTheIntervalDeterministically) {
  const Target* exp2 = FindTarget("exp2");
  ASSERT_NE(exp2, nullptr);
  const Samples a = MakeValidationPoints(*exp2, 0.0, 1.0, 10000, 7, false);
  const Samples b = MakeValidationPoints(*exp2, 0.0, 1.0, 10000, 7, false);
  ASSERT_GE(a.x.size(), 10000u);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.x.front(), 0.0L);
  EXPECT_EQ(a.x.back(), 1.0L);
  for (size_t i = 0; i < a.x.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(a.y[i]), std::exp2(static_cast<double>(a.x[i])), 1e-15);
  }
  const Samples fit = MakeFitPoints(*exp2, 0.0, 1.0, 64, true);
  for (long double x : fit.x) EXPECT_EQ(x, static_cast<long double>(static_cast<float>(x)));
}

TEST(ErrorMetricsTest, RelativeAndUlpErrorsOfKnownOutputs) {
  Samples s;
  s.x = {0.0L, 1.0L};
  s.y = {1.0L, 2.0L};
  EXPECT_NEAR(static_cast<double>(MaxRelativeError({1.01L, 2.0L}, s)), 0.01, 1e-15);
  EXPECT_TRUE(std::isinf(MaxRelativeError({NAN, 2.0L}, s)));
  const UlpError exact = MaxUlpError(std::vector<float>{1.0f, 2.0f}, s);
  EXPECT_EQ(exact.max_ulp, 0.0);
  const UlpError off = MaxUlpError(std::vector<float>{1.0f, std::nextafter(2.0f, 0.0f)}, s);
  EXPECT_EQ(off.max_ulp, 1.0);
  EXPECT_EQ(off.worst_x, 1.0f);
}

TEST(ErrorMetricsTest, EvenSubsampleKeepsTheEndsAndSpreadsEvenly) {
  Samples s;
  for (int i = 0; i < 1001; ++i) {
    s.x.push_back(i);
    s.y.push_back(2 * i);
  }
  const Samples small = EvenSubsample(s, 11);
  ASSERT_EQ(small.x.size(), 11u);
  for (int i = 0; i < 11; ++i) {
    EXPECT_EQ(small.x[i], 100.0L * i);
    EXPECT_EQ(small.y[i], 200.0L * i);
  }
  const Samples all = EvenSubsample(s, 5000);
  EXPECT_EQ(all.x, s.x);
  EXPECT_EQ(all.y, s.y);
}

}  // namespace
}  // namespace evolv::numerics
