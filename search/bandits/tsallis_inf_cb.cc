#include "search/bandits/tsallis_inf_cb.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace evolv {

absl::StatusOr<TsallisInfCb> TsallisInfCb::Create(int num_arms, double loss_scale, int num_bins,
                                                  double context_lo, double context_hi,
                                                  double loss_baseline) {
  if (num_bins < 1) {
    return absl::InvalidArgumentError(absl::StrCat("num_bins: ", num_bins, " must be >= 1"));
  }
  if (!std::isfinite(context_lo) || !std::isfinite(context_hi) || !(context_lo < context_hi)) {
    return absl::InvalidArgumentError(absl::StrCat("context_range: [", context_lo, ", ", context_hi,
                                                   "] must be finite with lo < hi"));
  }
  std::vector<TsallisInf> bins;
  for (int i = 0; i < num_bins; ++i) {
    absl::StatusOr<TsallisInf> bin = TsallisInf::Create(num_arms, loss_scale, loss_baseline);
    if (!bin.ok()) return bin.status();
    bins.push_back(*std::move(bin));
  }
  return TsallisInfCb(std::move(bins), context_lo, context_hi);
}

int TsallisInfCb::Bin(double context) const {
  const double unit = (context - context_lo_) / (context_hi_ - context_lo_);
  if (!(unit > 0.0)) return 0;  // also NaN
  const int bin = static_cast<int>(unit * num_bins());
  return std::min(bin, num_bins() - 1);
}

BanditDraw TsallisInfCb::Sample(double context, Rng& rng) const {
  return bins_[Bin(context)].Sample(rng);
}

absl::Status TsallisInfCb::Update(double context, int arm, double loss, double probability) {
  return bins_[Bin(context)].Update(arm, loss, probability);
}

std::vector<double> TsallisInfCb::Probabilities(double context) const {
  return bins_[Bin(context)].Probabilities();
}

TsallisInfCbState TsallisInfCb::Save() const {
  TsallisInfCbState state;
  for (const TsallisInf& bin : bins_) state.bins.push_back(bin.Save());
  return state;
}

absl::Status TsallisInfCb::Restore(const TsallisInfCbState& state) {
  if (state.bins.size() != bins_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bins: ", state.bins.size(), " bins, expected ", bins_.size()));
  }
  std::vector<TsallisInf> restored = bins_;
  for (size_t i = 0; i < bins_.size(); ++i) {
    absl::Status status = restored[i].Restore(state.bins[i]);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("bins[", i, "].", status.message()));
    }
  }
  bins_ = std::move(restored);
  return absl::OkStatus();
}

}  // namespace evolv
