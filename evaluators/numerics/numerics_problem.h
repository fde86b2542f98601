// The numerics domain (AutoNumerics-Zero) as a search Problem: straight-line programs that
// approximate a target function on an interval, scored by (log10 of the max error, cost).
//
// Objectives, both minimized, in ObjectiveNames() order:
//   "log10_error": REAL mode: log10(max(max relative error, 1e-300)) on the validation points,
//                  in long double. FLOAT32 mode: log10(max_ulp + 0.001), where max_ulp is the
//                  largest distance in floats from the correctly rounded result (so a correctly
//                  rounded program scores -3 and a 1-ULP program about 0).
//   "cost":        live instructions that depend on x (constant-only subexpressions are free).
// Shown (ObjectiveDisplays) as "max rel. error 6.2e-08" (REAL) or "max error 166 ULP" (FLOAT32),
// 10^log10_error, and "cost 9 ops".
// Report: the Pareto front, the baselines and the best program (report.h). Charts: "error-curve",
// the best program's error at 401 evenly spaced points of [lower, upper] (relative error, log
// y; ULPs in FLOAT32 mode, linear y).
// Metrics: "cost", "instructions" (live instructions), "max_rel_error", "fit_seconds"; FLOAT32
// also "max_ulp" and "refined_constants".
//
// Feasibility: CheckFeasible returns INFEASIBLE (objectives +inf) for a candidate whose cost
// exceeds numerics.max_ops or that uses an op outside numerics.ops; Evaluate repeats the check
// for direct callers. An unreadable candidate is FAILED (from Evaluate). max_ops and ops are not
// part of CanonicalSpec: they never change an evaluation, so jobs differing only in them share
// cache rows.
//
// Evaluation: constants are put in the probe's canonical order (probe.h) and, in FLOAT32 mode,
// rounded to float; they are then fitted (fitting.h; restarts seeded by context.seed, which the
// engine derives from the key) and, in FLOAT32 mode, refined over neighbouring floats. The fitted
// program is Evaluation.refined. Evaluate is a pure function of (candidate, context.seed).
//
// Cache contract (CompareHit, CompareNumericsHit below): a hit serves the evaluation of another
// candidate with the same key (probe.h: cost, instruction count, free constants and how each
// enters the function, outputs on the probe inputs). Compared with evaluating this candidate:
//   - status, "cost" (objective 1) and "instructions" are equal;
//   - "log10_error" differs by at most kHitLog10ErrorTolerance = 1e-3, i.e. the max error (REAL)
//     or max_ulp + 0.001 (FLOAT32) within a factor of 1.0023.
// The tolerance is the fit's own precision: Lawson rounds stop once 8 in a row fail to improve
// the max error by 0.1%, so fits of one family from starts that differ only by rounding
// (reassociated sums, constants equal to the probe's 24 bits) end up to a few 0.01% apart.
// Measured on counterfactual replays of NSGA-II searches (tests/evaluators/numerics/
// cache_replay.h), largest gap: 4.8e-4 (exp2 on [0, 1] REAL, 20,000 candidates), 3.1e-4 (log2
// on [1, 2] REAL), 4.7e-7 (sin REAL), 5.0e-4 (log2 FLOAT32); exp2 FLOAT32 hits were bit-for-bit
// equal. Every status, cost and instruction count matched.
//
// Thread-safety: all methods are const and safe to call concurrently.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "evolv/v1/numerics.pb.h"
#include "search/problem.h"

namespace evolv {

// Validates the spec and builds the problem. Errors are InvalidArgument whose message starts
// with the field path, e.g. "numerics.target: unknown target 'foo' (one of exp, ...)".
absl::StatusOr<std::unique_ptr<Problem>> CreateNumericsProblem(const v1::NumericsSpec& spec);

// The largest |difference| of log10_error a cache hit may have (see the cache contract above).
inline constexpr double kHitLog10ErrorTolerance = 1e-3;

// The numerics cache contract, as NumericsProblem::CompareHit. `difference` is +inf when the
// status, the metrics "cost" or "instructions" (a missing metric counts as a value), the number
// of objectives or the cost objective differ, else |log10_error(cached) - log10_error(fresh)|
// (0 when both are +inf, +inf when one is); `within` is difference <= kHitLog10ErrorTolerance.
Problem::HitDifference CompareNumericsHit(const v1::Evaluation& cached,
                                          const v1::Evaluation& fresh);

// A small valid spec (exp2 on [0, 1]), which the registry builds to check the domain.
v1::NumericsSpec NumericsExampleSpec();

}  // namespace evolv
