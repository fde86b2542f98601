// The numerics under the diffusion problem: schedules and step subsets, the mixture and its
// exact denoiser, the samplers, the Frechet distance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "evaluators/diffusion/gaussian_mixture.h"
#include "evaluators/diffusion/noise_schedule.h"
#include "evaluators/diffusion/sample_metrics.h"
#include "evaluators/diffusion/sampler.h"

namespace evolv {
namespace {

constexpr int T = kDiffusionTimeSteps;

TEST(NoiseScheduleTest, AlphaBarsDecreaseInsideTheUnitInterval) {
  for (auto kind : {NoiseScheduleKind::kCosine, NoiseScheduleKind::kLinear}) {
    const std::vector<double> ab = AlphaBars(kind);
    ASSERT_EQ(ab.size(), static_cast<size_t>(T));
    for (int t = 0; t < T; ++t) {
      EXPECT_GT(ab[t], 0);
      EXPECT_LT(ab[t], 1);
      if (t > 0) {
        EXPECT_LT(ab[t], ab[t - 1]);
      }
    }
  }
  const std::vector<double> linear = AlphaBars(NoiseScheduleKind::kLinear);
  EXPECT_DOUBLE_EQ(linear[0], 1 - 1e-4);
  EXPECT_NEAR(linear[T - 1], 4.036e-5, 1e-7);  // prod(1 - linspace(1e-4, 0.02, 1000))
  const std::vector<double> cosine = AlphaBars(NoiseScheduleKind::kCosine);
  EXPECT_NEAR(cosine[499], 0.4939, 1e-3);  // cos^2 of about pi/4 at the middle
}

TEST(NoiseScheduleTest, BaselineSubsetsAreThePublishedOnes) {
  EXPECT_EQ(UniformSteps(4), (std::vector<int>{0, 250, 500, 750}));
  EXPECT_EQ(UniformSteps(6), (std::vector<int>{0, 167, 334, 501, 668, 835}));
  EXPECT_EQ(UniformSteps(10).back(), 900);
  EXPECT_EQ(TrailingSteps(4), (std::vector<int>{0, 333, 666, 999}));
  EXPECT_EQ(QuadraticSteps(4), (std::vector<int>{0, 88, 355, 800}));
  EXPECT_EQ(UniformSteps(1), (std::vector<int>{0}));
  EXPECT_EQ(TrailingSteps(1), (std::vector<int>{T - 1}));
}

TEST(NoiseScheduleTest, EveryBaselineHasKDistinctStepsForEveryK) {
  for (int k = 1; k <= T; ++k) {
    for (const auto& steps : {UniformSteps(k), TrailingSteps(k), QuadraticSteps(k)}) {
      ASSERT_EQ(steps.size(), static_cast<size_t>(k));
      ASSERT_GE(steps.front(), 0);
      ASSERT_LT(steps.back(), T);
      ASSERT_TRUE(std::adjacent_find(steps.begin(), steps.end(),
                                     [](int a, int b) { return a >= b; }) == steps.end())
          << "k = " << k;
    }
  }
}

// Three components in d = 2 with explicit, correlated covariances.
GaussianMixture SmallMixture() {
  v1::GaussianMixtureSpec spec;
  spec.set_dimension(2);
  auto add = [&](double w, double m0, double m1, double c00, double c01, double c11) {
    auto* c = spec.add_explicit_components();
    c->set_weight(w);
    c->add_mean(m0);
    c->add_mean(m1);
    for (double v : {c00, c01, c01, c11}) c->add_covariance(v);
  };
  add(0.5, -1.0, 0.5, 0.2, 0.05, 0.1);
  add(0.3, 1.0, 1.0, 0.05, -0.02, 0.3);
  add(0.2, 0.5, -1.2, 0.1, 0.0, 0.1);
  auto mixture = GaussianMixture::FromSpec(spec);
  EXPECT_TRUE(mixture.ok()) << mixture.status();
  return *std::move(mixture);
}

TEST(GaussianMixtureTest, SamplesHaveTheExactMoments) {
  const GaussianMixture mixture = SmallMixture();
  Rng rng(1);
  const int n = 200000;
  const Eigen::MatrixXd x = mixture.Sample(n, rng);
  const Eigen::VectorXd m = x.rowwise().mean();
  const Eigen::MatrixXd centered = x.colwise() - m;
  const Eigen::MatrixXd c = centered * centered.transpose() / (n - 1);
  EXPECT_LT((m - mixture.Mean()).norm(), 0.01);
  EXPECT_LT((c - mixture.Covariance()).norm(), 0.01);
}

TEST(GaussianMixtureTest, LogDensityIsTheMixtureOfGaussianDensities) {
  const GaussianMixture mixture = SmallMixture();
  Eigen::MatrixXd x(2, 3);
  x << 0.0, 3.0, -40.0, 0.0, -1.0, 25.0;
  std::vector<int> most_likely;
  const Eigen::VectorXd log_p = mixture.LogDensity(x, &most_likely);
  for (int j = 0; j < 2; ++j) {  // the far point underflows a direct sum; see below
    double p = 0;
    int best = 0;
    double best_p = -1;
    for (size_t k = 0; k < mixture.components().size(); ++k) {
      const auto& c = mixture.components()[k];
      const Eigen::MatrixXd sigma = c.rotation * c.variances.asDiagonal() * c.rotation.transpose();
      const Eigen::VectorXd delta = x.col(j) - c.mean;
      const double density = std::exp(-0.5 * delta.dot(sigma.inverse() * delta)) /
                             (2 * M_PI * std::sqrt(sigma.determinant()));
      p += c.weight * density;
      if (c.weight * density > best_p) best_p = c.weight * density, best = static_cast<int>(k);
    }
    EXPECT_NEAR(log_p(j), std::log(p), 1e-10) << j;
    EXPECT_EQ(most_likely[j], best) << j;
  }
  // Far from every component, exp underflows to 0 in a direct sum; the log-sum-exp does not.
  EXPECT_TRUE(std::isfinite(log_p(2)));
  EXPECT_LT(log_p(2), -1000);
}

TEST(GaussianMixtureTest, ExactDenoiserMatchesAMonteCarloPosteriorMean) {
  const GaussianMixture mixture = SmallMixture();
  // E[x0 | x_t] by importance weighting prior samples with the likelihood N(x_t; a x0, s^2 I).
  Rng rng(7);
  const int m = 400000;
  const Eigen::MatrixXd prior = mixture.Sample(m, rng);
  for (double alpha_bar : {0.3, 0.8}) {
    const double a = std::sqrt(alpha_bar), s2 = 1 - alpha_bar;
    Eigen::MatrixXd x_t(2, 3);
    x_t << 0.2, -0.9, 0.8, -0.1, 0.6, -0.5;
    const Eigen::MatrixXd exact = mixture.PosteriorMean(x_t, alpha_bar);
    for (int j = 0; j < x_t.cols(); ++j) {
      const Eigen::ArrayXd log_w =
          -0.5 * ((prior * a).colwise() - x_t.col(j)).colwise().squaredNorm().transpose().array() /
          s2;
      const Eigen::ArrayXd w = (log_w - log_w.maxCoeff()).exp();
      const Eigen::VectorXd estimate = prior * w.matrix() / w.sum();
      const double ess = w.sum() * w.sum() / w.square().sum();
      ASSERT_GT(ess, 5000) << "too few effective samples for the tolerance";
      EXPECT_LT((estimate - exact.col(j)).norm(), 0.02)
          << "alpha_bar " << alpha_bar << " point " << j << ": exact " << exact.col(j).transpose()
          << " vs Monte Carlo " << estimate.transpose();
    }
  }
}

TEST(GaussianMixtureTest, DenoiserAtNoNoiseIsTheIdentityAndFarPointsStayFinite) {
  const GaussianMixture mixture = SmallMixture();
  Eigen::MatrixXd x(2, 2);
  x << 0.3, 500.0, -0.7, -800.0;
  const Eigen::MatrixXd near_clean = mixture.PosteriorMean(x, 1 - 1e-12);
  EXPECT_LT((near_clean - x).cwiseAbs().maxCoeff(), 1e-6);
  const Eigen::MatrixXd noisy = mixture.PosteriorMean(x, 0.5);
  EXPECT_TRUE(noisy.allFinite());
}

TEST(FrechetDistanceTest, IsTheGaussianW2DistanceOfTheSampleMoments) {
  // d = 1: FD = (m - mu)^2 + (sd - sigma)^2 with the sample sd (n - 1).
  Eigen::MatrixXd x(1, 4);
  x << 1.0, 2.0, 3.0, 4.0;  // mean 2.5, variance 5/3
  const ExactMoments moments(Eigen::VectorXd::Constant(1, 2.0),
                             Eigen::MatrixXd::Constant(1, 1, 4.0));
  const double expected = 0.25 + std::pow(std::sqrt(5.0 / 3.0) - 2.0, 2);
  EXPECT_NEAR(moments.FrechetDistance(x), expected, 1e-12);
  x(0, 2) = NAN;
  EXPECT_EQ(moments.FrechetDistance(x), INFINITY);
}

TEST(FrechetDistanceTest, ExactSamplesApproachZeroAsTheirNumberGrows) {
  const GaussianMixture mixture = SmallMixture();
  const ExactMoments moments(mixture.Mean(), mixture.Covariance());
  Rng rng(3);
  const double small = moments.FrechetDistance(mixture.Sample(1000, rng));
  const double large = moments.FrechetDistance(mixture.Sample(100000, rng));
  EXPECT_LT(large, small);
  EXPECT_LT(large, 1e-3);
}

std::vector<SamplerStep> Plan(const std::vector<int>& steps) {
  std::vector<SamplerStep> plan;
  for (int t : steps) plan.push_back({t, {}});
  return plan;
}

Eigen::MatrixXd Noise(int d, int n, uint64_t seed) {
  Rng rng(seed);
  Eigen::MatrixXd z(d, n);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < d; ++i) z(i, j) = rng.Normal();
  }
  return z;
}

