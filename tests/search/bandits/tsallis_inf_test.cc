#include "search/bandits/tsallis_inf.h"

#include <cmath>
#include <numeric>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;

// Arm i has Bernoulli-ish loss with mean means[i] (losses in {0, 1} scaled by loss_scale 1).
double DrawLoss(const std::vector<double>& means, int arm, Rng& rng) {
  return rng.Bernoulli(means[arm]) ? 1.0 : 0.0;
}

TEST(TsallisInfTest, StartsUniform) {
  TsallisInf bandit = *TsallisInf::Create(5, 1.0);
  for (double p : bandit.Probabilities()) EXPECT_NEAR(p, 0.2, 1e-12);
}

TEST(TsallisInfTest, ProbabilitiesSumToOneAtEveryStep) {
  TsallisInf bandit = *TsallisInf::Create(20, 100.0);
  Rng rng(7);
  for (int t = 0; t < 3000; ++t) {
    const std::vector<double> p = bandit.Probabilities();
    ASSERT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-9) << "round " << t;
    for (double value : p) ASSERT_GT(value, 0.0);
    const BanditDraw draw = bandit.Sample(rng);
    ASSERT_DOUBLE_EQ(draw.probability, p[draw.arm]);
    // Losses up to 3x the scale: estimates still stay finite and normalizable.
    ASSERT_TRUE(
        bandit.Update(draw.arm, 10.0 * (draw.arm + 1) + 50 * rng.Uniform(), draw.probability).ok());
  }
}

TEST(TsallisInfTest, ProbabilityFollowsTheClosedForm) {
  // p_i = 4 (eta (L_i - x))^-2 for one common x.
  const std::vector<double> losses = {0.0, 3.0, 10.0, 40.0};
  const double eta = 2.0 / std::sqrt(17.0);
  const std::vector<double> p = TsallisInfProbabilities(losses, eta);
  const double x = losses[0] - 2.0 / (eta * std::sqrt(p[0]));
  for (size_t i = 0; i < losses.size(); ++i) {
    EXPECT_NEAR(p[i], 4.0 / std::pow(eta * (losses[i] - x), 2), 1e-12);
  }
}

TEST(TsallisInfTest, ConcentratesOnTheClearlyBestArm) {
  const std::vector<double> means = {0.5, 0.5, 0.1, 0.5, 0.5, 0.6};
  TsallisInf bandit = *TsallisInf::Create(static_cast<int>(means.size()), 1.0);
  Rng rng(11);
  int best_pulls_late = 0;
  for (int t = 0; t < 5000; ++t) {
    const BanditDraw draw = bandit.Sample(rng);
    if (t >= 4000 && draw.arm == 2) ++best_pulls_late;
    ASSERT_TRUE(bandit.Update(draw.arm, DrawLoss(means, draw.arm, rng), draw.probability).ok());
  }
  EXPECT_GT(bandit.Probabilities()[2], 0.9);
  EXPECT_GT(best_pulls_late, 850);
}

TEST(TsallisInfTest, SaveRestoreContinuesIdentically) {
  TsallisInf a = *TsallisInf::Create(4, 2.0);
  Rng rng(3);
  for (int t = 0; t < 100; ++t) {
    const BanditDraw draw = a.Sample(rng);
    ASSERT_TRUE(a.Update(draw.arm, rng.Uniform() * 2.0, draw.probability).ok());
  }
  TsallisInf b = *TsallisInf::Create(4, 2.0);
  ASSERT_TRUE(b.Restore(a.Save()).ok());
  Rng rng_b = rng;
  for (int t = 0; t < 100; ++t) {
    const BanditDraw da = a.Sample(rng);
    const BanditDraw db = b.Sample(rng_b);
    ASSERT_EQ(da.arm, db.arm);
    ASSERT_EQ(da.probability, db.probability);
    const double loss = rng.Uniform();
    ASSERT_EQ(loss, rng_b.Uniform());
    ASSERT_TRUE(a.Update(da.arm, loss, da.probability).ok());
    ASSERT_TRUE(b.Update(db.arm, loss, db.probability).ok());
  }
  EXPECT_EQ(a.Save().loss_estimates, b.Save().loss_estimates);
  EXPECT_EQ(a.Save().rounds, 200);
}

TEST(TsallisInfTest, RejectsBadInputsNamingTheField) {
  EXPECT_THAT(TsallisInf::Create(0, 1.0).status().message(), HasSubstr("num_arms"));
  EXPECT_THAT(TsallisInf::Create(3, 0.0).status().message(), HasSubstr("loss_scale"));
  TsallisInf bandit = *TsallisInf::Create(3, 1.0);
  EXPECT_THAT(bandit.Update(3, 1.0, 0.5).message(), HasSubstr("arm"));
  EXPECT_THAT(bandit.Update(0, 1.0, 0.0).message(), HasSubstr("probability"));
  EXPECT_THAT(bandit.Update(0, -1.0, 0.5).message(), HasSubstr("loss"));
  EXPECT_EQ(bandit.Save().rounds, 0);
  TsallisInfState wrong;
  wrong.loss_estimates = {0.0};
  EXPECT_THAT(bandit.Restore(wrong).message(), HasSubstr("loss_estimates"));
}

}  // namespace
}  // namespace evolv

namespace evolv {
namespace {

TEST(TsallisInfBaselineTest, BaselineShiftsOnlyThePlayedArmsEstimate) {
  auto plain = TsallisInf::Create(3, 10.0);
  auto shifted = TsallisInf::Create(3, 10.0, 0.5);
  ASSERT_TRUE(plain.ok() && shifted.ok());
  ASSERT_TRUE(plain->Update(1, 4.0, 0.25).ok());
  ASSERT_TRUE(shifted->Update(1, 4.0, 0.25).ok());
  EXPECT_DOUBLE_EQ(plain->Save().loss_estimates[1], 0.4 / 0.25);
  EXPECT_DOUBLE_EQ(shifted->Save().loss_estimates[1], (0.4 - 0.5) / 0.25);
  EXPECT_DOUBLE_EQ(shifted->Save().loss_estimates[0], 0.0);
  // A loss below the baseline makes the played arm more likely, not less.
  EXPECT_GT(shifted->Probabilities()[1], 1.0 / 3);
  EXPECT_LT(plain->Probabilities()[1], 1.0 / 3);
  EXPECT_FALSE(TsallisInf::Create(3, 10.0, std::nan("")).ok());
}

}  // namespace
}  // namespace evolv
