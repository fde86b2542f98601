// Model scaling strategies of "Fast and Accurate Model Scaling" (Dollar, Singh, Girshick, CVPR
// 2021), following pycls's scaler (pycls/models/scaler.py): a flops factor s is split over depth,
// width and resolution by weights, and the scaled AnyNet is rounded the way pycls rounds it.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "evaluators/scaling/network.h"

namespace evolv {

// Scale factors above this are rejected (ValidateScaling); the paper scales by up to 16x. With
// a base inside ValidateNetwork's bounds every scaled size stays far inside int.
inline constexpr double kMaxScaleFactor = 64.0;

// Relative weights of a strategy: pycls's "d1_w8_g8_r1" is {1, 8, 1, 8}. Each >= 0 and
// depth + width + resolution > 0. `group` scales bottleneck group widths by s^(group / 2S); it
// does not enter S (pycls: only fast compound scaling sets it, so that group widths grow with
// the widths).
struct ScalingWeights {
  double depth = 0;
  double width = 0;
  double resolution = 0;
  double group = 0;
};

// d = s^(w_d / S), w = s^(w_w / 2S), r = s^(w_r / 2S), g = s^(w_g / 2S), S = w_d + w_w + w_r:
// d w^2 r^2 = s.
struct ScaleFactors {
  double d = 1, w = 1, r = 1, g = 1;
};

// Fast compound scaling with weight `alpha` on width: depth = resolution = (1 - alpha) / 2,
// width = group = alpha. alpha = 0.8 is the paper's dWr (pycls "d1_w8_g8_r1"): d = s^0.1,
// w = s^0.4, r = s^0.05. Precondition: 0 <= alpha <= 1.
ScalingWeights CompoundWeights(double alpha);

// The paper's named strategies: "d", "w", "r", "dw", "dr", "wr", "dwr" (weight 1 on each
// letter) and "dWr" (CompoundWeights(0.8)). nullopt for any other name.
std::optional<ScalingWeights> NamedStrategy(std::string_view name);

// OK, or INVALID_ARGUMENT whose message starts with the field path: weights finite and >= 0
// ("<weights_field>.depth_weight", ".width_weight", ".resolution_weight", ".group_weight", as
// in scaling.proto's ScalingStrategy) with depth + width + resolution
// > 0 ("<weights_field>"), and 0 < s <= kMaxScaleFactor ("<factor_field>"; s < 1 scales down).
absl::Status ValidateScaling(const ScalingWeights& weights, std::string_view weights_field,
                             double s, std::string_view factor_field);

// Precondition: ValidateScaling is OK for (weights, s).
ScaleFactors ComputeScaleFactors(const ScalingWeights& weights, double s);

// pycls's scale_model for an AnyNet: per stage depth max(1, round(d * depth)), width
// max(1, round(w * width / 8)) * 8, group width max(1, round(g * gw)) quantized (<= 2 kept,
// <= 5 -> 4, else a multiple of 8), then AdjustBlockCompatibility (basic-block stages take
// ratio 1 and group width 1 for this step, as in pycls, and keep their own fields);
// resolution round(r * resolution / 4) * 4. round() is Python's (halves to even). Stem, head,
// in_channels, num_classes and se_ratio are kept. Preconditions: ValidateNetwork(base) and
// ValidateScaling for (weights, s) are OK. The result may break ValidateNetwork's bounds (a large
// s, a resolution that rounds to 0): validate it before use.
NetworkSpec ScaleNetwork(const NetworkSpec& base, const ScalingWeights& weights, double s);

// pycls's adjust_block_compatibility for bottleneck stages: caps each group width at the inner
// width v = max(1, trunc(width * ratio)), rounds v to a multiple of m = lcm(group width, ratio)
// (ratio > 1) or of the group width (at least m), and sets width = trunc(v / ratio), so that the
// group width divides the inner width. Precondition: widths, ratios, group widths > 0 and each
// ratio below 1 or whole.
void AdjustBlockCompatibility(std::vector<StageSpec>& stages);

}  // namespace evolv
