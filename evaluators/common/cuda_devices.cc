#include "evaluators/common/cuda_devices.h"

#include <charconv>
#include <mutex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

#if EVOLV_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace evolv {

bool BuildHasCuda() { return EVOLV_HAVE_CUDA != 0; }

absl::StatusOr<int> ParseDevice(std::string_view text) {
  if (text == "cpu") return -1;
  constexpr std::string_view kPrefix = "cuda:";
  int index = -1;
  if (text.substr(0, kPrefix.size()) == kPrefix) {
    const char* first = text.data() + kPrefix.size();
    const char* last = text.data() + text.size();
    const auto [end, ec] = std::from_chars(first, last, index);
    if (ec != std::errc() || end != last || first == last || index < 0 ||
        index > kMaxCudaDeviceIndex) {
      index = -1;
    }
  }
  if (index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device: expected cpu or cuda:K with 0 <= K <= ", kMaxCudaDeviceIndex,
                     ", got '", std::string(text), "'"));
  }
  return index;
}

absl::StatusOr<CudaDevice> ProbeCudaDevice(int index) {
#if EVOLV_HAVE_CUDA
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaErrorNoDevice) count = 0;
  if (status != cudaSuccess && status != cudaErrorNoDevice) {
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);  // 0 when no driver library loads
    cudaRuntimeGetVersion(&runtime);
    if (driver == 0) {
      return absl::FailedPreconditionError(
          "no usable CUDA driver on this machine: no NVIDIA driver library (libcuda.so.1) loads");
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "no usable CUDA driver on this machine: the driver supports CUDA ", driver / 1000, ".",
        driver % 1000 / 10, ", this build's runtime is CUDA ", runtime / 1000, ".",
        runtime % 1000 / 10, " (", cudaGetErrorString(status), ")"));
  }
  if (index < 0 || index >= count) {
    return absl::FailedPreconditionError(
        absl::StrCat("no CUDA device ", index, " on this machine (", count, " present)"));
  }
  cudaDeviceProp prop{};
  const cudaError_t read = cudaGetDeviceProperties(&prop, index);
  if (read != cudaSuccess) {
    return absl::FailedPreconditionError(
        absl::StrCat("CUDA device ", index, ": ", cudaGetErrorString(read)));
  }
  CudaDevice device;
  device.index = index;
  device.name = prop.name;
  device.memory_bytes = prop.totalGlobalMem;
  device.major = prop.major;
  device.minor = prop.minor;
  return device;
#else
  (void)index;
  return absl::FailedPreconditionError(
      "this build has no CUDA support: no CUDA compiler was found when it was configured "
      "(docs/adr/0025-cuda-evaluation.md)");
#endif
}

void SayNotOnDevice(std::string_view domain, std::string_view what, int cuda_device,
                    const std::string& why) {
  constexpr size_t kMaxReasons = 16;
  static std::mutex mutex;
  static std::set<std::string> said;
  std::lock_guard<std::mutex> lock(mutex);
  if (said.size() >= kMaxReasons || !said.insert(std::string(domain) + ": " + why).second) return;
  spdlog::warn("{}: {} on cuda:{} ran on the CPU: {}", domain, what, cuda_device, why);
}

}  // namespace evolv
