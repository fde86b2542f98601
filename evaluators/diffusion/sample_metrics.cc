#include "evaluators/diffusion/sample_metrics.h"

#include <cmath>
#include <limits>

namespace evolv {

ExactMoments::ExactMoments(Eigen::VectorXd mean, const Eigen::MatrixXd& covariance)
    : mean_(std::move(mean)), trace_(covariance.trace()) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(covariance);
  const Eigen::VectorXd roots = eigen.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  covariance_sqrt_ = eigen.eigenvectors() * roots.asDiagonal() * eigen.eigenvectors().transpose();
}

double ExactMoments::FrechetDistance(const Eigen::MatrixXd& samples) const {
  if (!samples.allFinite()) return std::numeric_limits<double>::infinity();
  const Eigen::Index n = samples.cols();
  const Eigen::VectorXd m = samples.rowwise().mean();
  const Eigen::MatrixXd centered = samples.colwise() - m;
  Eigen::MatrixXd c = (centered * centered.transpose()) / static_cast<double>(n - 1);
  const Eigen::MatrixXd product = covariance_sqrt_ * c * covariance_sqrt_;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(0.5 * (product + product.transpose()),
                                                       Eigen::EigenvaluesOnly);
  const double cross = eigen.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  const double fd = (m - mean_).squaredNorm() + c.trace() + trace_ - 2 * cross;
  return std::max(fd, 0.0);
}

}  // namespace evolv
