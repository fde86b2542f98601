// The CUDA devices of this machine, as the CUDA runtime reports them: what `evolv-worker --device
// cuda:K` checks before it joins and then offers the dispatcher (WorkerInfo's device fields, the
// page's worker table). No domain: each domain's device code lives in evaluators/<domain>/cuda.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace evolv {

// Largest K `cuda:K` names (a bound on input; no machine has this many devices).
inline constexpr int kMaxCudaDeviceIndex = 1023;

struct CudaDevice {
  int index = 0;
  std::string name;           // e.g. "NVIDIA H200"
  uint64_t memory_bytes = 0;  // global memory
  int major = 0, minor = 0;   // compute capability
};

// Whether this build has the CUDA evaluators: a CUDA compiler was found when it was configured.
bool BuildHasCuda();

// "cpu" gives -1, "cuda:K" gives K (0 <= K <= kMaxCudaDeviceIndex); anything else is
// InvalidArgument naming --device.
absl::StatusOr<int> ParseDevice(std::string_view text);

// Device `index`. FailedPrecondition saying why not: this build has no CUDA support, there is no
// usable CUDA driver (with the runtime's reason), or there is no such device (with how many there
// are). Thread-safe.
absl::StatusOr<CudaDevice> ProbeCudaDevice(int index);

// Logs (spdlog, the worker's log) that work a domain was asked to run on cuda:`cuda_device` ran
// on the CPU, and `why`: "<domain>: <what> on cuda:K ran on the CPU: <why>", once per distinct
// (domain, reason), at most 16 reasons per process. Thread-safe.
void SayNotOnDevice(std::string_view domain, std::string_view what, int cuda_device,
                    const std::string& why);

}  // namespace evolv
