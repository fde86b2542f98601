#include "search/bandits/chebcb.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace evolv {
namespace {

constexpr int kF = kChebyshevFeatures;

bool PositiveFinite(double value) { return value > 0.0 && std::isfinite(value); }

}  // namespace

ChebCb::ChebCb(const ChebCbOptions& options) : options_(options) {
  state_.gram.assign(static_cast<size_t>(options.num_arms) * kF * kF, 0.0);
  state_.moments.assign(static_cast<size_t>(options.num_arms) * kF, 0.0);
  state_.pulls.assign(options.num_arms, 0);
}

absl::StatusOr<ChebCb> ChebCb::Create(const ChebCbOptions& options) {
  if (options.num_arms < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_arms: ", options.num_arms, " must be >= 1"));
  }
  if (!PositiveFinite(options.loss_scale)) {
    return absl::InvalidArgumentError(
        absl::StrCat("loss_scale: ", options.loss_scale, " must be positive and finite"));
  }
  if (!PositiveFinite(options.gamma_scale)) {
    return absl::InvalidArgumentError(
        absl::StrCat("gamma_scale: ", options.gamma_scale, " must be positive and finite"));
  }
  if (!PositiveFinite(options.ridge)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ridge: ", options.ridge, " must be positive and finite"));
  }
  if (!std::isfinite(options.context_lo) || !std::isfinite(options.context_hi) ||
      !(options.context_lo < options.context_hi)) {
    return absl::InvalidArgumentError(absl::StrCat("context_range: [", options.context_lo, ", ",
                                                   options.context_hi,
                                                   "] must be finite with lo < hi"));
  }
  return ChebCb(options);
}

std::array<double, kF> ChebCb::Features(double context) const {
  double s =
      2.0 * (context - options_.context_lo) / (options_.context_hi - options_.context_lo) - 1.0;
  s = std::isnan(s) ? 0.0 : std::clamp(s, -1.0, 1.0);
  std::array<double, kF> t;
  t[0] = 1.0;
  t[1] = s;
  for (int k = 2; k < kF; ++k) t[k] = 2.0 * s * t[k - 1] - t[k - 2];
  return t;
}

std::vector<double> ChebCb::Predictions(double context) const {
  const std::array<double, kF> phi = Features(context);
  const Eigen::Map<const Eigen::Matrix<double, kF, 1>> features(phi.data());
  std::vector<double> predictions(options_.num_arms, 0.0);
  for (int a = 0; a < options_.num_arms; ++a) {
    if (state_.pulls[a] == 0) continue;  // the ridge solution is exactly 0
    Eigen::Matrix<double, kF, kF> gram =
        Eigen::Map<const Eigen::Matrix<double, kF, kF, Eigen::RowMajor>>(&state_.gram[a * kF * kF]);
    gram.diagonal().array() += options_.ridge;
    const Eigen::Map<const Eigen::Matrix<double, kF, 1>> moments(&state_.moments[a * kF]);
    const Eigen::Matrix<double, kF, 1> weights = gram.ldlt().solve(moments);
    predictions[a] = weights.dot(features);
  }
  return predictions;
}

double ChebCb::Gamma() const {
  return options_.gamma_scale *
         std::sqrt(static_cast<double>(options_.num_arms) * static_cast<double>(state_.rounds + 1));
}

std::vector<double> ChebCb::Probabilities(double context) const {
  const std::vector<double> predictions = Predictions(context);
  const int k = options_.num_arms;
  const int best = static_cast<int>(std::min_element(predictions.begin(), predictions.end()) -
                                    predictions.begin());
  const double gamma = Gamma();
  std::vector<double> p(k, 0.0);
  double others = 0.0;
  for (int a = 0; a < k; ++a) {
    if (a == best) continue;
    p[a] = 1.0 / (k + gamma * (predictions[a] - predictions[best]));
    others += p[a];
  }
  // Each p_a <= 1/K, so the best arm keeps at least 1/K.
  p[best] = 1.0 - others;
  return p;
}

BanditDraw ChebCb::Sample(double context, Rng& rng) const {
  const std::vector<double> p = Probabilities(context);
  const int arm = SampleIndex(p, rng);
  return {arm, p[arm]};
}

absl::Status ChebCb::Update(double context, int arm, double loss, double probability) {
  if (arm < 0 || arm >= options_.num_arms) {
    return absl::InvalidArgumentError(
        absl::StrCat("arm: ", arm, " is outside [0, ", options_.num_arms, ")"));
  }
  if (!(probability > 0.0 && probability <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("probability: ", probability, " is outside (0, 1]"));
  }
  if (!(loss >= 0.0) || !std::isfinite(loss)) {
    return absl::InvalidArgumentError(
        absl::StrCat("loss: ", loss, " must be non-negative and finite"));
  }
  if (!std::isfinite(context)) {
    return absl::InvalidArgumentError(absl::StrCat("context: ", context, " must be finite"));
  }
  const std::array<double, kF> phi = Features(context);
  const double y = loss / options_.loss_scale;
  double* gram = &state_.gram[arm * kF * kF];
  double* moments = &state_.moments[arm * kF];
  for (int i = 0; i < kF; ++i) {
    moments[i] += phi[i] * y;
    for (int j = 0; j < kF; ++j) gram[i * kF + j] += phi[i] * phi[j];
  }
  ++state_.pulls[arm];
  ++state_.rounds;
  return absl::OkStatus();
}

absl::Status ChebCb::Restore(const ChebCbState& state) {
  const size_t k = options_.num_arms;
  if (state.gram.size() != k * kF * kF) {
    return absl::InvalidArgumentError(
        absl::StrCat("gram: ", state.gram.size(), " values, expected ", k * kF * kF));
  }
  if (state.moments.size() != k * kF) {
    return absl::InvalidArgumentError(
        absl::StrCat("moments: ", state.moments.size(), " values, expected ", k * kF));
  }
  if (state.pulls.size() != k) {
    return absl::InvalidArgumentError(
        absl::StrCat("pulls: ", state.pulls.size(), " values, expected ", k));
  }
  if (state.rounds < 0) {
    return absl::InvalidArgumentError(absl::StrCat("rounds: ", state.rounds, " is negative"));
  }
  state_ = state;
  return absl::OkStatus();
}

}  // namespace evolv
