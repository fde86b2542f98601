// ChebCB (Learning to Relax): a SquareCB-style contextual bandit for a scalar context.
//
// Each arm a keeps a ridge least-squares model of its scaled loss (loss / loss_scale) on the
// Chebyshev features T_0..T_5(s) of the context, s = 2 (context - lo) / (hi - lo) - 1 clamped to
// [-1, 1]. At round t (1-based) with predictions yhat_a and best prediction yhat_b, arms are drawn
// by inverse gap weighting (Abe & Long; Foster & Rakhlin):
//   p_a = 1 / (K + gamma_t (yhat_a - yhat_b))  for a != b,   p_b = 1 - sum_{a != b} p_a,
// with the schedule gamma_t = gamma_scale * sqrt(K t): exploration decays like 1 / sqrt(t) as the
// models sharpen, which gives SquareCB's O(sqrt(K T)) regret for a fixed horizon-free run.
// Before an arm has data its prediction is 0 (the ridge prior), so untried arms look good and
// are explored early.
//
// Not thread-safe. Copyable; the whole learning state is ChebCbState.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "search/bandits/tsallis_inf.h"
#include "search/rng.h"

namespace evolv {

inline constexpr int kChebyshevFeatures = 6;  // T_0..T_5

struct ChebCbOptions {
  int num_arms = 0;
  double loss_scale = 1.0;   // the bandit regresses loss / loss_scale
  double context_lo = -1.0;  // context range mapped onto [-1, 1]
  double context_hi = 1.0;
  double gamma_scale = 1.0;  // gamma_t = gamma_scale * sqrt(num_arms * t)
  double ridge = 1.0;        // ridge on each arm's Gram matrix
};

// Serializable learning state: per-arm sufficient statistics of the least-squares fit.
struct ChebCbState {
  std::vector<double> gram;     // num_arms blocks of 6x6 (row-major): sum phi phi^T (no ridge)
  std::vector<double> moments;  // num_arms blocks of 6: sum phi * scaled loss
  std::vector<int64_t> pulls;   // per arm
  int64_t rounds = 0;
};

class ChebCb {
 public:
  // InvalidArgument naming the field unless num_arms >= 1, loss_scale > 0, gamma_scale > 0,
  // ridge > 0 and context_lo < context_hi (all finite).
  static absl::StatusOr<ChebCb> Create(const ChebCbOptions& options);

  // T_0..T_5 of the context scaled to [-1, 1].
  std::array<double, kChebyshevFeatures> Features(double context) const;
  // Predicted scaled loss of every arm at `context`.
  std::vector<double> Predictions(double context) const;
  // The inverse-gap-weighted distribution at `context` for the next round; sums to 1.
  std::vector<double> Probabilities(double context) const;
  // Draws from Probabilities(context); consumes exactly one rng.Uniform().
  BanditDraw Sample(double context, Rng& rng) const;
  // Adds (context, loss) to the arm's regression. `probability` is validated but, as in
  // SquareCB, not used by the square-loss oracle. InvalidArgument naming the field as for
  // TsallisInf::Update; state unchanged then.
  absl::Status Update(double context, int arm, double loss, double probability);

  double Gamma() const;  // gamma for the next round
  const ChebCbOptions& options() const { return options_; }

  ChebCbState Save() const { return state_; }
  // InvalidArgument (state unchanged) when the sizes do not match num_arms.
  absl::Status Restore(const ChebCbState& state);

 private:
  explicit ChebCb(const ChebCbOptions& options);

  ChebCbOptions options_;
  ChebCbState state_;
};

}  // namespace evolv
