#include "evaluators/diffusion/gaussian_mixture.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"

namespace evolv {
namespace {

constexpr int kDefaultComponents = 8;
// Defaults: well separated components of unequal spread, overall variance about 0.17 per
// coordinate, like data scaled to [-1, 1].
constexpr double kDefaultMeanScale = 0.4;
constexpr double kDefaultMaxVariance = 0.1;
constexpr double kDefaultMinVariance = 0.01;
constexpr double kDefaultExponent = 1.0;
constexpr double kMaxMagnitude = 1e6;  // means, variances and mean_scale
constexpr double kMaxExponent = 10.0;
constexpr double kMinRelativeVariance = 1e-12;  // smallest / largest eigenvalue of a covariance
// Columns processed at once, so temporaries stay small whatever the number of samples.
constexpr Eigen::Index kColumnBlock = 512;

absl::Status FieldError(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("diffusion.mixture.", field, ": ", reason));
}

std::string Indexed(const std::string& field, int i) { return absl::StrCat(field, "[", i, "]"); }

// A Haar-distributed rotation: Q of the QR decomposition of a Gaussian matrix, with the signs of
// R's diagonal folded in.
Eigen::MatrixXd RandomRotation(int d, Rng& rng) {
  Eigen::MatrixXd g(d, d);
  for (int j = 0; j < d; ++j) {
    for (int i = 0; i < d; ++i) g(i, j) = rng.Normal();
  }
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  Eigen::MatrixXd q = qr.householderQ();
  const Eigen::MatrixXd& r = qr.matrixQR();
  for (int j = 0; j < d; ++j) {
    if (r(j, j) < 0) q.col(j) = -q.col(j);
  }
  return q;
}

absl::StatusOr<Eigen::VectorXd> Spectrum(const v1::CovarianceSpectrum& s, int d, Rng& rng) {
  if (!v1::CovarianceSpectrum::Kind_IsValid(s.kind())) {
    return FieldError("spectrum.kind", "unknown value");
  }
  if (!(std::isfinite(s.max()) && s.max() >= 0 && s.max() <= kMaxMagnitude)) {
    return FieldError("spectrum.max", absl::StrCat(s.max(), " is outside [0, ", kMaxMagnitude,
                                                   "] (0 means ", kDefaultMaxVariance, ")"));
  }
  const double max = s.max() > 0 ? s.max() : kDefaultMaxVariance;
  Eigen::VectorXd lambda(d);
  switch (s.kind()) {
    case v1::CovarianceSpectrum::KIND_UNSPECIFIED:
    case v1::CovarianceSpectrum::LOG_UNIFORM: {
      if (!(std::isfinite(s.min()) && s.min() >= 0)) {
        return FieldError("spectrum.min", absl::StrCat(s.min(), " must be finite and >= 0"));
      }
      const double min = s.min() > 0 ? s.min() : std::min(kDefaultMinVariance, max);
      if (min > max || min < kMinRelativeVariance * max) {
        return FieldError("spectrum.min",
                          absl::StrCat(min, " must be in [1e-12 max, max = ", max, "]"));
      }
      for (int j = 0; j < d; ++j) {
        lambda(j) = std::exp(std::log(min) + (std::log(max) - std::log(min)) * rng.Uniform());
      }
      break;
    }
    case v1::CovarianceSpectrum::POWER_LAW: {
      if (!(std::isfinite(s.exponent()) && s.exponent() >= 0 && s.exponent() <= kMaxExponent)) {
        return FieldError("spectrum.exponent",
                          absl::StrCat(s.exponent(), " is outside [0, ", kMaxExponent, "]"));
      }
      const double exponent = s.exponent() > 0 ? s.exponent() : kDefaultExponent;
      for (int j = 0; j < d; ++j) lambda(j) = max * std::pow(j + 1.0, -exponent);
      if (lambda(d - 1) < kMinRelativeVariance * max) {
        return FieldError("spectrum.exponent",
                          absl::StrCat(exponent, " makes the smallest eigenvalue below 1e-12 max"));
      }
      break;
    }
    case v1::CovarianceSpectrum::ISOTROPIC:
      lambda.setConstant(max);
      break;
    case v1::CovarianceSpectrum::EXPLICIT: {
      if (s.eigenvalues_size() != d) {
        return FieldError("spectrum.eigenvalues",
                          absl::StrCat("has ", s.eigenvalues_size(), " values; dimension is ", d));
      }
      for (int j = 0; j < d; ++j) {
        const double v = s.eigenvalues(j);
        if (!(std::isfinite(v) && v > 0 && v <= kMaxMagnitude)) {
          return FieldError(Indexed("spectrum.eigenvalues", j),
                            absl::StrCat(v, " is not in (0, ", kMaxMagnitude, "]"));
        }
        lambda(j) = v;
      }
      if (lambda.minCoeff() < kMinRelativeVariance * lambda.maxCoeff()) {
        return FieldError("spectrum.eigenvalues", "the smallest is below 1e-12 times the largest");
      }
      break;
    }
    default:
      return FieldError("spectrum.kind", "unknown value");
  }
  return lambda;
}

absl::StatusOr<GaussianComponentModel> ExplicitComponent(const v1::GaussianComponent& c, int d,
                                                         int index) {
  const std::string field = Indexed("explicit_components", index);
  GaussianComponentModel model;
  if (!(std::isfinite(c.weight()) && c.weight() > 0)) {
    return FieldError(field + ".weight", absl::StrCat(c.weight(), " must be finite and > 0"));
  }
  model.weight = c.weight();
  if (c.mean_size() != d) {
    return FieldError(field + ".mean",
                      absl::StrCat("has ", c.mean_size(), " values; dimension is ", d));
  }
  model.mean.resize(d);
  for (int i = 0; i < d; ++i) {
    if (!(std::isfinite(c.mean(i)) && std::abs(c.mean(i)) <= kMaxMagnitude)) {
      return FieldError(Indexed(field + ".mean", i),
                        absl::StrCat(c.mean(i), " is not finite or beyond ", kMaxMagnitude));
    }
    model.mean(i) = c.mean(i);
  }
  if (c.covariance_size() != d * d) {
    return FieldError(field + ".covariance",
                      absl::StrCat("has ", c.covariance_size(), " values; d * d = ", d * d));
  }
  Eigen::MatrixXd sigma(d, d);
  for (int i = 0; i < d * d; ++i) {
    const double v = c.covariance(i);
    if (!(std::isfinite(v) && std::abs(v) <= kMaxMagnitude)) {
      return FieldError(Indexed(field + ".covariance", i),
                        absl::StrCat(v, " is not finite or beyond ", kMaxMagnitude));
    }
    sigma(i / d, i % d) = v;
  }
  const double scale = sigma.cwiseAbs().maxCoeff();
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < i; ++j) {
      if (std::abs(sigma(i, j) - sigma(j, i)) > 1e-9 * scale) {
        return FieldError(Indexed(field + ".covariance", i * d + j), "the matrix is not symmetric");
      }
    }
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(sigma);
  if (eigen.info() != Eigen::Success || !(eigen.eigenvalues().minCoeff() > 0) ||
      eigen.eigenvalues().minCoeff() < kMinRelativeVariance * eigen.eigenvalues().maxCoeff()) {
    return FieldError(field + ".covariance",
                      "not positive definite (smallest eigenvalue must exceed 1e-12 times the "
                      "largest)");
  }
  model.rotation = eigen.eigenvectors();
  model.variances = eigen.eigenvalues();
  return model;
}

}  // namespace

