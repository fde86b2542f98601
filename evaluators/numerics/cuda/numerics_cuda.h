// The numerics domain on a CUDA device: batch evaluation of programs over points (one kernel
// launch per batch, float or double) and exhaustive float32 verification against the correctly
// rounded reference computed on the device (reference_dd.h). Host-callable, no CUDA types; built
// only when CMake finds a CUDA compiler (evaluators/numerics/cuda/CMakeLists.txt), and buildable
// on its own with nvcc and CMake.
//
// Every function returns false with *error saying why (no driver, no such device, a CUDA error)
// and does nothing else then. Thread-safe: each call selects its device on the calling thread
// and synchronizes before it returns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluators/numerics/cuda/exhaustive.h"
#include "evaluators/numerics/cuda/flat_program.h"
#include "evaluators/numerics/cuda/reference_dd.h"

namespace evolv::numerics::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  uint64_t memory_bytes = 0;
  int major = 0, minor = 0;  // compute capability
};

// The devices the CUDA runtime sees; false when there is no usable driver.
bool ListDevices(std::vector<DeviceInfo>* out, std::string* error);

// out[j * x.size() + i] = programs[j](x[i]). Each program has at most kMaxFlatSteps steps. With
// kernel_seconds, also the time of the kernels alone (CUDA events), without the copies.
bool EvaluateBatch(int device, const std::vector<FlatProgram<float>>& programs,
                   const std::vector<float>& x, std::vector<float>* out, std::string* error,
                   double* kernel_seconds = nullptr);
bool EvaluateBatch(int device, const std::vector<FlatProgram<double>>& programs,
                   const std::vector<double>& x, std::vector<double>* out, std::string* error,
                   double* kernel_seconds = nullptr);

// out[i] = the target's correctly rounded float at x[i] (CorrectlyRoundedFloat); *slow counts the
// points whose reference needed double-double.
bool ReferenceFloats(int device, DeviceTarget target, const std::vector<float>& x,
                     std::vector<float>* out, uint64_t* slow, std::string* error);

// Runs `p` on every float in [lower, upper] (finite, lower <= upper; |x| <= 2^20 for sin and
// cos) and measures its ULP error against the target's correctly rounded float, as
// VerifyOrderedRangeOnHost (exhaustive.h) does: slow_path counts the floats whose reference
// needed double-double; seconds is the wall time, copies included.
bool VerifyAllFloats(int device, const FlatProgram<float>& p, DeviceTarget target, float lower,
                     float upper, ExhaustiveResult* out, std::string* error);

// The most programs one VerifyAllFloats launch takes (evolv-worker's --max-batch bound).
inline constexpr int kMaxVerifyBatch = 1024;

// VerifyAllFloats for several programs in one launch: (*out)[j] is what programs[j] alone gives,
// except `seconds`, the launch's wall time shared evenly among them. The programs share each
// float's reference, so a batch costs far less than its programs one by one.
bool VerifyAllFloats(int device, const std::vector<FlatProgram<float>>& programs,
                     DeviceTarget target, float lower, float upper,
                     std::vector<ExhaustiveResult>* out, std::string* error);

}  // namespace evolv::numerics::cuda
