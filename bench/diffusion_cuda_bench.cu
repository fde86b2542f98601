// diffusion_cuda_bench: the learned denoiser's network on a CUDA device
// (evaluators/diffusion/cuda). Built by evaluators/diffusion/cuda/CMakeLists.txt, so it builds
// with nvcc and CMake alone on a GPU machine.
//
//   diffusion_cuda_bench [--runs N] [--device K]
//
// Figures, each the median and worst of N runs (bench_target.h), for the default denoiser
// (2-d data, 8 time frequencies: input 18, width 128, 8 blocks, output 2) and the widest one the
// limits allow (width 512, 8 blocks):
// - one forward pass over a sampler step's columns (n = 4096 and 65536): the kernels' time, and
//   the arithmetic rate as a fraction of the device's fp32 peak (SMs x 128 lanes x clock, one
//   op per lane per cycle: the kernels add and multiply separately, as the host twin does);
// - the same pass on the host twin (one host thread, n = 4096), for scale.
// Exit 0 unless a call fails; 77 without a device.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_target.h"
#include "bench/cuda_bench_device.h"
#include "evaluators/diffusion/cuda/mlp_cuda.h"

namespace {

using namespace evolv::diffusion::cuda;

// Multiplies and adds of one forward pass over n columns, with no block skipped.
double Operations(const MlpDims& d, int64_t n) {
  const double per_column =
      2.0 * (double{1} * d.width * d.input + 2.0 * d.blocks * d.width * d.width +
             double{1} * d.output * d.width);
  return per_column * n;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = evolv::bench::TakeRuns(argc, argv);
  const int device = evolv::bench::DeviceArgument(argc, argv);
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || device < 0 || device >= count) {
    std::printf("SKIPPED: no CUDA device %d\n", device);
    return 77;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, device);
  const double peak = evolv::bench::Fp32Peak(device, prop.name);

  evolv::bench::TargetReport report;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (const MlpDims dims : {MlpDims{18, 128, 8, 2}, MlpDims{18, 512, 8, 2}}) {
    std::vector<float> parameters(MlpLayout(dims).total);
    for (float& p : parameters) p = normal(rng) * 0.05f;
    std::string error;
    auto net = DeviceMlp::Create(device, dims, parameters, &error);
    if (!net) {
      std::printf("create: %s\n", error.c_str());
      return 1;
    }
    const std::string name = "width " + std::to_string(dims.width) + ", 8 blocks";
    for (const int64_t n : {int64_t{4096}, int64_t{65536}}) {
      std::vector<float> x(static_cast<size_t>(dims.input) * n), y;
      for (float& v : x) v = normal(rng);
      std::vector<double> ms, fraction;
      for (int run = 0; run < runs + 1; ++run) {  // the first run (module load) is dropped
        double seconds = 0;
        if (!net->Forward(x.data(), n, {}, &y, &error, &seconds)) {
          std::printf("forward: %s\n", error.c_str());
          return 1;
        }
        if (run == 0) continue;
        ms.push_back(seconds * 1e3);
        fraction.push_back(Operations(dims, n) / seconds / peak);
      }
      const std::string what = name + ", n " + std::to_string(n);
      report.Report(what + ": kernels", ms, " ms", false);
      report.Report(what + ": fraction of fp32 peak", fraction, "", true);
    }
    const int64_t n = 4096;
    std::vector<float> x(static_cast<size_t>(dims.input) * n), y(dims.output * n);
    for (float& v : x) v = normal(rng);
    std::vector<double> host_ms;
    for (int run = 0; run < std::min(runs, 3); ++run) {
      const auto start = std::chrono::steady_clock::now();
      ForwardOnHost(dims, parameters.data(), x.data(), n, {}, y.data());
      host_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    report.Report(name + ", n 4096: host twin, one thread", host_ms, " ms", false);
  }
  return report.ExitStatus();
}
