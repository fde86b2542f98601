// The complexity of an AnyNet (network.h) counted as pycls counts it (pycls/models/blocks.py,
// anynet.py): flops (multiply-adds), parameters and activations (the elements of every conv and
// linear output, plus the stem's max-pool output), and the checks that bound every size of a
// NetworkSpec before anything is built from it.
//
// Counting rules (exact, integer):
//   conv k x k, c_in -> c_out, stride s, groups g, padding (k-1)/2: the output side is
//     (h - 1) / s + 1 (floor); flops += k^2 c_in c_out h' w' / g, params += k^2 c_in c_out / g,
//     acts += c_out h' w'; a bias adds c_out h' w' flops and c_out params.
//   batch norm: params += 2 c; no flops, no acts.
//   max pool 3x3 stride 2 (ImageNet stem): acts += c h' w'.
//   global average pool: nothing; the head's linear layer: flops and params c_in n + n, acts n.
//   residual blocks: a projection (1x1 conv with the block's stride + BN) when the block's input
//     width differs from its output width or its stride is not 1; ReLUs and additions are free.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "evaluators/scaling/network.h"

namespace evolv {

// Bounds on every size of a NetworkSpec (ValidateNetwork enforces them). With all of them at
// their maximum the counts stay far below 2^63 (about 1e17 flops), so Complexity never overflows.
inline constexpr int kMaxNetworkStages = 8;
inline constexpr int kMaxStageDepth = 64;      // blocks per stage
inline constexpr int kMaxNetworkWidth = 4096;  // channels: stem, stage, inner (bottleneck) width
inline constexpr int kMaxNetworkResolution = 512;
inline constexpr int kMaxInChannels = 16;
inline constexpr int kMaxNumClasses = 10000;
inline constexpr double kMaxBottleneckRatio = 8.0;
inline constexpr double kMaxSeRatio = 1.0;

struct Complexity {
  int64_t flops = 0;  // multiply-adds
  int64_t params = 0;
  int64_t acts = 0;  // activations: output elements of convs, linears and the stem's pool
  // Not pycls's: the largest k^2 c_in h' w' of any conv, the elements of its input unfolded
  // (im2col), a convolution's working buffer per image on the CPU.
  int64_t max_columns = 0;
};

// Returns OK, or INVALID_ARGUMENT whose message starts with `field` and the path of the offending
// member, e.g. "scaling.base.stages[1].group_width: 24 does not divide the inner width 36".
// Checks: 1..kMaxNetworkStages stages; depth 1..kMaxStageDepth; widths (stem, stage, inner)
// 1..kMaxNetworkWidth; stride 1 or 2; for bottleneck blocks a bottleneck ratio in
// (0, kMaxBottleneckRatio] that is below 1 or a whole number (what pycls's scaler can keep),
// a group width >= 1 that divides the inner width round(width * ratio), and an SE ratio in
// [0, kMaxSeRatio]; in_channels 1..kMaxInChannels; num_classes 1..kMaxNumClasses; resolution
// 1..kMaxNetworkResolution and at least the product of all strides (stem included), so that
// no stride-2 layer sees a 1-pixel map.
absl::Status ValidateNetwork(const NetworkSpec& net, std::string_view field);

// pycls's complexity of `net` at input resolution net.resolution. Precondition:
// ValidateNetwork(net) is OK (otherwise the counts are meaningless, though never UB from
// division by zero: a group count below 1 counts as 1).
Complexity CountComplexity(const NetworkSpec& net);

// An estimate, meant as an upper bound, of the memory one evaluation of `net` (trainer.h: a
// training run, a test pass, a timing) takes beyond the process and the data it holds already:
//   kEvaluationFixedBytes                      libtorch's working memory on its first runs in a
//                                              process (about 300-400 MiB measured, whatever the
//                                              network)
//   + 4 (train_images + test_images) c r^2     the images resized to net.resolution (floats)
//   + 12 params                                weights, gradients and SGD momentum
//   + 4 batch (3 acts + max_columns)           a training step at the larger of the training and
//                                              timing batch: each conv's output kept with its
//                                              batch norm's and ReLU's for the backward pass,
//                                              and the unfolded input of the largest conv
//   + 4 test_batch max_columns                 the test pass (no gradients), test_batch at once
// bench/scaling_memory compares it with measured peaks (1.3-2.1 times them; docs/limits.md).
// Every term stays below 2^62 within ValidateNetwork's bounds, batches and image counts up to
// 2^20. Precondition: ValidateNetwork(net) is OK.
inline constexpr int64_t kEvaluationFixedBytes = int64_t{384} << 20;
int64_t EstimateEvaluationBytes(const NetworkSpec& net, int train_batch, int timing_batch,
                                int test_batch, int64_t train_images, int64_t test_images);

}  // namespace evolv
