// Exhaustive float32 verification's result and its per-float rule, shared by the CPU
// (verify_float.h), the device (numerics_cuda.h) and the device's host twin below, so that all
// three measure the same thing the same way. Plain C++ and CUDA alike.
#pragma once

#include <cmath>
#include <cstdint>

#include "evaluators/numerics/cuda/flat_program.h"
#include "evaluators/numerics/cuda/portable.h"
#include "evaluators/numerics/cuda/reference_dd.h"

namespace evolv::numerics {

struct ExhaustiveResult {
  double max_ulp = 0;      // +inf when some output is not finite (and its reference is)
  float worst_x = 0;       // smallest x with the max error (lower when the max is 0)
  uint64_t checked = 0;    // floats verified
  uint64_t slow_path = 0;  // floats whose reference needed the slower, more precise path
  double seconds = 0;
};

namespace cuda {

// The error of output y against the correctly rounded reference ref, in ULPs: +inf for a
// non-finite y that is not ref itself.
EVOLV_HD inline double UlpError(float y, float ref) {
  if (!IsFinite(y)) return y == ref ? 0.0 : INFINITY;
  return static_cast<double>(UlpDistance(y, ref));
}

// The device's verification as one host thread runs it, over the floats whose ordered indices
// (OrderedOf) are first..last: the twin the device is tested against. `seconds` is left 0.
inline ExhaustiveResult VerifyOrderedRangeOnHost(const FlatProgram<float>& p, DeviceTarget target,
                                                 int64_t first, int64_t last) {
  ExhaustiveResult r;
  r.worst_x = FloatOfOrdered(first);
  for (int64_t k = first; k <= last; ++k) {
    const float x = FloatOfOrdered(k);
    const double e = UlpError(RunFlat(p, x), CorrectlyRoundedFloat(target, x, &r.slow_path));
    if (e > r.max_ulp) {
      r.max_ulp = e;
      r.worst_x = x;
    }
  }
  r.checked = static_cast<uint64_t>(last - first + 1);
  return r;
}

}  // namespace cuda
}  // namespace evolv::numerics