absl::StatusOr<GaussianMixture> GaussianMixture::FromSpec(const v1::GaussianMixtureSpec& spec) {
  if (spec.dimension() < 1 || spec.dimension() > kMaxMixtureDimension) {
    return FieldError("dimension",
                      absl::StrCat(spec.dimension(), " is outside 1..", kMaxMixtureDimension));
  }
  const int d = static_cast<int>(spec.dimension());
  std::vector<GaussianComponentModel> components;
  if (spec.explicit_components_size() > 0) {
    if (spec.explicit_components_size() > kMaxMixtureComponents) {
      return FieldError("explicit_components",
                        absl::StrCat(spec.explicit_components_size(), " exceed the limit ",
                                     kMaxMixtureComponents));
    }
    if (spec.components() != 0) {
      return FieldError("components", "set either components or explicit_components");
    }
    for (int k = 0; k < spec.explicit_components_size(); ++k) {
      auto component = ExplicitComponent(spec.explicit_components(k), d, k);
      if (!component.ok()) return component.status();
      components.push_back(*std::move(component));
    }
  } else {
    if (spec.components() > kMaxMixtureComponents) {
      return FieldError("components", absl::StrCat(spec.components(), " exceed the limit ",
                                                   kMaxMixtureComponents));
    }
    if (!(std::isfinite(spec.mean_scale()) && spec.mean_scale() >= 0 &&
          spec.mean_scale() <= kMaxMagnitude)) {
      return FieldError("mean_scale",
                        absl::StrCat(spec.mean_scale(), " is outside [0, ", kMaxMagnitude, "]"));
    }
    const int count = spec.components() ? static_cast<int>(spec.components()) : kDefaultComponents;
    const double mean_scale = spec.mean_scale() > 0 ? spec.mean_scale() : kDefaultMeanScale;
    Rng rng(Mix64(spec.seed() ^ 0x6d697874757265ULL));
    for (int k = 0; k < count; ++k) {
      GaussianComponentModel model;
      model.weight = rng.Uniform(0.5, 1.5);
      model.mean.resize(d);
      for (int i = 0; i < d; ++i) model.mean(i) = mean_scale * rng.Normal();
      auto lambda = Spectrum(spec.spectrum(), d, rng);
      if (!lambda.ok()) return lambda.status();
      model.variances = *std::move(lambda);
      model.rotation = RandomRotation(d, rng);
      components.push_back(std::move(model));
    }
  }
  double total = 0;
  for (const auto& c : components) total += c.weight;
  for (auto& c : components) c.weight /= total;
  return GaussianMixture(std::move(components));
}

