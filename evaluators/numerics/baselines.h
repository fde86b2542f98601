// Classical baselines for a target on an interval, reported beside the search's programs
// (report.h). Each baseline is a Program, so its op count is the search's own cost rule
// (Cost(): live instructions that depend on x).
//
// The target's shape on the interval decides the forms (AnalyzeTarget):
//   - zeros: where f vanishes on [lower, upper] (found by sign changes and exact zeros of the long
//     double reference, refined by bisection and snapped to an exact double where f is exactly
//     0 there, as log2 at 1 or erf at 0). Relative error is undefined at a zero unless the
//     approximation vanishes there too, so each zero is factored out: f(x) = (x - z1)...(x - zk)
//     h(x) and h is approximated in relative error (2 ops per zero, 1 for z = 0). With more than
//     kMaxFactoredZeros zeros, h = f is fitted in absolute error instead (a note says so).
//   - symmetry: f(c + t) = f(c - t) (even) or -f(c - t) (odd) to 1e-13 on 64 points t whose
//     mirror pair has a point in the interval, for c = 0 and for each zero. Then the forms in
//     s = (x - c)^2 apply: t * h(s) (odd) or h(s) (even), with h's own zeros in s factored out.
// Families, each for every degree whose program fits max_ops (op counts for add/mul/div; with
// fma in `ops`, Horner steps are fma and cost 1):
//   "minimax":  relative-error minimax (remez.h) of h by P_m (polynomial) and P_m / Q_n (rational,
//               n >= 1, Q monic in the program, m + n <= kMaxRationalDegree), in x and, where f is
//               symmetric, in s. The polynomials in x also two degrees past the budget.
//               Each rational with m >= n also "nested": the same P_m / Q_n in w = u - lower(u)
//               as c_0 + w (c_1 + ... + w (c_{m-n} + r(w) / Q_n(w))), deg r < n. It costs one
//               op fewer than P / Q (as many when w = u - lower costs one that no zero factor
//               shares), and the rational part's rounding is scaled by w^(m-n) below the
//               Horner steps', which is what float32 needs: exp2 on [0, 1] is within 1 ULP on
//               every float with the nested P4/Q1 (9 ops) where the P/Q forms of 10 ops give 2.
//   "taylor":   Taylor polynomial of h at the interval's lower end (so exp2 on [0, 1] is Taylor at
//               0), in x, the same degrees as the minimax polynomials in x.
//   "pade":     Padé approximants [m/n] of h, for the rational minimax (m, n): in s at the
//               symmetry centre when it lies in the interval, else (f without symmetry) in x at the
//               interval's midpoint; a cross-check of the rational minimax.
// Skipped without a failure: fits past the total degree m + n whose minimax error is already below
// 1e-17 (long double resolution), rationals whose denominator degenerates to degree n - 1 (the
// [m/n-1] entry covers them), singular blocks of the Padé table. With more zeros than
// kMaxFactoredZeros only the polynomials in x are computed.
// Programs are built in Horner form: P_m in u costs 2m ops, monic Q_n 2n - 1, then 1 division, 1
// op for s = t * t, 1 for t = x - c (c != 0), 1 for the product with t, 2 per zero factor (1 for a
// zero at 0); nested: 2m + 2n - 1 ops, plus 1 for w when lower(u) != 0, plus the same factors.
// Coefficients are rounded to double; FLOAT32 callers refine them over floats.
//
// A baseline that cannot be computed (the target is not finite on the interval, a Remez that
// does not converge, a minimax or Padé rational with a pole on the interval) becomes a
// BaselineFailure with the reason; nothing here fails the job. Cost: about 10-50 ms for max_ops 10
// on one core, under a second for most targets at max_ops 64. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/program.h"
#include "evaluators/numerics/remez.h"
#include "evaluators/numerics/targets.h"

