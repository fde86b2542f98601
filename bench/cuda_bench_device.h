// What the CUDA benchmarks (numerics_cuda_bench, diffusion_cuda_bench) share: the device they
// run on (--device K, default 0) and its fp32 peak, against which both report their arithmetic
// rate. Header-only; built by nvcc in each domain's standalone CUDA project.
#pragma once

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace evolv::bench {

// K of "--device K" in argv, or 0.
inline int DeviceArgument(int argc, char** argv) {
  int device = 0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--device") == 0) device = std::atoi(argv[i + 1]);
  }
  return device;
}

// The fp32 peak of `device` in operations per second: SMs x 128 lanes x clock, one operation per
// lane per cycle (no fma: the kernels are built with --fmad=false). Prints it with `name`.
inline double Fp32Peak(int device, const char* name) {
  int sms = 0, clock_khz = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device);
  const double peak = static_cast<double>(sms) * 128 * clock_khz * 1e3;
  std::printf("device %d: %s, %d SMs at %.2f GHz: fp32 peak %.1f Tops/s (no fma)\n", device, name,
              sms, clock_khz / 1e6, peak / 1e12);
  return peak;
}

}  // namespace evolv::bench
