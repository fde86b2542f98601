// What every domain's CUDA path shares with its host twin: the qualifier of code that compiles
// for the device and the host (EVOLV_HD), and float bit casts that give the same bits on both.
// Plain C++ with no library, so each evaluators/<domain>/cuda/ project builds with nvcc and CMake
// alone (on a GPU machine without the project's other libraries) and the main build's tests run
// the same code on the CPU.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define EVOLV_HD __host__ __device__
#else
#define EVOLV_HD
#endif

namespace evolv::portable {

EVOLV_HD inline uint32_t BitsOf(float v) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(v);
#else
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
#endif
}

EVOLV_HD inline float FloatOfBits(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
#endif
}

}  // namespace evolv::portable
