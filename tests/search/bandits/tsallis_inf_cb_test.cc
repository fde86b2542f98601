#include "search/bandits/tsallis_inf_cb.h"

#include <numeric>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;

TEST(TsallisInfCbTest, BinsCoverTheRangeAndClampOutside) {
  TsallisInfCb bandit = *TsallisInfCb::Create(3, 1.0, 4, 0.0, 1.0);
  EXPECT_EQ(bandit.Bin(-5.0), 0);
  EXPECT_EQ(bandit.Bin(0.1), 0);
  EXPECT_EQ(bandit.Bin(0.3), 1);
  EXPECT_EQ(bandit.Bin(0.99), 3);
  EXPECT_EQ(bandit.Bin(1.0), 3);
  EXPECT_EQ(bandit.Bin(7.0), 3);
}

TEST(TsallisInfCbTest, LearnsADifferentBestArmPerBin) {
  // Arm 0 is best for contexts < 0.5, arm 2 for contexts >= 0.5.
  TsallisInfCb bandit = *TsallisInfCb::Create(3, 1.0, 2, 0.0, 1.0);
  Rng rng(5);
  for (int t = 0; t < 6000; ++t) {
    const double context = rng.Uniform();
    const BanditDraw draw = bandit.Sample(context, rng);
    const std::vector<double> p = bandit.Probabilities(context);
    ASSERT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-9);
    const int best = context < 0.5 ? 0 : 2;
    const double loss = draw.arm == best ? 0.1 : 0.6;
    ASSERT_TRUE(bandit.Update(context, draw.arm, loss, draw.probability).ok());
  }
  EXPECT_GT(bandit.Probabilities(0.2)[0], 0.85);
  EXPECT_GT(bandit.Probabilities(0.8)[2], 0.85);
}

TEST(TsallisInfCbTest, SaveRestoreContinuesIdentically) {
  TsallisInfCb a = *TsallisInfCb::Create(5, 1.0, 3, -1.0, 1.0);
  Rng rng(9);
  auto step = [](TsallisInfCb& bandit, Rng& r) {
    const double context = r.Uniform(-1.0, 1.0);
    const BanditDraw draw = bandit.Sample(context, r);
    ASSERT_TRUE(bandit.Update(context, draw.arm, r.Uniform(), draw.probability).ok());
  };
  for (int t = 0; t < 50; ++t) step(a, rng);
  TsallisInfCb b = *TsallisInfCb::Create(5, 1.0, 3, -1.0, 1.0);
  ASSERT_TRUE(b.Restore(a.Save()).ok());
  Rng rng_b = rng;
  for (int t = 0; t < 50; ++t) {
    step(a, rng);
    step(b, rng_b);
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a.Save().bins[i].loss_estimates, b.Save().bins[i].loss_estimates);
  }
  EXPECT_TRUE(rng == rng_b);
}

TEST(TsallisInfCbTest, RejectsBadInputsNamingTheField) {
  EXPECT_THAT(TsallisInfCb::Create(3, 1.0, 0, 0.0, 1.0).status().message(), HasSubstr("num_bins"));
  EXPECT_THAT(TsallisInfCb::Create(3, 1.0, 2, 1.0, 1.0).status().message(),
              HasSubstr("context_range"));
  EXPECT_THAT(TsallisInfCb::Create(0, 1.0, 2, 0.0, 1.0).status().message(), HasSubstr("num_arms"));
  TsallisInfCb bandit = *TsallisInfCb::Create(3, 1.0, 2, 0.0, 1.0);
  TsallisInfCbState wrong;
  wrong.bins.resize(5);
  EXPECT_THAT(bandit.Restore(wrong).message(), HasSubstr("bins"));
}

}  // namespace
}  // namespace evolv
