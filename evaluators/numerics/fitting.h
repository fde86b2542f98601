// Fitting a program's constants to a target (the inner loop of AutoNumerics-Zero's search).
//
// The fit minimizes the relative residuals r_i = (f(x_i) - y_i) / |y_i| (absolute where
// y_i == 0) on the fit samples, in long double:
//   1. Levenberg-Marquardt on sum r_i^2 from the program's own constants and from a few
//      deterministic restarts (derived from `seed`), derivatives by forward-mode
//      differentiation through the program; the best start is kept.
//   2. Lawson's iteratively reweighted least squares toward the minimax solution
//      (w_i <- w_i |r_i|, each round a few damped Gauss-Newton steps), keeping the constants with
//      the smallest max |r_i| seen.
// Only constants that reach the result are changed. The result is a pure function of
// (program, samples, seed, options). Thread-safe.
#pragma once

#include <cstdint>

#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/program.h"

namespace evolv::numerics {

struct FitOptions {
  int lm_iterations = 60;      // per start
  int restarts = 2;            // extra starting points besides the program's constants
  int lawson_iterations = 40;  // minimax refinement rounds
};

struct FitResult {
  Program program;            // the input program with fitted constants (rounded to double)
  long double max_rel_error;  // on the fit samples, with the rounded constants
};

FitResult FitConstants(const Program& p, const Samples& fit, uint64_t seed,
                       const FitOptions& options = {});

}  // namespace evolv::numerics