GaussianMixture::GaussianMixture(std::vector<GaussianComponentModel> components)
    : dimension_(components.empty() ? 0 : static_cast<int>(components[0].mean.size())),
      components_(std::move(components)) {}

Eigen::VectorXd GaussianMixture::Mean() const {
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(dimension_);
  for (const auto& c : components_) mean += c.weight * c.mean;
  return mean;
}

Eigen::MatrixXd GaussianMixture::Covariance() const {
  const Eigen::VectorXd mean = Mean();
  Eigen::MatrixXd covariance = Eigen::MatrixXd::Zero(dimension_, dimension_);
  for (const auto& c : components_) {
    const Eigen::VectorXd delta = c.mean - mean;
    covariance += c.weight * (c.rotation * c.variances.asDiagonal() * c.rotation.transpose() +
                              delta * delta.transpose());
  }
  return 0.5 * (covariance + covariance.transpose());
}

Eigen::MatrixXd GaussianMixture::Sample(int n, Rng& rng) const {
  Eigen::MatrixXd x(dimension_, n);
  Eigen::VectorXd z(dimension_);
  for (int j = 0; j < n; ++j) {
    double u = rng.Uniform();
    size_t k = 0;
    while (k + 1 < components_.size() && u >= components_[k].weight) u -= components_[k++].weight;
    const auto& c = components_[k];
    for (int i = 0; i < dimension_; ++i) z(i) = rng.Normal() * std::sqrt(c.variances(i));
    x.col(j) = c.mean + c.rotation * z;
  }
  return x;
}

