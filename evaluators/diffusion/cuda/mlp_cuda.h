// The learned denoiser's network on a CUDA device: the parameters copied there once, then a
// forward pass per call for a batch of columns (every sample of a sampler step at once), one
// tiled dense-layer kernel per layer. The device computes ForwardOnHost's bits (mlp_math.h).
// Host-callable, no CUDA types; built only when CMake finds a CUDA compiler, and buildable on
// its own with nvcc and CMake (evaluators/diffusion/cuda/CMakeLists.txt).
//
// Thread-safety: a DeviceMlp serializes its calls (one stream, one set of buffers); distinct
// DeviceMlps run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "evaluators/diffusion/cuda/mlp_math.h"

namespace evolv::diffusion::cuda {

// The most columns one kernel sequence takes; Forward runs larger batches in pieces of this
// size, so device memory stays at (input + 2 width + output) * kMaxColumnsPerPass floats.
inline constexpr int64_t kMaxColumnsPerPass = 16384;

class DeviceMlp {
 public:
  // Copies `parameters` (MlpLayout(dims).total floats) to CUDA device `device`. nullptr with
  // *error saying why when there is no driver, no such device, or the copy fails.
  static std::unique_ptr<DeviceMlp> Create(int device, const MlpDims& dims,
                                           const std::vector<float>& parameters,
                                           std::string* error);
  ~DeviceMlp();
  DeviceMlp(const DeviceMlp&) = delete;
  DeviceMlp& operator=(const DeviceMlp&) = delete;

  const MlpDims& dims() const { return dims_; }
  int device() const { return device_; }

  // y (dims.output x n, column-major, resized) for x (dims.input x n), skipping block b where
  // skipped[b] != 0. False with *error on a CUDA error (y is then unspecified). With
  // kernel_seconds, adds the kernels' time (CUDA events), without the copies.
  bool Forward(const float* x, int64_t n, const std::vector<uint8_t>& skipped,
               std::vector<float>* y, std::string* error, double* kernel_seconds = nullptr);

 private:
  struct State;
  DeviceMlp(int device, const MlpDims& dims, std::unique_ptr<State> state);

  int device_;
  MlpDims dims_;
  std::mutex mutex_;
  std::unique_ptr<State> state_;
};

}  // namespace evolv::diffusion::cuda
