#include "search/gp_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "Eigen/Dense"
#include "search/rng.h"

namespace evolv {
namespace {

constexpr uint32_t kDefaultInitialRandom = 10;
constexpr uint32_t kDefaultModelPoints = 400;
// A categorical parameter of at most this many choices is one-hot; a larger one is ordinal.
constexpr int kMaxOneHot = 16;
// The acquisition search: random points, Gaussian steps around the best told points, then
// rounds of shrinking steps around the best candidates.
constexpr int kRandomCandidates = 300;
constexpr int kLocalParents = 5;
constexpr int kLocalSteps = 40;
constexpr int kRefineRounds = 3;
constexpr int kRefineParents = 3;
constexpr int kRefineSteps = 20;
// Hyperparameter fits: Adam steps (first fit, then warm-started), bounds on the log values.
constexpr int kFirstFitSteps = 60;
constexpr int kWarmFitSteps = 10;
constexpr double kAdamRate = 0.05;
const double kLogScaleMin = std::log(0.01), kLogScaleMax = std::log(20.0);
const double kLogSignalMin = std::log(0.05), kLogSignalMax = std::log(20.0);
const double kLogNoiseMin = std::log(1e-6), kLogNoiseMax = std::log(0.5);
const double kSqrt5 = std::sqrt(5.0);

// How a point of the parameter space becomes the model's input columns.
class Encoding {
 public:
  explicit Encoding(const std::vector<ParameterSpace::Dimension>& dimensions) {
    for (size_t p = 0; p < dimensions.size(); ++p) {
      const auto& d = dimensions[p];
      const bool one_hot =
          d.kind == ParameterSpace::Kind::kCategorical && d.choices > 1 && d.choices <= kMaxOneHot;
      first_.push_back(columns_);
      width_.push_back(one_hot ? d.choices : 1);
      for (int c = 0; c < width_.back(); ++c) parameter_of_.push_back(static_cast<int>(p));
      columns_ += width_.back();
    }
  }

  int columns() const { return columns_; }
  int parameters() const { return static_cast<int>(width_.size()); }
  int parameter_of(int column) const { return parameter_of_[column]; }

  Eigen::VectorXd Encode(const std::vector<double>& point) const {
    Eigen::VectorXd x = Eigen::VectorXd::Zero(columns_);
    for (int p = 0; p < parameters(); ++p) {
      const double u = std::clamp(point[p], 0.0, 1.0);
      if (width_[p] == 1) {
        x(first_[p]) = u;
      } else {
        x(first_[p] + std::min(width_[p] - 1, static_cast<int>(u * width_[p]))) = 1;
      }
    }
    return x;
  }

 private:
  int columns_ = 0;
  std::vector<int> first_, width_, parameter_of_;
};

// Matern 5/2 of the scaled distance r, and the factor its derivative by a log length scale
// takes per scaled squared difference: dk/dlog(l) = Grad(r) * (delta / l)^2.
double Matern(double r) { return (1 + kSqrt5 * r + 5.0 / 3.0 * r * r) * std::exp(-kSqrt5 * r); }
double MaternGrad(double r) { return 5.0 / 3.0 * (1 + kSqrt5 * r) * std::exp(-kSqrt5 * r); }

// A fitted Gaussian process over rows of `x` with targets `z` (standardized).
class Gp {
 public:
  Gp(const Encoding& encoding, Eigen::MatrixXd x, Eigen::VectorXd z)
      : encoding_(encoding), x_(std::move(x)), z_(std::move(z)) {}

  // theta: log length scale per parameter, log signal variance, log noise variance.
  void Fit(std::vector<double>& theta, int steps) {
    const int k = static_cast<int>(theta.size());
    std::vector<double> m(k, 0), v(k, 0), grad(k);
    for (int t = 1; t <= steps; ++t) {
      if (!Gradient(theta, grad)) break;
      for (int j = 0; j < k; ++j) {
        m[j] = 0.9 * m[j] + 0.1 * grad[j];
        v[j] = 0.999 * v[j] + 0.001 * grad[j] * grad[j];
        const double mh = m[j] / (1 - std::pow(0.9, t)), vh = v[j] / (1 - std::pow(0.999, t));
        theta[j] += kAdamRate * mh / (std::sqrt(vh) + 1e-8);  // ascent: maximize the likelihood
      }
      Clamp(theta);
    }
    Factor(theta);
  }

