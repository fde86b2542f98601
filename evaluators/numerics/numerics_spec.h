// Validation of a job's NumericsSpec: checks every field and resolves the defaults, so the
// problem is built from values that are known to be usable.
//
// Pure; thread-safe.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/numerics/program.h"
#include "evaluators/numerics/targets.h"
#include "evolv/v1/numerics.pb.h"

namespace evolv::numerics {

// The largest numerics.max_ops a job may ask for.
inline constexpr int kMaxOpsLimit = 64;
// The largest |numerics.lower| and |numerics.upper|.
inline constexpr double kMaxIntervalMagnitude = 1e6;

// A NumericsSpec with its defaults applied, every field checked.
struct ResolvedSpec {
  const Target* target = nullptr;  // a registered target (a singleton, never null)
  double lower = 0, upper = 1;     // finite, |x| <= kMaxIntervalMagnitude, lower < upper, lower
                                   // inside the target's domain, the target representable on it
  bool float32 = false;            // mode FLOAT32 (else REAL; UNSPECIFIED means REAL)
  std::vector<Op> ops;             // distinct, sorted, non-empty (default add, sub, mul, div)
  int max_ops = 10;                // 1..kMaxOpsLimit (0 in the spec means 10)
  int fit_points = 1024;           // 16..65536 (0 means 1024)
  int validation_points = 10000;   // 10000..1000000 (0 means 10000)
  bool from_scratch = false;       // no baseline seeds
  bool verify_every_float = false;  // FLOAT32 only: the error over every float of the interval
};

// The resolved spec, or InvalidArgument whose message starts with the field path, e.g.
// "numerics.target: unknown target 'foo' (one of exp, ...)". Fields are checked in the order
// target, lower/upper, mode, the target over [lower, upper], ops, max_ops, fit_points,
// validation_points, verify_every_float (which needs mode FLOAT32); the first error wins. The
// target must be representable in the mode's arithmetic (float for FLOAT32, long double for REAL)
// at 1025 evenly spaced points of the interval: finite, not above the largest value, not lost to
// underflow ("numerics.upper: exp2(1e+06) overflows in long double; ..."); the message names the
// nearer end.
absl::StatusOr<ResolvedSpec> ResolveSpec(const v1::NumericsSpec& spec);

}  // namespace evolv::numerics
