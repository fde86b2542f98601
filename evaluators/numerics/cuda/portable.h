// Shared by host and device code of the numerics CUDA path: the function qualifier and bit casts
// (evaluators/common/cuda_portable.h) and the float ordering. Everything under
// evaluators/numerics/cuda/ builds with nvcc and CMake alone (no protobuf, no abseil), so the
// kernels and their tests build on a GPU machine that has none of the project's other libraries.
// Headers here compile as plain C++ too: the main build's tests run the same code on the CPU.
#pragma once

#include <cstdint>

#include "evaluators/common/cuda_portable.h"

namespace evolv::numerics::cuda {

using portable::BitsOf;
using portable::FloatOfBits;

// Floats in increasing order <-> signed integers (+0 and -0 both map to 0).
EVOLV_HD inline int64_t OrderedOf(float v) {
  const uint32_t u = BitsOf(v);
  return (u >> 31) ? -static_cast<int64_t>(u & 0x7fffffffu) : static_cast<int64_t>(u);
}
EVOLV_HD inline float FloatOfOrdered(int64_t k) {
  return FloatOfBits(k < 0 ? (static_cast<uint32_t>(-k) | 0x80000000u) : static_cast<uint32_t>(k));
}
// Distance in units in the last place: how many floats lie between a and b, plus one.
EVOLV_HD inline uint64_t UlpDistance(float a, float b) {
  const int64_t d = OrderedOf(a) - OrderedOf(b);
  return static_cast<uint64_t>(d < 0 ? -d : d);
}

}  // namespace evolv::numerics::cuda