void GaussianMixture::Posterior(const Eigen::MatrixXd& x, double a, double s2,
                                Eigen::VectorXd* log_density, Eigen::MatrixXd* posterior_mean,
                                std::vector<int>* best) const {
  const Eigen::Index n = x.cols();
  const int d = dimension_;
  log_density->resize(n);
  if (posterior_mean) posterior_mean->resize(d, n);
  if (best) best->assign(n, 0);
  // Per component: the variances of x given the component, the log normalizer, and the
  // shrinkage a lambda / v of the posterior mean in the component's basis.
  struct Cached {
    Eigen::ArrayXd inverse_variance;
    Eigen::ArrayXd shrinkage;
    double log_normalizer;
    Eigen::VectorXd shifted_mean;  // a mu
  };
  std::vector<Cached> cached;
  cached.reserve(components_.size());
  for (const auto& c : components_) {
    const Eigen::ArrayXd v = a * a * c.variances.array() + s2;
    cached.push_back({v.inverse(), a * c.variances.array() / v,
                      std::log(c.weight) - 0.5 * (v.log().sum() + d * std::log(2 * M_PI)),
                      a * c.mean});
  }
  for (Eigen::Index start = 0; start < n; start += kColumnBlock) {
    const Eigen::Index m = std::min(kColumnBlock, n - start);
    const auto block = x.middleCols(start, m);
    Eigen::ArrayXd running_max =
        Eigen::ArrayXd::Constant(m, -std::numeric_limits<double>::infinity());
    Eigen::ArrayXd sum = Eigen::ArrayXd::Zero(m);
    Eigen::MatrixXd mean_sum;
    if (posterior_mean) mean_sum = Eigen::MatrixXd::Zero(d, m);
    for (size_t k = 0; k < components_.size(); ++k) {
      const auto& c = components_[k];
      const Cached& q = cached[k];
      const Eigen::MatrixXd z =
          c.rotation.transpose() * (block.colwise() - q.shifted_mean);  // d x m
      const Eigen::ArrayXd log_p =
          q.log_normalizer -
          0.5 * (z.array().square().colwise() * q.inverse_variance).colwise().sum().transpose();
      // Running log-sum-exp: rescale what was summed to the new maximum.
      const Eigen::ArrayXd new_max = running_max.max(log_p);
      const Eigen::ArrayXd keep = (running_max - new_max).exp();
      const Eigen::ArrayXd add = (log_p - new_max).exp();
      if (best) {
        for (Eigen::Index j = 0; j < m; ++j) {
          if (log_p(j) > running_max(j)) (*best)[start + j] = static_cast<int>(k);
        }
      }
      sum = sum * keep + add;
      if (posterior_mean) {
        Eigen::MatrixXd e = c.rotation * (z.array().colwise() * q.shrinkage).matrix();
        e.colwise() += c.mean;
        e.array().rowwise() *= add.transpose();
        mean_sum.array().rowwise() *= keep.transpose();
        mean_sum += e;
      }
      running_max = new_max;
    }
    log_density->segment(start, m) = running_max + sum.log();
    if (posterior_mean) {
      mean_sum.array().rowwise() /= sum.transpose();
      posterior_mean->middleCols(start, m) = mean_sum;
    }
  }
}

Eigen::VectorXd GaussianMixture::LogDensity(const Eigen::MatrixXd& x,
                                            std::vector<int>* most_likely) const {
  Eigen::VectorXd log_density;
  Posterior(x, 1.0, 0.0, &log_density, nullptr, most_likely);
  return log_density;
}

Eigen::MatrixXd GaussianMixture::PosteriorMean(const Eigen::MatrixXd& x_t, double alpha_bar) const {
  Eigen::VectorXd log_density;
  Eigen::MatrixXd mean;
  Posterior(x_t, std::sqrt(alpha_bar), 1.0 - alpha_bar, &log_density, &mean, nullptr);
  return mean;
}

Eigen::MatrixXd ExactMixtureDenoiser::Denoise(const Eigen::MatrixXd& x_t, int step,
                                              double alpha_bar,
                                              const std::vector<int>& skipped_blocks) const {
  (void)step;
  (void)skipped_blocks;  // no blocks
  return mixture_.PosteriorMean(x_t, alpha_bar);
}

}  // namespace evolv