namespace evolv::numerics {

inline constexpr int kMaxFactoredZeros = 4;
inline constexpr int kMaxRationalDegree = 12;  // m + n of rational baselines
inline constexpr int kMaxPolynomialDegree = 24;

struct Symmetry {
  long double center = 0;
  bool odd = false;
};

struct TargetShape {
  std::vector<long double> zeros;  // ascending, on [lower, upper]
  std::vector<Symmetry> symmetries;
  // Empty when f is finite on the interval, else why no baseline can be computed.
  std::string unusable;
};

TargetShape AnalyzeTarget(const Target& target, double lower, double upper);

struct Baseline {
  std::string family;  // "minimax", "taylor" or "pade"
  std::string form;    // e.g. "x*P2(x^2)/Q2(x^2)", "(x-1)*P4(x)"
  std::string kind;    // family and form without degrees, e.g. "minimax x*P(x^2)/Q(x^2)"
  Program program;
  int ops = 0;                   // Cost(program)
  bool uses_allowed_ops = true;  // every op of the program is in the job's ops
  bool relative = true;          // fitted in relative error (false: absolute)
};

struct BaselineFailure {
  std::string form;    // family and form, e.g. "minimax P3(x)/Q2(x)"
  std::string reason;  // e.g. "Remez did not converge: ..."
};

struct BaselineSet {
  TargetShape shape;
  std::vector<std::string> notes;  // how the forms follow from the shape; limits applied
  std::vector<Baseline> baselines;
  std::vector<BaselineFailure> failures;
};

// Every baseline above for the job's target, interval, op budget and ops.
BaselineSet ComputeBaselineSet(const Target& target, double lower, double upper, int max_ops,
                               const std::vector<Op>& ops);

// A baseline measured on the job's points.
struct BaselineRow {
  const Baseline* baseline = nullptr;
  long double rel_error = 0;  // max relative error in long double on the real samples
  double max_ulp = 0;         // max ULP error in float on the float samples
};
// Points a baseline's float32 constants are refined on, at most: the default (and smallest)
// numerics.validation_points. A job with more points refines on an even subsample of them, so
// that its report costs about as much as the default's, and measures the result on all of them.
inline constexpr int kMaxBaselineRefinePoints = 10000;

// Measures every baseline; with `refine_float`, first refines its constants over neighbouring
// floats (RefineFloatConstants), as FLOAT32 evaluations do, on `float_samples` or an even
// subsample of kMaxBaselineRefinePoints of them; max_ulp is then measured on all of them.
std::vector<BaselineRow> MeasureBaselines(const BaselineSet& set, const Samples& real_samples,
                                          const Samples& float_samples, bool refine_float);

// Taylor polynomial of degree d at x = lower, expanded to monomials in x.
Polynomial TaylorPolynomial(const Target& target, double lower, int degree);
// Polynomial of degree d minimizing max |p(x) - f(x)| / |f(x)| on [lower, upper], in monomials of
// x. With zeros of f on the interval (at most kMaxFactoredZeros) it is (x - z1)...(x - zk) q(x)
// expanded, q of degree d - k the relative minimax of f / ((x - z1)...(x - zk)); exact at a zero
// only when z = 0 (use the "minimax" baselines, which keep the factors, otherwise). Falls back to
// absolute error with more zeros; empty when the fit fails.
Polynomial MinimaxPolynomial(const Target& target, double lower, double upper, int degree);

// ((c_d x + c_{d-1}) x + ...) x + c_0 as a program: constants c_d..c_0, 2d instructions.
// degree >= 1.
Program HornerProgram(const Polynomial& p);

// Smallest degree whose float minimax polynomial (in x, zeros factored out, constants rounded to
// float) is within 1 ULP on `float_samples`, or -1 when none up to max_degree is; `ops`, when
// given, receives that program's cost.
int SmallestFloatMinimaxDegree(const Target& target, double lower, double upper,
                               const Samples& float_samples, int max_degree = 16,
                               int* ops = nullptr);

}  // namespace evolv::numerics