  // Posterior mean and standard deviation of the standardized target at `points` (rows).
  void Predict(const Eigen::MatrixXd& points, Eigen::VectorXd& mean, Eigen::VectorXd& sd) const {
    const Eigen::MatrixXd cross = Cross(points);  // n x m
    mean = cross.transpose() * alpha_;
    const Eigen::MatrixXd v = llt_.matrixL().solve(cross);
    sd.resize(points.rows());
    for (int i = 0; i < points.rows(); ++i) {
      sd(i) = std::sqrt(std::max(signal_ - v.col(i).squaredNorm(), 1e-12));
    }
  }

  static void Clamp(std::vector<double>& theta) {
    const size_t p = theta.size() - 2;
    for (size_t j = 0; j < p; ++j) theta[j] = std::clamp(theta[j], kLogScaleMin, kLogScaleMax);
    theta[p] = std::clamp(theta[p], kLogSignalMin, kLogSignalMax);
    theta[p + 1] = std::clamp(theta[p + 1], kLogNoiseMin, kLogNoiseMax);
  }

 private:
  // Scaled squared distances between rows of a and b under length scales exp(theta).
  Eigen::MatrixXd ScaledSquared(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
                                const std::vector<double>& theta) const {
    Eigen::MatrixXd d = Eigen::MatrixXd::Zero(a.rows(), b.rows());
    for (int c = 0; c < encoding_.columns(); ++c) {
      const double w = std::exp(-2 * theta[encoding_.parameter_of(c)]);
      for (int j = 0; j < b.rows(); ++j) {
        d.col(j).array() += w * (a.col(c).array() - b(j, c)).square();
      }
    }
    return d;
  }

  Eigen::MatrixXd Kernel(const std::vector<double>& theta) const {
    const size_t p = theta.size() - 2;
    Eigen::MatrixXd k =
        ScaledSquared(x_, x_, theta).unaryExpr([](double r2) { return Matern(std::sqrt(r2)); });
    k *= std::exp(theta[p]);
    k.diagonal().array() += std::exp(theta[p + 1]) + 1e-9;
    return k;
  }

  // The log marginal likelihood's gradient; false when the kernel matrix is not positive
  // definite (the step is then not taken).
  bool Gradient(const std::vector<double>& theta, std::vector<double>& grad) const {
    const size_t p = theta.size() - 2;
    const int n = static_cast<int>(x_.rows());
    const Eigen::MatrixXd r2 = ScaledSquared(x_, x_, theta);
    const double signal = std::exp(theta[p]), noise = std::exp(theta[p + 1]);
    Eigen::MatrixXd k = r2.unaryExpr([](double s) { return Matern(std::sqrt(s)); }) * signal;
    const Eigen::MatrixXd k_signal = k;
    k.diagonal().array() += noise + 1e-9;
    Eigen::LLT<Eigen::MatrixXd> llt(k);
    if (llt.info() != Eigen::Success) return false;
    const Eigen::VectorXd alpha = llt.solve(z_);
    const Eigen::MatrixXd w =
        alpha * alpha.transpose() - llt.solve(Eigen::MatrixXd::Identity(n, n));
    const Eigen::MatrixXd g =
        r2.unaryExpr([](double s) { return MaternGrad(std::sqrt(s)); }) * signal;
    const Eigen::MatrixXd wg = w.cwiseProduct(g);
    for (size_t q = 0; q < p; ++q) {
      // Sum over this parameter's columns of (delta / l)^2, weighted by W o G.
      double sum = 0;
      const double inv = std::exp(-2 * theta[q]);
      for (int c = 0; c < encoding_.columns(); ++c) {
        if (encoding_.parameter_of(c) != static_cast<int>(q)) continue;
        for (int j = 0; j < n; ++j) {
          sum += inv * (wg.col(j).array() * (x_.col(c).array() - x_(j, c)).square()).sum();
        }
      }
      grad[q] = 0.5 * sum;
    }
    grad[p] = 0.5 * w.cwiseProduct(k_signal).sum();
    grad[p + 1] = 0.5 * noise * w.trace();
    // A weak pull of the length scales toward 0.5 of the unit range keeps flat directions sane.
    for (size_t q = 0; q < p; ++q) grad[q] -= (theta[q] - std::log(0.5)) / 4.0;
    return true;
  }

