// A Gaussian mixture p(x_0) = sum_k w_k N(mu_k, Sigma_k) in d dimensions, with what the
// diffusion problem needs in closed form: its mean and covariance, exact samples, log p(x), and
// the exact denoiser E[x_0 | x_t] for x_t = a x_0 + s eps (a^2 = alpha_bar, s^2 = 1 - a^2).
//
// Given x_t, component k has posterior probability r_k(x_t) proportional to
// w_k N(x_t; a mu_k, a^2 Sigma_k + s^2 I), and within it x_0 has the posterior mean
// mu_k + a Sigma_k (a^2 Sigma_k + s^2 I)^-1 (x_t - a mu_k); E[x_0 | x_t] is the r-weighted sum.
// With Sigma_k = U_k diag(lambda_k) U_k^T stored once, both are diagonal in U_k's basis, and the
// responsibilities are accumulated in one pass with a running log-sum-exp, so no exp underflows
// or overflows however far x_t is from a component.
//
// Thread-safety: immutable after construction; every method is const and safe to call
// concurrently.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/diffusion/denoiser.h"
#include "evolv/v1/diffusion.pb.h"
#include "search/rng.h"

namespace evolv {

inline constexpr int kMaxMixtureDimension = 128;
inline constexpr int kMaxMixtureComponents = 64;

struct GaussianComponentModel {
  double weight = 0;          // normalized: the weights sum to 1
  Eigen::VectorXd mean;       // d
  Eigen::MatrixXd rotation;   // U, d x d orthogonal
  Eigen::VectorXd variances;  // lambda, d values > 0: Sigma = U diag(lambda) U^T
};

class GaussianMixture {
 public:
  // Builds the mixture the spec describes (see diffusion.proto). InvalidArgument whose message
  // starts with the field path, e.g. "diffusion.mixture.dimension: ..." or
  // "diffusion.mixture.explicit_components[1].covariance[3]: not finite". Every size is bounded
  // (kMaxMixtureDimension, kMaxMixtureComponents) before anything is allocated.
  static absl::StatusOr<GaussianMixture> FromSpec(const v1::GaussianMixtureSpec& spec);
  // From components whose weights sum to 1 (for tests); d and sizes must agree.
  explicit GaussianMixture(std::vector<GaussianComponentModel> components);

  int dimension() const { return dimension_; }
  const std::vector<GaussianComponentModel>& components() const { return components_; }

  // The mixture's exact mean and covariance.
  Eigen::VectorXd Mean() const;
  Eigen::MatrixXd Covariance() const;

  // n exact samples (d x n), a deterministic function of the generator's state.
  Eigen::MatrixXd Sample(int n, Rng& rng) const;
  // log p(x) for each column of x; with `most_likely`, also the component with the largest
  // posterior probability for each column (same pass).
  Eigen::VectorXd LogDensity(const Eigen::MatrixXd& x,
                             std::vector<int>* most_likely = nullptr) const;
  // E[x_0 | x_t] for each column of x_t, alpha_bar in (0, 1].
  Eigen::MatrixXd PosteriorMean(const Eigen::MatrixXd& x_t, double alpha_bar) const;

 private:
  // Per column of x: log sum_k w_k N(x; a mu_k, a^2 Sigma_k + s2 I) into `log_density`, the
  // responsibility-weighted posterior mean of x_0 into `posterior_mean` (when not null) and the
  // most responsible component into `best` (when not null).
  void Posterior(const Eigen::MatrixXd& x, double a, double s2, Eigen::VectorXd* log_density,
                 Eigen::MatrixXd* posterior_mean, std::vector<int>* best) const;

  int dimension_ = 0;
  std::vector<GaussianComponentModel> components_;
};

// The exact denoiser of a mixture: PosteriorMean. It has no blocks.
class ExactMixtureDenoiser : public Denoiser {
 public:
  // `mixture` must outlive the denoiser.
  explicit ExactMixtureDenoiser(const GaussianMixture& mixture) : mixture_(mixture) {}

  int dimension() const override { return mixture_.dimension(); }
  Eigen::MatrixXd Denoise(const Eigen::MatrixXd& x_t, int step, double alpha_bar,
                          const std::vector<int>& skipped_blocks) const override;

 private:
  const GaussianMixture& mixture_;
};

}  // namespace evolv
