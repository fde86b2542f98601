// The learned denoiser's network on a worker's CUDA device (evaluators/diffusion/cuda), and what
// the device computes reproduced on the CPU (its host twin), behind the Denoiser interface.
//
// A worker started with --device cuda:K evaluates a learned-denoiser job with every denoiser call
// of the sampler on that device: all the samples of a step in one pass, one dense-layer kernel
// per layer. The device adds in another order and uses another exp than Eigen, so its samples
// differ from the CPU's in the last bits; DiffusionProblem::CompareHit allows that difference
// (docs/adr/0025-cuda-evaluation.md). Where the build has no CUDA or the device cannot take the
// network, the worker runs it on the CPU and says why in its log, once per reason.
//
// Thread-safety: DeviceNetworks is safe to share (one network per device, made on first use
// under a lock; DeviceMlp serializes its calls). A NetworkDenoiser serves one evaluation at a
// time.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "evaluators/diffusion/denoiser.h"
#include "evaluators/diffusion/learned_denoiser.h"

namespace evolv {

namespace diffusion::cuda {
class DeviceMlp;
}

// The columns a device pass takes per call of the network (the samples of a step, up to this).
inline constexpr Eigen::Index kDeviceDenoiseChunk = 16384;

class DeviceNetworks {
 public:
  explicit DeviceNetworks(const ResidualMlp<float>& mlp);
  ~DeviceNetworks();
  DeviceNetworks(const DeviceNetworks&) = delete;
  DeviceNetworks& operator=(const DeviceNetworks&) = delete;

  // The network's output for `input` computed on CUDA device `device`. False with *why_not when
  // this build has no CUDA, the device cannot hold the network (the reason is kept: later calls
  // for that device fail at once), or a CUDA call failed; the caller then runs it on the CPU.
  bool Forward(int device, const Eigen::MatrixXf& input, const std::vector<bool>& skipped,
               Eigen::MatrixXf* out, std::string* why_not) const;

 private:
  const ResidualMlp<float>& mlp_;
  mutable std::mutex mutex_;
  mutable std::map<int, std::shared_ptr<diffusion::cuda::DeviceMlp>> on_device_;
  mutable std::map<int, std::string> unusable_;  // device -> why it cannot be used
};

// What a CUDA device computes for the network, bit for bit, computed on this CPU
// (cuda/mlp_math.h's ForwardOnHost).
Eigen::MatrixXf ForwardLikeDevice(const ResidualMlp<float>& mlp, const Eigen::MatrixXf& input,
                                  const std::vector<bool>& skipped);

// A learned denoiser whose network runs through `network` (LearnedDenoiser::DenoiseWith) over
// chunks of kDeviceDenoiseChunk columns.
class NetworkDenoiser : public Denoiser {
 public:
  NetworkDenoiser(const LearnedDenoiser& learned, LearnedDenoiser::Network network)
      : learned_(learned), network_(std::move(network)) {}

  int dimension() const override { return learned_.dimension(); }
  int NumBlocks() const override { return learned_.NumBlocks(); }
  Eigen::MatrixXd Denoise(const Eigen::MatrixXd& x_t, int step, double alpha_bar,
                          const std::vector<int>& skipped_blocks) const override {
    return learned_.DenoiseWith(network_, kDeviceDenoiseChunk, x_t, step, alpha_bar,
                                skipped_blocks);
  }

 private:
  const LearnedDenoiser& learned_;
  LearnedDenoiser::Network network_;
};

}  // namespace evolv
