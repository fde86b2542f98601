#include "search/rng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace evolv {
namespace {

TEST(RngTest, SameSeedGivesSameStream) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    EXPECT_NE(x, c.Next());
  }
}

TEST(RngTest, SaveAndRestoreContinuesExactly) {
  Rng a(7);
  for (int i = 0; i < 10; ++i) a.Next();
  Rng b(999);
  ASSERT_TRUE(b.Restore(a.Save()));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Uniform(), b.Uniform());
}

TEST(RngTest, RestoreRejectsMalformedState) {
  Rng a(1);
  v1::RngState bad;
  bad.add_s(1);
  EXPECT_FALSE(a.Restore(bad));
  EXPECT_EQ(a, Rng(1));
}

TEST(RngTest, BelowIsInRangeAndCoversIt) {
  Rng rng(3);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = rng.Below(7);
    ASSERT_LT(v, 7u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST(RngTest, UniformAndNormalHaveTheRightMoments) {
  Rng rng(5);
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    const double z = rng.Normal();
    sn += z;
    sn2 += z * z;
  }
  EXPECT_NEAR(su / n, 0.5, 0.005);
  EXPECT_NEAR(sn / n, 0.0, 0.01);
  EXPECT_NEAR(sn2 / n, 1.0, 0.02);
}

}  // namespace
}  // namespace evolv