GaussianMixture RandomMixture(int d, int components, double mean_scale) {
  v1::GaussianMixtureSpec spec;
  spec.set_dimension(d);
  spec.set_components(components);
  spec.set_seed(4);
  spec.set_mean_scale(mean_scale);
  return *GaussianMixture::FromSpec(spec);
}

TEST(SamplerTest, DdimWithAllThousandStepsReproducesTheMomentsWithinTheNoiseFloor) {
  const GaussianMixture mixture = RandomMixture(4, 3, 0.4);
  const ExactMoments moments(mixture.Mean(), mixture.Covariance());
  ExactMixtureDenoiser denoiser(mixture);
  std::vector<int> all(T);
  for (int t = 0; t < T; ++t) all[t] = t;
  const int n = 4000;
  for (auto kind : {NoiseScheduleKind::kCosine, NoiseScheduleKind::kLinear}) {
    const Eigen::MatrixXd samples =
        RunSampler(denoiser, AlphaBars(kind), Plan(all), SamplerKind::kDdim, Noise(4, n, 11));
    // The floor: exact samples of the same size, over a few seeds.
    double floor = 0;
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      Rng rng(seed);
      floor += moments.FrechetDistance(mixture.Sample(n, rng)) / 5;
    }
    EXPECT_LT(moments.FrechetDistance(samples), 2.5 * floor)
        << "floor " << floor << (kind == NoiseScheduleKind::kCosine ? " cosine" : " linear");
    // And 4 steps are far from it.
    const Eigen::MatrixXd coarse = RunSampler(denoiser, AlphaBars(kind), Plan(UniformSteps(4)),
                                              SamplerKind::kDdim, Noise(4, n, 11));
    EXPECT_GT(moments.FrechetDistance(coarse), 5 * floor);
  }
}