  void Factor(std::vector<double>& theta) {
    const size_t p = theta.size() - 2;
    theta_ = theta;
    signal_ = std::exp(theta[p]);
    llt_.compute(Kernel(theta));
    while (llt_.info() != Eigen::Success && theta[p + 1] < kLogNoiseMax) {
      theta[p + 1] = std::min(theta[p + 1] + std::log(10.0), kLogNoiseMax);
      theta_ = theta;
      llt_.compute(Kernel(theta));
    }
    alpha_ = llt_.solve(z_);
  }

  Eigen::MatrixXd Cross(const Eigen::MatrixXd& points) const {
    return ScaledSquared(x_, points, theta_).unaryExpr([](double r2) {
      return Matern(std::sqrt(r2));
    }) * signal_;
  }

  const Encoding& encoding_;
  Eigen::MatrixXd x_;
  Eigen::VectorXd z_;
  std::vector<double> theta_;
  double signal_ = 1;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_;
};

double ExpectedImprovement(double best, double mean, double sd) {
  const double u = (best - mean) / sd;
  const double cdf = 0.5 * std::erfc(-u / std::sqrt(2.0));
  const double pdf = std::exp(-0.5 * u * u) / std::sqrt(2 * M_PI);
  return (best - mean) * cdf + sd * pdf;
}

}  // namespace

GpSearch::GpSearch(const v1::GpSearchConfig& config, const Problem& problem, uint64_t seed)
    : problem_(problem),
      space_(*problem.AsParameterSpace()),
      dimensions_(space_.Dimensions()),
      seed_(seed),
      initial_random_(config.initial_random() ? config.initial_random() : kDefaultInitialRandom),
      max_points_(config.max_model_points() ? config.max_model_points() : kDefaultModelPoints),
      seeds_(problem.Seeds()) {}

v1::Candidate GpSearch::Ask(uint64_t index) {
  const uint64_t k = asked_++;
  v1::Candidate candidate;
  if (k < seeds_.size()) {
    candidate = seeds_[k];
  } else if (k < initial_random_ || told_.size() < 2) {
    Rng rng(Mix64(seed_ ^ Mix64(k)));
    candidate = problem_.Random(rng);
  } else {
    candidate = Propose(k);
  }
  std::vector<double> point = space_.ToUnit(candidate);
  if (point.size() == dimensions_.size()) pending_[index] = std::move(point);
  return candidate;
}

v1::Candidate GpSearch::Propose(uint64_t k) {
  Rng rng(Mix64(seed_ ^ Mix64(k)));
  const Encoding encoding(dimensions_);
  const int d = static_cast<int>(dimensions_.size());

  // The warped, standardized targets; failed trials count as the worst value seen.
  std::vector<double> values;
  for (const Told& t : told_) values.push_back(t.value);
  double worst = -std::numeric_limits<double>::infinity();
  double lowest = std::numeric_limits<double>::infinity();
  for (double v : values) {
    if (std::isfinite(v)) worst = std::max(worst, v), lowest = std::min(lowest, v);
  }
  if (!std::isfinite(lowest)) {  // nothing succeeded yet
    return problem_.Random(rng);
  }
  for (double& v : values) {
    if (!std::isfinite(v)) v = worst;
  }
  std::vector<double> sorted = values;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double delta = std::max(0.1 * (median - lowest), 1e-12 * (1 + std::abs(lowest)));
  for (double& v : values) v = std::log(v - lowest + delta);
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  double var = 0;
  for (double v : values) var += (v - mean) * (v - mean);
  const double sd = std::max(std::sqrt(var / values.size()), 1e-12);
  for (double& v : values) v = (v - mean) / sd;
  const double best = *std::min_element(values.begin(), values.end());

  // Told points, then pending ones at the mean (0 after standardizing).
  const int n = static_cast<int>(told_.size() + pending_.size());
  Eigen::MatrixXd x(n, encoding.columns());
  Eigen::VectorXd z = Eigen::VectorXd::Zero(n);
  int row = 0;
  for (size_t i = 0; i < told_.size(); ++i, ++row) {
    x.row(row) = encoding.Encode(told_[i].point);
    z(row) = values[i];
  }
  for (const auto& [index, point] : pending_) x.row(row++) = encoding.Encode(point);

  std::vector<double> theta = hyperparameters_;
  const bool first = theta.size() != static_cast<size_t>(encoding.parameters() + 2);
  if (first) {
    theta.assign(encoding.parameters(), std::log(0.5));
    theta.push_back(0);               // signal variance 1
    theta.push_back(std::log(1e-3));  // noise
  }
  Gp gp(encoding, x, z);
  gp.Fit(theta, first ? kFirstFitSteps : kWarmFitSteps);
  hyperparameters_ = theta;

  // Candidates in unit coordinates.
  auto step = [&](const std::vector<double>& from, double scale) {
    std::vector<double> point = from;
    bool moved = false;
    for (int j = 0; j < d; ++j) {
      if (dimensions_[j].kind == ParameterSpace::Kind::kCategorical &&
          dimensions_[j].choices <= kMaxOneHot) {
        if (rng.Bernoulli(std::min(0.5, 2 * scale))) {
          point[j] = rng.Uniform();
          moved = true;
        }
      } else {
        point[j] = std::clamp(point[j] + scale * rng.Normal(), 0.0, 1.0);
        moved = true;
      }
    }
    if (!moved) point[rng.Below(d)] = rng.Uniform();
    return point;
  };
  std::vector<std::vector<double>> candidates;
  for (int i = 0; i < kRandomCandidates; ++i) {
    std::vector<double> point(d);
    for (double& u : point) u = rng.Uniform();
    candidates.push_back(std::move(point));
  }
  std::vector<size_t> order(told_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });
  for (int p = 0; p < kLocalParents && p < static_cast<int>(order.size()); ++p) {
    for (int s = 0; s < kLocalSteps; ++s) {
      candidates.push_back(step(told_[order[p]].point, s % 2 ? 0.02 : 0.1));
    }
  }

