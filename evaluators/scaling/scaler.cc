#include "evaluators/scaling/scaler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace evolv {
namespace {

// Python's round(): halves go to the even neighbour (the default FE_TONEAREST mode).
int PyRound(double x) { return static_cast<int>(std::nearbyint(x)); }

// pycls's group-width quantization after scaling: 1 and 2 kept, 3..5 -> 4, else multiple of 8.
int QuantizeGroupWidth(int g) {
  if (g <= 2) return g;
  if (g <= 5) return 4;
  return PyRound(g / 8.0) * 8;
}

absl::Status CheckWeight(std::string_view field, std::string_view member, double value) {
  if (!std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), ".", std::string(member),
                                                   ": ", value, " is not a finite number >= 0"));
  }
  return absl::OkStatus();
}

}  // namespace

ScalingWeights CompoundWeights(double alpha) {
  const double rest = (1 - alpha) / 2;
  return ScalingWeights{/*depth=*/rest, /*width=*/alpha, /*resolution=*/rest, /*group=*/alpha};
}

std::optional<ScalingWeights> NamedStrategy(std::string_view name) {
  if (name == "dWr") return CompoundWeights(0.8);
  for (std::string_view simple : {"d", "w", "r", "dw", "dr", "wr", "dwr"}) {
    if (name != simple) continue;
    ScalingWeights weights;
    weights.depth = name.find('d') != std::string_view::npos ? 1 : 0;
    weights.width = name.find('w') != std::string_view::npos ? 1 : 0;
    weights.resolution = name.find('r') != std::string_view::npos ? 1 : 0;
    return weights;
  }
  return std::nullopt;
}

absl::Status ValidateScaling(const ScalingWeights& weights, std::string_view weights_field,
                             double s, std::string_view factor_field) {
  for (auto [member, value] : {std::pair<std::string_view, double>{"depth_weight", weights.depth},
                               {"width_weight", weights.width},
                               {"resolution_weight", weights.resolution},
                               {"group_weight", weights.group}}) {
    if (absl::Status status = CheckWeight(weights_field, member, value); !status.ok()) {
      return status;
    }
  }
  if (!(weights.depth + weights.width + weights.resolution > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(weights_field), ": the depth, width and resolution weights are all 0"));
  }
  if (!(s > 0 && s <= kMaxScaleFactor)) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(factor_field), ": ", s, " is outside (0, ", kMaxScaleFactor, "]"));
  }
  return absl::OkStatus();
}

ScaleFactors ComputeScaleFactors(const ScalingWeights& weights, double s) {
  const double sum = weights.depth + weights.width + weights.resolution;
  ScaleFactors f;
  f.d = std::pow(s, weights.depth / sum);
  f.w = std::pow(s, weights.width / sum / 2);
  f.r = std::pow(s, weights.resolution / sum / 2);
  f.g = std::pow(s, weights.group / sum / 2);
  return f;
}

void AdjustBlockCompatibility(std::vector<StageSpec>& stages) {
  for (StageSpec& stage : stages) {
    const double b = stage.bottleneck_ratio;
    int v = static_cast<int>(std::max(1.0, stage.width * b));
    const int g = std::min(stage.group_width, v);
    const int m = b > 1 ? std::lcm(g, static_cast<int>(b)) : g;
    v = std::max(m, PyRound(static_cast<double>(v) / m) * m);
    stage.width = static_cast<int>(v / b);
    stage.group_width = g;
  }
}

NetworkSpec ScaleNetwork(const NetworkSpec& base, const ScalingWeights& weights, double s) {
  const ScaleFactors f = ComputeScaleFactors(weights, s);
  NetworkSpec net = base;
  // pycls gives basic-block stages ratio 1 and group width 1 for this step: their group width
  // is scaled and quantized too, and the widths made its multiples (which changes them only
  // when the scaled group width is not a divisor of 8, e.g. 24 for a group weight far above
  // the width weight). Their own group width and ratio are left as they were.
  const bool basic = net.block == BlockKind::kResBasic;
  std::vector<StageSpec> stages = net.stages;
  for (StageSpec& stage : stages) {
    if (basic) {
      stage.bottleneck_ratio = 1;
      stage.group_width = 1;
    }
    stage.depth = std::max(1, PyRound(stage.depth * f.d));
    stage.width = std::max(1, PyRound(stage.width * f.w / 8)) * 8;
    stage.group_width = QuantizeGroupWidth(std::max(1, PyRound(stage.group_width * f.g)));
  }
  AdjustBlockCompatibility(stages);
  for (size_t i = 0; i < stages.size(); ++i) {
    net.stages[i].depth = stages[i].depth;
    net.stages[i].width = stages[i].width;
    if (!basic) net.stages[i].group_width = stages[i].group_width;
  }
  net.resolution = PyRound(base.resolution * f.r / 4) * 4;
  return net;
}

}  // namespace evolv
