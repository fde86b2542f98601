// Exhaustive float32 verification: runs a program in float on EVERY float in [lower, upper] and
// compares with the correctly rounded float of the target.
//
// The reference is computed in double and rounded to float; only where the double value lies
// within 2^-40 (relative) of a midpoint between two floats -- where double's own error could
// flip the rounding -- is the long double reference used instead. Work is split over
// std::thread::hardware_concurrency() threads (or `threads` when > 0). Deterministic result
// (the worst x is the smallest x reaching the max). Thread-safe.
#pragma once

#include <cstdint>

#include "evaluators/numerics/program.h"
#include "evaluators/numerics/targets.h"

namespace evolv::numerics {

struct ExhaustiveResult {
  double max_ulp = 0;      // +inf when some output is not finite (and its reference is)
  float worst_x = 0;       // smallest x with the max error
  uint64_t checked = 0;    // floats verified
  uint64_t slow_path = 0;  // floats whose reference needed long double
  double seconds = 0;
};

// lower <= upper, both finite.
ExhaustiveResult VerifyAllFloats(const Program& p, const Target& target, float lower, float upper,
                                 int threads = 0);

}  // namespace evolv::numerics
