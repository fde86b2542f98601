// The numerics domain (AutoNumerics-Zero) as a search Problem: straight-line programs that
// approximate a target function on an interval, scored by (log10 of the max error, cost).
//
// Objectives, both minimized, in ObjectiveNames() order:
//   "log10_error": REAL mode: log10(max(max relative error, 1e-300)) on the validation points,
//                  in long double. FLOAT32 mode: log10(max_ulp + 0.001), where max_ulp is the
//                  largest distance in floats from the correctly rounded result (so a correctly
//                  rounded program scores -3 and a 1-ULP program about 0).
//   "cost":        live instructions that depend on x (constant-only subexpressions are free).
// A candidate whose cost exceeds max_ops is INFEASIBLE (objectives +inf); an unreadable one is
// FAILED. Each evaluation fits the constants (see fitting.h) and returns the fitted program as
// Evaluation.refined. Evaluate is a pure function of (candidate, context.seed).
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

// A small valid spec (exp2 on [0, 1]), which the registry builds to check the domain.
v1::NumericsSpec NumericsExampleSpec();

}  // namespace evolv
