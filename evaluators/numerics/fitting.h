// Fitting a program's constants to a target (the inner loop of AutoNumerics-Zero's search).
//
// The fit minimizes the relative residuals r_i = (f(x_i) - y_i) / |y_i| (absolute where
// y_i == 0), or with FitOptions::float_ulps the residuals in units of y_i's float ULP. It runs in
// double on a screening subset of the fit samples (the samples nearest to `screen_points` Chebyshev
// nodes of their range, endpoints included), where a 10-op program's Jacobian costs microseconds:
//   1. Levenberg-Marquardt on sum r_i^2 from the program's own constants and, when there are at
//      least two free constants, from a few deterministic restarts (derived from `seed`), each
//      stopped once its relative improvement stalls; the best start is kept.
//   2. Lawson's iteratively reweighted least squares toward the minimax solution
//      (w_i <- w_i |r_i|, each round a few damped Gauss-Newton steps), keeping the constants
//      with the smallest max |r_i| seen, stopped after `lawson_patience` rounds without gain.
//   3. When the error on all fit samples exceeds the screening error by more than 25% (the
//      subset missed an extremum), a few Lawson rounds on all samples.
// The reported error is measured in long double on all fit samples with the constants rounded to
// double. Only constants that reach the result are changed. The result is a pure function of
// (program, samples, seed, options). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/program.h"

namespace evolv::numerics {

struct FitOptions {
  int screen_points = 160;     // Chebyshev nodes the fit runs on (all samples when fewer)
  int lm_iterations = 40;      // per start, at most
  int restarts = 2;            // extra starting points besides the program's constants
  int lawson_iterations = 40;  // minimax refinement rounds, at most
  int lawson_patience = 8;     // rounds without a better max error before Lawson stops
  int polish_iterations = 6;   // Lawson rounds on all samples when the subset missed the max
  // Minimize residuals in units of the target's float ULP, (f - y) / 2^floor(log2 |y|), instead
  // of relative ones: the two differ by up to a factor 2 within a binade (exp2 on [0, 1]: the
  // ULP is constant while |y| doubles), and FLOAT32 jobs are scored in ULPs. max_rel_error is
  // still the relative error.
  bool float_ulps = false;
};

struct FitResult {
  Program program;            // the input program with fitted constants (rounded to double)
  long double max_rel_error;  // on the fit samples, with the rounded constants
};

FitResult FitConstants(const Program& p, const Samples& fit, uint64_t seed,
                       const FitOptions& options = {});

// Float-aware refinement for FLOAT32 jobs. A fit in real arithmetic rounded to float is not the
// best float program: rounding each constant and every intermediate moves the error by ULPs.
// Starting from the constants rounded to float, coordinate descent over each live constant's
// neighbouring floats (+-1..+-radius ULPs, `passes` sweeps at most, stopping when a sweep changes
// nothing) minimizes, in order, the max ULP error on `s`, then the number of samples at that max.
// The result is never worse than the rounded start on `s`. Deterministic and thread-safe; costs
// about (live constants) x 2 radius x passes runs of the program over `s`.
//
// The 2 radius neighbours of a constant are scored together: `batch` (when set) runs them, as
// out[j * x.size() + i] = programs[j](x[i]) in float, and returns false to leave a batch to the
// CPU interpreter. A runner that computes CompiledProgram<float>'s bits (a CUDA device's batch
// kernel: device_program.h's FloatBatchOnDevice) gives the same refinement, bit for bit.
struct FloatRefineResult {
  Program program;  // constants are floats (stored as double)
  UlpError error;   // on `s`
  int changed_constants = 0;
  int batches = 0;            // neighbour batches scored
  int batches_by_runner = 0;  // of those, run by `batch`
};
inline constexpr int kRefineRadius = 4;
inline constexpr int kRefinePasses = 3;
using FloatBatchRunner = std::function<bool(const std::vector<Program>& programs,
                                            const std::vector<float>& x, std::vector<float>* out)>;
FloatRefineResult RefineFloatConstants(const Program& p, const Samples& s,
                                       int radius = kRefineRadius, int passes = kRefinePasses,
                                       const FloatBatchRunner& batch = nullptr);

}  // namespace evolv::numerics
