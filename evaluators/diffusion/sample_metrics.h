// How close samples are to a distribution known in closed form.
//
// Frechet distance to exact moments (mean mu, covariance Sigma): with the samples' mean m and
// covariance C (divided by n - 1),
//   FD = |m - mu|^2 + tr(C) + tr(Sigma) - 2 tr((Sigma^1/2 C Sigma^1/2)^1/2),
// the squared 2-Wasserstein distance between N(m, C) and N(mu, Sigma). Even exact samples have
// FD > 0 (about tr(Sigma)/n and more): the noise floor, reported beside every FD.
//
// Thread-safety: immutable after construction.
#pragma once

#include <Eigen/Dense>

namespace evolv {

class ExactMoments {
 public:
  // `covariance` symmetric positive semi-definite, same dimension as `mean`.
  ExactMoments(Eigen::VectorXd mean, const Eigen::MatrixXd& covariance);

  // FD of the columns of `samples` (d x n, n >= 2) to these moments; +inf when a sample is not
  // finite.
  double FrechetDistance(const Eigen::MatrixXd& samples) const;

  const Eigen::VectorXd& mean() const { return mean_; }

 private:
  Eigen::VectorXd mean_;
  Eigen::MatrixXd covariance_sqrt_;  // Sigma^1/2, symmetric
  double trace_ = 0;
};

}  // namespace evolv
