// A ConvNet of pycls's AnyNet family (Radosavovic et al. 2020; Dollar et al. 2021): a stem, stages
// of residual blocks, a head (global average pool and a linear classifier). The one description
// of a network that the complexity counter (complexity.h), the scaler (scaler.h) and the trainer
// (trainer.h) share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace evolv {

// pycls's stems: "res_stem_cifar" (3x3 conv, stride 1, BN, ReLU), "res_stem_in" (7x7 conv,
// stride 2, BN, ReLU, 3x3 max pool stride 2) and "simple_stem_in" (3x3 conv, stride 2, BN, ReLU).
enum class StemKind { kResCifar, kResImageNet, kSimple };
// pycls's blocks: "res_basic_block" (two 3x3 convs) and "res_bottleneck_block" (1x1, grouped
// 3x3, 1x1 with an inner width of width * bottleneck_ratio), both with a projection (1x1 conv +
// BN) when the width or the resolution changes.
enum class BlockKind { kResBasic, kResBottleneck };

struct StageSpec {
  int depth = 1;                  // blocks in the stage, >= 1
  int width = 8;                  // output channels of every block
  int stride = 1;                 // of the stage's first block
  double bottleneck_ratio = 1.0;  // bottleneck blocks: inner width = round(width * ratio)
  int group_width = 8;            // bottleneck blocks: channels per group of the 3x3 conv
};

struct NetworkSpec {
  int in_channels = 1;   // 1 for Fashion-MNIST, 3 for CIFAR/ImageNet
  int resolution = 28;   // input height = width
  StemKind stem = StemKind::kResCifar;
  int stem_width = 16;
  BlockKind block = BlockKind::kResBottleneck;
  std::vector<StageSpec> stages;
  int num_classes = 10;
  // Squeeze-and-excitation after the grouped 3x3 of bottleneck blocks (pycls's SE_ON/SE_R, as in
  // RegNetY): 0 = none; otherwise the block gets gap, 1x1 conv (with bias) to
  // round(w_in * se_ratio) channels, ReLU, 1x1 conv (with bias) back to the inner width, sigmoid,
  // where w_in is the block's input width. Basic blocks ignore it.
  double se_ratio = 0.0;
};

// "stem 16 | 1x32 2x64/2 ... | 28px": one line for reports and logs.
std::string DescribeNetwork(const NetworkSpec& net);

}  // namespace evolv
