// Named networks as NetworkSpecs: pycls's CIFAR ResNets, its ImageNet ResNets, ResNeXts and
// RegNetX/Y (the models whose complexity pycls pins in dev/model_complexity.json), and the small
// AnyNet that the scaling domain scales on Fashion-MNIST. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "evaluators/scaling/network.h"

namespace evolv {

// pycls's ResNet for CIFAR-10 (32 x 32, 3 channels): res_stem_cifar of 16, three stages of
// (depth - 2) / 6 basic blocks of widths 16, 32, 64 and strides 1, 2, 2. Precondition:
// depth = 6n + 2 with n >= 1 (other depths are rounded down to that form, n at least 1).
NetworkSpec ResNetCifar(int depth);

// A RegNet (Radosavovic et al. 2020) in pycls's parametrization: per-block widths
// w0 + i * wa quantized to w0 * wm^k and to multiples of 8, grouped into stages of equal width;
// simple stem of 32, bottleneck blocks of ratio 1, stride 2 per stage, 224 px, 1000 classes,
// SE of ratio 0.25 for RegNetY, then AdjustBlockCompatibility (scaler.h).
struct RegNetParams {
  int depth = 10;
  double w0 = 32, wa = 5.0, wm = 2.5;
  int group_width = 16;
  bool squeeze_excitation = false;
};
NetworkSpec RegNet(const RegNetParams& params);

// The ImageNet models of pycls's model_complexity.json by their model-zoo names:
// "R-50-1x64d", "R-101-1x64d", "R-152-1x64d", "X-50-32x4d", "X-101-32x4d", "X-152-32x4d",
// "RegNetX-200MF" ... "RegNetX-32GF", "RegNetY-200MF" ... "RegNetY-32GF" (224 px). nullopt for
// any other name.
std::optional<NetworkSpec> PyclsImageNetModel(std::string_view name);

// The scaling domain's base network for 28 x 28 single-channel images (Fashion-MNIST):
// res_stem_cifar of 16, bottleneck stages (ratio 1, group width 8) of depths 1, 1, 2, widths
// 24, 48, 96 and strides 1, 2, 2, 10 classes: 7.94M multiply-adds, 64,890 parameters and
// 200,714 activations per image (CountComplexity); dWr at s = 8 gives 54.2M, 330,554, 622,602.
NetworkSpec DefaultFashionMnistBase();

}  // namespace evolv
