#include "search/bandits/chebcb.h"

#include <cmath>
#include <numeric>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;

ChebCbOptions Options(int arms) {
  ChebCbOptions options;
  options.num_arms = arms;
  options.context_lo = 0.0;
  options.context_hi = 1.0;
  return options;
}

// Arm a's expected loss is (context - centre_a)^2 + 0.05 with centres spread over [0, 1]: the
// best arm moves with the context.
double MeanLoss(int arm, int arms, double context) {
  const double centre = static_cast<double>(arm) / (arms - 1);
  return (context - centre) * (context - centre) + 0.05;
}

TEST(ChebCbTest, FeaturesAreChebyshevPolynomials) {
  ChebCb bandit = *ChebCb::Create(Options(2));
  const std::array<double, 6> t = bandit.Features(0.75);  // s = 0.5
  EXPECT_DOUBLE_EQ(t[0], 1.0);
  EXPECT_DOUBLE_EQ(t[1], 0.5);
  EXPECT_NEAR(t[2], std::cos(2 * std::acos(0.5)), 1e-12);
  EXPECT_NEAR(t[5], std::cos(5 * std::acos(0.5)), 1e-12);
  EXPECT_DOUBLE_EQ(bandit.Features(3.0)[1], 1.0);  // clamped
}

TEST(ChebCbTest, LearnsAContextDependentBestArm) {
  const int arms = 5;
  ChebCb bandit = *ChebCb::Create(Options(arms));
  Rng rng(21);
  double late_regret = 0.0;
  for (int t = 0; t < 4000; ++t) {
    const double context = rng.Uniform();
    const std::vector<double> p = bandit.Probabilities(context);
    ASSERT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-9);
    for (double value : p) ASSERT_GE(value, 0.0);
    const BanditDraw draw = bandit.Sample(context, rng);
    const double mean = MeanLoss(draw.arm, arms, context);
    if (t >= 3000) {
      double best = mean;
      for (int a = 0; a < arms; ++a) best = std::min(best, MeanLoss(a, arms, context));
      late_regret += mean - best;
    }
    const double loss = std::max(0.0, mean + 0.05 * rng.Normal());
    ASSERT_TRUE(bandit.Update(context, draw.arm, loss, draw.probability).ok());
  }
  // The most likely arm at each context is the one whose centre is nearest.
  for (int a = 0; a < arms; ++a) {
    const double context = static_cast<double>(a) / (arms - 1);
    const std::vector<double> p = bandit.Probabilities(context);
    EXPECT_EQ(std::max_element(p.begin(), p.end()) - p.begin(), a) << "context " << context;
    EXPECT_GT(p[a], 0.5);
  }
  // Uniform play would cost about 0.2 per round in this problem.
  EXPECT_LT(late_regret / 1000.0, 0.03);
}

TEST(ChebCbTest, SaveRestoreContinuesIdentically) {
  ChebCb a = *ChebCb::Create(Options(4));
  Rng rng(13);
  auto step = [](ChebCb& bandit, Rng& r) {
    const double context = r.Uniform();
    const BanditDraw draw = bandit.Sample(context, r);
    ASSERT_TRUE(bandit.Update(context, draw.arm, r.Uniform(), draw.probability).ok());
  };
  for (int t = 0; t < 60; ++t) step(a, rng);
  ChebCb b = *ChebCb::Create(Options(4));
  ASSERT_TRUE(b.Restore(a.Save()).ok());
  Rng rng_b = rng;
  for (int t = 0; t < 60; ++t) {
    step(a, rng);
    step(b, rng_b);
  }
  EXPECT_EQ(a.Save().gram, b.Save().gram);
  EXPECT_EQ(a.Save().moments, b.Save().moments);
  EXPECT_EQ(a.Save().pulls, b.Save().pulls);
  EXPECT_TRUE(rng == rng_b);
}

TEST(ChebCbTest, RejectsBadInputsNamingTheField) {
  ChebCbOptions options = Options(3);
  options.gamma_scale = 0.0;
  EXPECT_THAT(ChebCb::Create(options).status().message(), HasSubstr("gamma_scale"));
  options = Options(3);
  options.context_hi = options.context_lo;
  EXPECT_THAT(ChebCb::Create(options).status().message(), HasSubstr("context_range"));
  EXPECT_THAT(ChebCb::Create(Options(0)).status().message(), HasSubstr("num_arms"));
  ChebCb bandit = *ChebCb::Create(Options(3));
  EXPECT_THAT(bandit.Update(0.5, 7, 1.0, 0.5).message(), HasSubstr("arm"));
  EXPECT_THAT(bandit.Update(0.5, 0, 1.0, 2.0).message(), HasSubstr("probability"));
  ChebCbState wrong;
  EXPECT_THAT(bandit.Restore(wrong).message(), HasSubstr("gram"));
}

}  // namespace
}  // namespace evolv
