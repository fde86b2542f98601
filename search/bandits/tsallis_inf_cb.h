// Tsallis-INF-CB: the context range [context_lo, context_hi] is cut into `num_bins` equal bins
// and each bin runs its own TsallisInf over the same arms. A context outside the range is
// clamped into the first or last bin.
//
// Not thread-safe. Copyable; the whole learning state is TsallisInfCbState.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "search/bandits/tsallis_inf.h"
#include "search/rng.h"

namespace evolv {

struct TsallisInfCbState {
  std::vector<TsallisInfState> bins;  // one per bin, lowest context first
};

class TsallisInfCb {
 public:
  // InvalidArgument naming the field unless num_arms >= 1, loss_scale > 0, num_bins >= 1 and
  // context_lo < context_hi (both finite).
  static absl::StatusOr<TsallisInfCb> Create(int num_arms, double loss_scale, int num_bins,
                                             double context_lo, double context_hi,
                                             double loss_baseline = 0.0);

  // The bin a context falls in, in [0, num_bins).
  int Bin(double context) const;

  BanditDraw Sample(double context, Rng& rng) const;
  // As TsallisInf::Update, on the bin of `context`.
  absl::Status Update(double context, int arm, double loss, double probability);
  std::vector<double> Probabilities(double context) const;

  int num_bins() const { return static_cast<int>(bins_.size()); }

  TsallisInfCbState Save() const;
  // InvalidArgument (state unchanged) when the bin or arm count differs.
  absl::Status Restore(const TsallisInfCbState& state);

 private:
  TsallisInfCb(std::vector<TsallisInf> bins, double context_lo, double context_hi)
      : bins_(std::move(bins)), context_lo_(context_lo), context_hi_(context_hi) {}

  std::vector<TsallisInf> bins_;
  double context_lo_;
  double context_hi_;
};

}  // namespace evolv
