// Training, testing and timing of an AnyNet (network.h) with libtorch: the one part of the scaling
// domain that runs networks. trainer.cc is the only file that includes a torch header; this one
// holds plain structs, so nothing else is compiled against torch (docs/adr/0015).
//
// The network is built as pycls builds AnyNet (pycls/models/anynet.py, blocks.py): the stem of
// net.stem, stages of res_basic or res_bottleneck blocks (grouped 3x3, optional SE), a projection
// (1x1 conv with the block's stride + BN) when the width or the resolution changes, BN (eps 1e-5,
// momentum 0.1) and ReLU, global average pool and a linear head; convs without bias, weights
// initialized as pycls does (conv N(0, sqrt(2 / fan_out)), BN weight 1 and bias 0, linear
// N(0, 0.01) and bias 0).
//
// Determinism: every random draw (initial weights, the shuffle) comes from `seed` through
// generators of the call's own, never torch's global one, so the same seed gives a bit-identical
// result on the CPU at the same thread count. The first call of TrainAndTest or TimeNetwork sets
// torch's intra-op threads to 1 (at::set_num_threads, which is process-global): training and
// timing run on the calling thread, and a timing is of one core. On CUDA, results are not
// bit-identical (cuDNN picks algorithms at run time).
//
// Errors: INVALID_ARGUMENT naming the field for bad input; FAILED_PRECONDITION when CUDA is asked
// of a libtorch without it; a torch exception is never thrown out: it comes back as INTERNAL
// ("torch: ...") or RESOURCE_EXHAUSTED (out of memory).
// Thread-safety: every function may be called concurrently from several threads (each call builds
// its own network); concurrent calls share the cores, so callers time alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/scaling/network.h"

namespace evolv {

// Image classification data: square gray images, standardized with the training images' mean and
// standard deviation, and their labels.
struct ImageClassData {
  int side = 0;                     // images are side x side, one channel
  int num_classes = 0;              // 1 + the largest label
  std::vector<float> train_pixels;  // train_labels.size() * side * side, image after image
  std::vector<uint8_t> train_labels;
  std::vector<float> test_pixels;  // test_labels.size() * side * side
  std::vector<uint8_t> test_labels;
  float mean = 0;    // of the training pixels in [0, 1], subtracted
  float stddev = 1;  // of the training pixels in [0, 1], divided by

  int train_count() const { return static_cast<int>(train_labels.size()); }
  int test_count() const { return static_cast<int>(test_labels.size()); }
};

// Reads the first `train_count` training and `test_count` test images of an idx dataset in
// `directory` (Fashion-MNIST's layout, evaluators/common/idx_images.h; files of at most
// kMaxImageClassFileImages images). INVALID_ARGUMENT "scaling.data.directory: ..." for a missing,
// unreadable or malformed file or images that are not square, "scaling.data.train_images: ..."
// ("scaling.data.test_images: ...") for a count below 1 or above what the file holds.
inline constexpr int kMaxImageClassFileImages = 100000;
absl::StatusOr<ImageClassData> LoadImageClassData(const std::string& directory, int train_count,
                                                  int test_count);

// SGD with momentum (not Nesterov) and weight decay on every parameter; the learning rate follows
// a cosine over the steps, lr_t = learning_rate * (1 + cos(pi * t / steps)) / 2 for t = 0 ..
// steps - 1. An epoch is a fresh shuffle of the training images cut into floor(n / batch_size)
// batches (the last partial batch dropped, as pycls's loader does; one batch of all n when n <
// batch_size).
struct TrainSchedule {
  int epochs = 1;
  int batch_size = 128;
  double learning_rate = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
};

// Limits TrainAndTest enforces ("scaling.training.<field>: ..." otherwise).
inline constexpr int kMaxTrainEpochs = 1000;
inline constexpr int kMaxTrainBatch = 4096;
// The images resized to the network's resolution, train and test together, at most this many
// floats (1 GiB); "scaling.network.resolution: ..." otherwise.
inline constexpr int64_t kMaxResizedFloats = int64_t{1} << 28;

// TrainAndTest runs the test images through the trained network this many at a time.
inline constexpr int kTestBatch = 256;

struct TrainResult {
  double test_error = 0;    // share of the test images misclassified, in [0, 1]
  double initial_loss = 0;  // cross-entropy of the first batch, before any update
  double final_loss = 0;    // mean cross-entropy of the last min(10, steps) batches
  int64_t steps = 0;        // SGD steps taken
};

// Trains `net` (net.in_channels must be 1 and net.num_classes at least data.num_classes) on the
// training images resized to net.resolution (bilinear, align_corners false, once per call) and
// returns its error on the test images (eval mode: BN's running statistics), on the CPU (the
// calling thread; a GPU is used only by TimeNetwork for now). The network's bounds
// are ValidateNetwork's (complexity.h), errors starting "scaling.network".
absl::StatusOr<TrainResult> TrainAndTest(const NetworkSpec& net, const ImageClassData& data,
                                         const TrainSchedule& schedule, uint64_t seed);

// Where TimeNetwork runs: the CPU (one thread) or a GPU of a CUDA build of libtorch.
enum class TimingDevice { kCpu, kCuda };

// The device's model: "cpu: <model name of /proc/cpuinfo>, 1 thread" for kCpu (the thread count
// torch uses); for kCuda the name of CUDA device `cuda_index` as the CUDA runtime gives it
// ("NVIDIA H200"), or "" when this libtorch has no CUDA or sees no such GPU.
std::string TimingDeviceName(TimingDevice device, int cuda_index = 0);

struct Timing {
  // Milliseconds of one forward pass of a batch (eval mode, no gradients).
  double inference_ms = 0;        // median of the timed runs
  double inference_ms_worst = 0;  // slowest of them
  // Milliseconds of one training step on a batch (forward, cross-entropy, backward, SGD step).
  double train_step_ms = 0;
  double train_step_ms_worst = 0;
};

// Times `net` on random inputs of `batch_size` images at net.resolution: `warmup` untimed runs,
// then `runs` timed ones, inference and training step each, on the CPU or on CUDA device
// `cuda_index`. On kCuda the timings wait for the GPU (synchronize) before the clock is read.
// FAILED_PRECONDITION for kCuda when this libtorch has no CUDA or sees no GPU `cuda_index`;
// INVALID_ARGUMENT for batch_size outside 1..kMaxTrainBatch, warmup outside 0..1000 or runs
// outside 1..1000.
absl::StatusOr<Timing> TimeNetwork(const NetworkSpec& net, int batch_size, int warmup, int runs,
                                   TimingDevice device = TimingDevice::kCpu, int cuda_index = 0);

}  // namespace evolv
