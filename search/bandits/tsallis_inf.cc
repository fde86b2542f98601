#include "search/bandits/tsallis_inf.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace evolv {

std::vector<double> TsallisInfProbabilities(const std::vector<double>& losses, double eta) {
  const size_t k = losses.size();
  std::vector<double> p(k, 0.0);
  const double min_loss = *std::min_element(losses.begin(), losses.end());
  // Start where the best arm alone has weight 1: sum_i p_i(x) >= 1 there. sum_i p_i(x) is
  // increasing and convex on x < min_loss, so Newton steps from the right of the root decrease x
  // monotonically towards it and never cross min_loss.
  double x = min_loss - 2.0 / eta;
  for (int step = 0; step < 100; ++step) {
    double sum = 0.0;
    double slope = 0.0;  // d/dx sum_i p_i = eta sum_i p_i^{3/2}
    for (size_t i = 0; i < k; ++i) {
      const double root = 2.0 / (eta * (losses[i] - x));  // sqrt(p_i)
      p[i] = root * root;
      sum += p[i];
      slope += eta * p[i] * root;
    }
    if (std::abs(sum - 1.0) < 1e-13) break;
    const double next = x - (sum - 1.0) / slope;
    if (!(next < x)) break;  // converged to rounding
    x = next;
  }
  double sum = 0.0;
  for (size_t i = 0; i < k; ++i) {
    const double root = 2.0 / (eta * (losses[i] - x));
    p[i] = root * root;
    sum += p[i];
  }
  for (double& value : p) value /= sum;
  return p;
}

int SampleIndex(const std::vector<double>& probabilities, Rng& rng) {
  const double u = rng.Uniform();
  double cumulative = 0.0;
  int last_positive = 0;
  for (size_t i = 0; i < probabilities.size(); ++i) {
    if (probabilities[i] <= 0.0) continue;
    last_positive = static_cast<int>(i);
    cumulative += probabilities[i];
    if (u < cumulative) return static_cast<int>(i);
  }
  return last_positive;  // u landed in the rounding gap above the cumulative sum
}

TsallisInf::TsallisInf(int num_arms, double loss_scale, double loss_baseline)
    : loss_scale_(loss_scale), loss_baseline_(loss_baseline) {
  state_.loss_estimates.assign(num_arms, 0.0);
}

absl::StatusOr<TsallisInf> TsallisInf::Create(int num_arms, double loss_scale,
                                              double loss_baseline) {
  if (num_arms < 1) {
    return absl::InvalidArgumentError(absl::StrCat("num_arms: ", num_arms, " must be >= 1"));
  }
  if (!(loss_scale > 0.0) || !std::isfinite(loss_scale)) {
    return absl::InvalidArgumentError(
        absl::StrCat("loss_scale: ", loss_scale, " must be positive and finite"));
  }
  if (!std::isfinite(loss_baseline)) {
    return absl::InvalidArgumentError(
        absl::StrCat("loss_baseline: ", loss_baseline, " must be finite"));
  }
  return TsallisInf(num_arms, loss_scale, loss_baseline);
}

std::vector<double> TsallisInf::Probabilities() const {
  const double eta = 2.0 / std::sqrt(static_cast<double>(state_.rounds + 1));
  return TsallisInfProbabilities(state_.loss_estimates, eta);
}

BanditDraw TsallisInf::Sample(Rng& rng) const {
  const std::vector<double> p = Probabilities();
  const int arm = SampleIndex(p, rng);
  return {arm, p[arm]};
}

absl::Status TsallisInf::Update(int arm, double loss, double probability) {
  if (arm < 0 || arm >= num_arms()) {
    return absl::InvalidArgumentError(
        absl::StrCat("arm: ", arm, " is outside [0, ", num_arms(), ")"));
  }
  if (!(probability > 0.0 && probability <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("probability: ", probability, " is outside (0, 1]"));
  }
  if (!(loss >= 0.0) || !std::isfinite(loss)) {
    return absl::InvalidArgumentError(
        absl::StrCat("loss: ", loss, " must be non-negative and finite"));
  }
  state_.loss_estimates[arm] += (loss / loss_scale_ - loss_baseline_) / probability;
  ++state_.rounds;
  return absl::OkStatus();
}

absl::Status TsallisInf::Restore(const TsallisInfState& state) {
  if (state.loss_estimates.size() != state_.loss_estimates.size()) {
    return absl::InvalidArgumentError(absl::StrCat("loss_estimates: ", state.loss_estimates.size(),
                                                   " arms, expected ",
                                                   state_.loss_estimates.size()));
  }
  for (double value : state.loss_estimates) {
    if (!std::isfinite(value)) {
      return absl::InvalidArgumentError("loss_estimates: non-finite value");
    }
  }
  if (state.rounds < 0) {
    return absl::InvalidArgumentError(absl::StrCat("rounds: ", state.rounds, " is negative"));
  }
  state_ = state;
  return absl::OkStatus();
}

}  // namespace evolv
