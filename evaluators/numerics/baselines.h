// Classical baselines for a target on an interval, reported beside the search's results:
// the Taylor polynomial at the interval's LOWER end (so exp2 on [0, 1] is Taylor at 0, as in
// the REFERENCE table) and the minimax polynomial for relative error (Remez exchange), both
// evaluated in Horner form: degree d costs 2d ops.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/program.h"
#include "evaluators/numerics/targets.h"

namespace evolv::numerics {

// Monomial coefficients c_0..c_d of p(x) = sum c_k x^k.
using Polynomial = std::vector<long double>;

// Taylor polynomial of degree d at x = lower, expanded to monomials in x.
Polynomial TaylorPolynomial(const Target& target, double lower, int degree);
// Polynomial of degree d minimizing max |p(x) - f(x)| / |f(x)| on [lower, upper] (Remez
// exchange on a dense grid with refined extrema; stops at equioscillation to 1e-6 relative or
// after 60 exchanges, returning the best polynomial seen).
Polynomial MinimaxPolynomial(const Target& target, double lower, double upper, int degree);

// ((c_d x + c_{d-1}) x + ...) x + c_0 as a program: constants c_d..c_0, 2d instructions.
// degree >= 1.
Program HornerProgram(const Polynomial& p);

struct BaselineRow {
  std::string method;  // "taylor" or "minimax"
  int degree = 0;
  int ops = 0;                // 2 * degree
  long double rel_error = 0;  // max relative error in long double on `real_samples`
  double max_ulp = 0;         // float Horner (coefficients rounded to float) on `float_samples`
};

// Both baselines for every degree with 2d <= max_ops, plus the next two degrees.
std::vector<BaselineRow> ComputeBaselines(const Target& target, double lower, double upper,
                                          int max_ops, const Samples& real_samples,
                                          const Samples& float_samples);

// Smallest degree whose float Horner minimax polynomial is within 1 ULP on `float_samples`,
// or -1 when none up to max_degree is.
int SmallestFloatMinimaxDegree(const Target& target, double lower, double upper,
                               const Samples& float_samples, int max_degree = 16);

}  // namespace evolv::numerics
