#include "evaluators/scaling/presets.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "evaluators/scaling/scaler.h"

namespace evolv {
namespace {

NetworkSpec MakeNet(int in_channels, int resolution, StemKind stem, int stem_width, BlockKind block,
                    int num_classes) {
  return NetworkSpec{in_channels, resolution, stem, stem_width, block, {}, num_classes};
}

NetworkSpec ImageNetBottleneckNet(StemKind stem, int stem_width) {
  return MakeNet(3, 224, stem, stem_width, BlockKind::kResBottleneck, 1000);
}

// ResNet (bottleneck ratio 1/4, one group) or ResNeXt 32x4d (ratio 1/2, 32 groups of 4, 8, 16,
// 32 channels): res_stem_in of 64, widths 256 ... 2048, strides 1, 2, 2, 2.
NetworkSpec ResNetImageNet(int d1, int d2, int d3, int d4, bool resnext) {
  NetworkSpec net = ImageNetBottleneckNet(StemKind::kResImageNet, 64);
  const int depths[] = {d1, d2, d3, d4};
  for (int i = 0; i < 4; ++i) {
    net.stages.push_back(StageSpec{depths[i], 256 << i, i == 0 ? 1 : 2, resnext ? 0.5 : 0.25,
                                   resnext ? 4 << i : 64 << i});
  }
  return net;
}

struct NamedRegNet {
  std::string_view name;
  RegNetParams params;
};

// pycls configs/dds_baselines/regnet{x,y}/*.yaml.
constexpr NamedRegNet kRegNets[] = {
    {"RegNetX-200MF", {13, 24, 36.44, 2.49, 8, false}},
    {"RegNetX-400MF", {22, 24, 24.48, 2.54, 16, false}},
    {"RegNetX-600MF", {16, 48, 36.97, 2.24, 24, false}},
    {"RegNetX-800MF", {16, 56, 35.73, 2.28, 16, false}},
    {"RegNetX-1.6GF", {18, 80, 34.01, 2.25, 24, false}},
    {"RegNetX-3.2GF", {25, 88, 26.31, 2.25, 48, false}},
    {"RegNetX-4.0GF", {23, 96, 38.65, 2.43, 40, false}},
    {"RegNetX-6.4GF", {17, 184, 60.83, 2.07, 56, false}},
    {"RegNetX-8.0GF", {23, 80, 49.56, 2.88, 120, false}},
    {"RegNetX-12GF", {19, 168, 73.36, 2.37, 112, false}},
    {"RegNetX-16GF", {22, 216, 55.59, 2.1, 128, false}},
    {"RegNetX-32GF", {23, 320, 69.86, 2.0, 168, false}},
    {"RegNetY-200MF", {13, 24, 36.44, 2.49, 8, true}},
    {"RegNetY-400MF", {16, 48, 27.89, 2.09, 8, true}},
    {"RegNetY-600MF", {15, 48, 32.54, 2.32, 16, true}},
    {"RegNetY-800MF", {14, 56, 38.84, 2.4, 16, true}},
    {"RegNetY-1.6GF", {27, 48, 20.71, 2.65, 24, true}},
    {"RegNetY-3.2GF", {21, 80, 42.63, 2.66, 24, true}},
    {"RegNetY-4.0GF", {22, 96, 31.41, 2.24, 64, true}},
    {"RegNetY-6.4GF", {25, 112, 33.22, 2.27, 72, true}},
    {"RegNetY-8.0GF", {17, 192, 76.82, 2.19, 56, true}},
    {"RegNetY-12GF", {19, 168, 73.36, 2.37, 112, true}},
    {"RegNetY-16GF", {18, 200, 106.23, 2.48, 112, true}},
    {"RegNetY-32GF", {20, 232, 115.89, 2.53, 232, true}},
};

}  // namespace

NetworkSpec ResNetCifar(int depth) {
  const int n = std::max(1, (depth - 2) / 6);
  NetworkSpec net = MakeNet(3, 32, StemKind::kResCifar, 16, BlockKind::kResBasic, 10);
  for (int i = 0; i < 3; ++i) net.stages.push_back(StageSpec{n, 16 << i, i == 0 ? 1 : 2, 1, 8});
  return net;
}

NetworkSpec RegNet(const RegNetParams& p) {
  // Block i has the continuous width w0 + i wa, snapped to w0 wm^k (k = round(log_wm of the
  // ratio)) and then to a multiple of 8; consecutive equal widths form a stage. np.round and
  // Python's round both send halves to even, as nearbyint does.
  NetworkSpec net = ImageNetBottleneckNet(StemKind::kSimple, 32);
  net.se_ratio = p.squeeze_excitation ? 0.25 : 0.0;
  for (int i = 0; i < p.depth; ++i) {
    const double k = std::nearbyint(std::log((i * p.wa + p.w0) / p.w0) / std::log(p.wm));
    const int width = static_cast<int>(std::nearbyint(p.w0 * std::pow(p.wm, k) / 8)) * 8;
    if (!net.stages.empty() && net.stages.back().width == width) {
      ++net.stages.back().depth;
      continue;
    }
    net.stages.push_back(StageSpec{1, width, 2, 1.0, p.group_width});
  }
  AdjustBlockCompatibility(net.stages);
  return net;
}

std::optional<NetworkSpec> PyclsImageNetModel(std::string_view name) {
  static constexpr std::pair<std::string_view, int> kResNetDepths[] = {
      {"50", 6}, {"101", 23}, {"152", 36}};
  for (const auto& [depth, d3] : kResNetDepths) {
    const int d2 = depth == "152" ? 8 : 4;
    if (name == "R-" + std::string(depth) + "-1x64d") {
      return ResNetImageNet(3, d2, d3, 3, /*resnext=*/false);
    }
    if (name == "X-" + std::string(depth) + "-32x4d") {
      return ResNetImageNet(3, d2, d3, 3, /*resnext=*/true);
    }
  }
  for (const NamedRegNet& regnet : kRegNets) {
    if (regnet.name == name) return RegNet(regnet.params);
  }
  return std::nullopt;
}

NetworkSpec DefaultFashionMnistBase() {
  NetworkSpec net = MakeNet(1, 28, StemKind::kResCifar, 16, BlockKind::kResBottleneck, 10);
  const int depths[] = {1, 1, 2};
  for (int i = 0; i < 3; ++i) {
    net.stages.push_back(StageSpec{depths[i], 24 << i, i == 0 ? 1 : 2, 1.0, 8});
  }
  return net;
}

}  // namespace evolv