  std::vector<double> scores;
  auto score = [&](size_t from) {
    Eigen::MatrixXd points(candidates.size() - from, encoding.columns());
    for (size_t i = from; i < candidates.size(); ++i) {
      points.row(i - from) = encoding.Encode(candidates[i]);
    }
    Eigen::VectorXd mu, sigma;
    gp.Predict(points, mu, sigma);
    for (int i = 0; i < mu.size(); ++i) {
      // A model that could not be factored gives no ranking: such a point ranks last.
      const double ei = ExpectedImprovement(best, mu(i), sigma(i));
      scores.push_back(std::isfinite(ei) ? ei : -1);
    }
  };
  score(0);
  auto best_few = [&](int count) {
    std::vector<size_t> idx(candidates.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(),
                     [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    idx.resize(std::min<size_t>(count, idx.size()));
    return idx;
  };
  double scale = 0.02;
  for (int round = 0; round < kRefineRounds; ++round, scale /= 2) {
    const size_t from = candidates.size();
    for (size_t parent : best_few(kRefineParents)) {
      for (int s = 0; s < kRefineSteps; ++s) candidates.push_back(step(candidates[parent], scale));
    }
    score(from);
  }

  // The best candidate that is not a point told already.
  for (size_t i : best_few(static_cast<int>(candidates.size()))) {
    v1::Candidate candidate = space_.FromUnit(candidates[i]);
    const std::vector<double> canonical = space_.ToUnit(candidate);
    const bool seen = std::any_of(told_.begin(), told_.end(),
                                  [&](const Told& t) { return t.point == canonical; }) ||
                      std::any_of(pending_.begin(), pending_.end(),
                                  [&](const auto& p) { return p.second == canonical; });
    if (!seen) return candidate;
  }
  return problem_.Random(rng);
}

void GpSearch::Tell(uint64_t index, const v1::Candidate& candidate,
                    const v1::Evaluation& evaluation) {
  auto it = pending_.find(index);
  std::vector<double> point;
  if (it != pending_.end()) {
    point = std::move(it->second);
    pending_.erase(it);
  } else {
    point = space_.ToUnit(candidate);
  }
  if (point.size() != dimensions_.size()) return;
  double value = std::numeric_limits<double>::infinity();
  if (evaluation.status() == v1::OK && evaluation.objectives_size() > 0 &&
      std::isfinite(evaluation.objectives(0))) {
    value = evaluation.objectives(0);
  }
  told_.push_back({index, std::move(point), value});
  Forget();
}

void GpSearch::Forget() {
  if (told_.size() <= max_points_) return;
  const size_t half = max_points_ / 2;
  std::vector<size_t> order(told_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return told_[a].value < told_[b].value; });
  std::vector<bool> keep(told_.size(), false);
  for (size_t i = 0; i < half; ++i) keep[order[i]] = true;
  for (size_t i = told_.size() - (max_points_ - half); i < told_.size(); ++i) keep[i] = true;
  std::vector<Told> kept;
  for (size_t i = 0; i < told_.size(); ++i) {
    if (keep[i]) kept.push_back(std::move(told_[i]));
  }
  told_ = std::move(kept);
}

v1::StrategySnapshot GpSearch::Snapshot() const {
  v1::StrategySnapshot snapshot;
  *snapshot.mutable_rng() = Rng(seed_).Save();
  v1::GpSearchState& state = *snapshot.mutable_gp();
  state.set_asked(asked_);
  state.set_dimensions(static_cast<uint32_t>(dimensions_.size()));
  for (const Told& t : told_) {
    state.add_indices(t.index);
    for (double u : t.point) state.add_points(u);
    state.add_values(t.value);
  }
  for (const auto& [index, point] : pending_) {
    state.add_pending_indices(index);
    for (double u : point) state.add_pending_points(u);
  }
  for (double h : hyperparameters_) state.add_hyperparameters(h);
  return snapshot;
}

absl::Status GpSearch::Restore(const v1::StrategySnapshot& snapshot) {
  if (!snapshot.has_gp()) return absl::InvalidArgumentError("strategy snapshot is not of gp");
  const v1::GpSearchState& state = snapshot.gp();
  const size_t d = dimensions_.size();
  if (state.dimensions() != d || state.points_size() != state.values_size() * static_cast<int>(d) ||
      state.indices_size() != state.values_size() ||
      state.pending_points_size() != state.pending_indices_size() * static_cast<int>(d) ||
      state.values_size() > static_cast<int>(max_points_)) {
    return absl::InvalidArgumentError("gp snapshot: malformed");
  }
  asked_ = state.asked();
  told_.clear();
  for (int i = 0; i < state.values_size(); ++i) {
    told_.push_back(
        {state.indices(i),
         std::vector<double>(state.points().begin() + i * d, state.points().begin() + (i + 1) * d),
         state.values(i)});
  }
  pending_.clear();
  for (int i = 0; i < state.pending_indices_size(); ++i) {
    pending_[state.pending_indices(i)] = std::vector<double>(
        state.pending_points().begin() + i * d, state.pending_points().begin() + (i + 1) * d);
  }
  hyperparameters_.assign(state.hyperparameters().begin(), state.hyperparameters().end());
  return absl::OkStatus();
}

}  // namespace evolv
