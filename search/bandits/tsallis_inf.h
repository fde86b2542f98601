// 1/2-Tsallis-INF (Zimmert & Seldin), the adversarial/stochastic best-of-both-worlds bandit used
// by Learning to Relax to pick a relaxation parameter from a finite grid.
//
// At round t (1-based: t = rounds played + 1) the arm distribution is
//   p_i = 4 (eta (Lhat_i - x))^-2,   eta = 2 / sqrt(t),
// where Lhat_i is the cumulative importance-weighted loss estimate of arm i and the normalizer
// x < min_i Lhat_i is found by Newton steps so that sum_i p_i = 1. After playing arm a with
// probability p_a and observing `loss`, Lhat_a += (loss / loss_scale - B) / p_a, the
// reduced-variance importance-weighted estimate of Zimmert & Seldin with baseline B (adding B to
// every arm's estimate, which the estimator also does, leaves the distribution unchanged, so it
// is omitted). B = 0 is the plain importance-weighted estimate; their analysis uses B = 1/2.
//
// Losses are raw costs (e.g. SOR iterations); the bandit works on loss / loss_scale. The theory
// assumes scaled losses in [0, 1]; larger ones are accepted (they only make an arm look worse).
//
// Not thread-safe. Copyable; the whole learning state is TsallisInfState.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "search/rng.h"

namespace evolv {

// Serializable learning state (maps one-to-one to a protobuf message later).
struct TsallisInfState {
  std::vector<double> loss_estimates;  // Lhat_i, cumulative, in scaled-loss units
  int64_t rounds = 0;                  // updates applied so far
};

// One sampled arm and the probability it was sampled with (pass it back to Update).
struct BanditDraw {
  int arm = 0;
  double probability = 1.0;
};

class TsallisInf {
 public:
  // InvalidArgument naming the field unless num_arms >= 1, loss_scale > 0 and loss_baseline are
  // finite.
  static absl::StatusOr<TsallisInf> Create(int num_arms, double loss_scale,
                                           double loss_baseline = 0.0);

  // Draws an arm from Probabilities(); consumes exactly one rng.Uniform().
  BanditDraw Sample(Rng& rng) const;

  // Records the loss of `arm`, played with `probability` (as returned by Sample). InvalidArgument
  // naming the field for an arm out of range, a probability outside (0, 1] or a negative or
  // non-finite loss; the state is unchanged then.
  absl::Status Update(int arm, double loss, double probability);

  // The distribution for the next round; sums to 1 within 1e-12.
  std::vector<double> Probabilities() const;

  int num_arms() const { return static_cast<int>(state_.loss_estimates.size()); }
  double loss_scale() const { return loss_scale_; }
  double loss_baseline() const { return loss_baseline_; }

  TsallisInfState Save() const { return state_; }
  // InvalidArgument (state unchanged) when the arm count differs or a value is not finite.
  absl::Status Restore(const TsallisInfState& state);

 private:
  TsallisInf(int num_arms, double loss_scale, double loss_baseline);

  TsallisInfState state_;
  double loss_scale_;
  double loss_baseline_;
};

// Draws an index from a probability vector with one rng.Uniform() (shared by the bandits).
int SampleIndex(const std::vector<double>& probabilities, Rng& rng);

// The 1/2-Tsallis-INF distribution for loss estimates `losses` and learning rate `eta`.
std::vector<double> TsallisInfProbabilities(const std::vector<double>& losses, double eta);

}  // namespace evolv
