// Sample points on an interval with reference values, and the error measures of a program on
// them: max relative error (REAL mode, in long double) and max error in ULPs (FLOAT32 mode).
//
// All functions are pure and thread-safe. Point sets are deterministic: the same arguments give
// the same points on every machine.
#pragma once

#include <cstdint>
#include <vector>

#include "evaluators/numerics/program.h"
#include "evaluators/numerics/targets.h"

namespace evolv::numerics {

struct Samples {
  std::vector<long double> x;
  std::vector<long double> y;  // target.reference(x)
};

// Points for fitting constants: both endpoints, n/2 Chebyshev nodes (first kind) and uniform
// random points from a fixed stream; sorted. n >= 4. With `float_inputs`, each x is rounded to
// a float first (FLOAT32 jobs see only float inputs).
Samples MakeFitPoints(const Target& target, double lower, double upper, int n, bool float_inputs);
// Points for validating: both endpoints, an even grid of n/2 points, the rest uniform random
// from Rng(seed); sorted. n >= 4.
Samples MakeValidationPoints(const Target& target, double lower, double upper, int n, uint64_t seed,
                             bool float_inputs);
// At most `max_points` of `s`, evenly spread over its order (the first and the last included);
// `s` itself when it has no more. max_points >= 2.
Samples EvenSubsample(const Samples& s, int max_points);

// max_i |f(x_i) - y_i| / |y_i| (|f(x_i)| where y_i == 0), with f evaluated in long double;
// +inf when any output is not finite.
long double MaxRelativeError(const Program& p, const Samples& s);
// Relative error of given outputs against the samples (same rules).
long double MaxRelativeError(const std::vector<long double>& f, const Samples& s);

// Number of representable floats between a and b (0 when equal; +0 and -0 are equal).
uint64_t UlpDistance(float a, float b);

struct UlpError {
  double max_ulp = 0;  // +inf when an output is not finite but its reference is
  float worst_x = 0;
};
// Max ULP distance between the program run in float (constants rounded to float) and the
// correctly rounded float of the reference, over the samples' x (rounded to float).
UlpError MaxUlpError(const Program& p, const Samples& s);
// Same, for outputs already computed in float at the samples.
UlpError MaxUlpError(const std::vector<float>& f, const Samples& s);

}  // namespace evolv::numerics
