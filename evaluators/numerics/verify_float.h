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

#include "evaluators/numerics/cuda/exhaustive.h"
#include "evaluators/numerics/program.h"
#include "evaluators/numerics/targets.h"

namespace evolv::numerics {

// ExhaustiveResult (cuda/exhaustive.h, shared with the device path): slow_path counts the floats
// whose reference needed long double here.
// lower <= upper, both finite.
ExhaustiveResult VerifyAllFloats(const Program& p, const Target& target, float lower, float upper,
                                 int threads = 0);

}  // namespace evolv::numerics