TEST(SamplerTest, DpmSolverConvergesFasterThanDdim) {
  // One Gaussian: the probability-flow ODE is smooth, so errors are discretization only. The
  // reference is DPM-Solver++(2M) with every step.
  const GaussianMixture mixture = RandomMixture(4, 1, 0.4);
  ExactMixtureDenoiser denoiser(mixture);
  const std::vector<double> ab = AlphaBars(NoiseScheduleKind::kCosine);
  const Eigen::MatrixXd noise = Noise(4, 200, 5);
  std::vector<int> all(T);
  for (int t = 0; t < T; ++t) all[t] = t;
  const Eigen::MatrixXd reference =
      RunSampler(denoiser, ab, Plan(all), SamplerKind::kDpmSolverPp2M, noise);
  auto error = [&](int k, SamplerKind kind) {
    return (RunSampler(denoiser, ab, Plan(TrailingSteps(k)), kind, noise) - reference).norm();
  };
  const double ddim_20 = error(20, SamplerKind::kDdim), ddim_40 = error(40, SamplerKind::kDdim);
  const double dpm_20 = error(20, SamplerKind::kDpmSolverPp2M);
  const double dpm_40 = error(40, SamplerKind::kDpmSolverPp2M);
  EXPECT_LT(dpm_20, ddim_20);
  EXPECT_LT(dpm_40, 0.5 * ddim_40);
  // Doubling the steps halves DDIM's error (first order) and quarters DPM-Solver++'s (second).
  EXPECT_NEAR(ddim_40 / ddim_20, 0.5, 0.1);
  EXPECT_LT(dpm_40 / dpm_20, 0.35);
}

TEST(SamplerTest, UpToThreeStepsDpmSolverIsDdim) {
  const GaussianMixture mixture = RandomMixture(3, 4, 0.4);
  ExactMixtureDenoiser denoiser(mixture);
  const std::vector<double> ab = AlphaBars(NoiseScheduleKind::kCosine);
  const Eigen::MatrixXd noise = Noise(3, 50, 2);
  for (const std::vector<int>& steps :
       {std::vector<int>{400}, std::vector<int>{10, 900}, std::vector<int>{0, 300, 999}}) {
    EXPECT_TRUE(
        RunSampler(denoiser, ab, Plan(steps), SamplerKind::kDdim, noise)
            .isApprox(RunSampler(denoiser, ab, Plan(steps), SamplerKind::kDpmSolverPp2M, noise),
                      1e-12));
  }
  const std::vector<int> four = {0, 300, 600, 999};
  EXPECT_FALSE(
      RunSampler(denoiser, ab, Plan(four), SamplerKind::kDdim, noise)
          .isApprox(RunSampler(denoiser, ab, Plan(four), SamplerKind::kDpmSolverPp2M, noise),
                    1e-3));
}

}  // namespace
}  // namespace evolv
