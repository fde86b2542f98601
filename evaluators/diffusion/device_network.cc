#include "evaluators/diffusion/device_network.h"

#include "evaluators/diffusion/cuda/mlp_math.h"

#if EVOLV_HAVE_CUDA
#include "evaluators/diffusion/cuda/mlp_cuda.h"
#endif

namespace evolv {
namespace {

diffusion::cuda::MlpDims DimsOf(const MlpShape& s) {
  return {s.input, s.width, s.blocks, s.output};
}

std::vector<uint8_t> SkippedBytes(const std::vector<bool>& skipped) {
  return std::vector<uint8_t>(skipped.begin(), skipped.end());
}

}  // namespace

DeviceNetworks::DeviceNetworks(const ResidualMlp<float>& mlp) : mlp_(mlp) {}

DeviceNetworks::~DeviceNetworks() = default;

bool DeviceNetworks::Forward(int device, const Eigen::MatrixXf& input,
                             const std::vector<bool>& skipped, Eigen::MatrixXf* out,
                             std::string* why_not) const {
#if EVOLV_HAVE_CUDA
  std::shared_ptr<diffusion::cuda::DeviceMlp> network;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = unusable_.find(device); it != unusable_.end()) {
      *why_not = it->second;
      return false;
    }
    std::shared_ptr<diffusion::cuda::DeviceMlp>& slot = on_device_[device];
    if (!slot) {
      const auto& p = mlp_.parameters();
      std::string error;
      slot = diffusion::cuda::DeviceMlp::Create(
          device, DimsOf(mlp_.shape()), std::vector<float>(p.data(), p.data() + p.size()), &error);
      if (!slot) {
        on_device_.erase(device);
        *why_not = unusable_[device] = "the network cannot be put on the device: " + error;
        return false;
      }
    }
    network = slot;
  }
  std::vector<float> y;
  std::string error;
  if (!network->Forward(input.data(), input.cols(), SkippedBytes(skipped), &y, &error)) {
    *why_not = "the device failed a forward pass: " + error;
    return false;
  }
  *out = Eigen::Map<const Eigen::MatrixXf>(y.data(), mlp_.shape().output, input.cols());
  return true;
#else
  (void)mlp_;
  (void)device;
  (void)input;
  (void)skipped;
  (void)out;
  *why_not = "this build has no CUDA support";
  return false;
#endif
}

Eigen::MatrixXf ForwardLikeDevice(const ResidualMlp<float>& mlp, const Eigen::MatrixXf& input,
                                  const std::vector<bool>& skipped) {
  Eigen::MatrixXf out(mlp.shape().output, input.cols());
  diffusion::cuda::ForwardOnHost(DimsOf(mlp.shape()), mlp.parameters().data(), input.data(),
                                 input.cols(), SkippedBytes(skipped), out.data());
  return out;
}

}  // namespace evolv
