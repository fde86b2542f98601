// The functions a numerics job can approximate, with accurate references.
//
// Each Target has a long double reference (glibc's long double functions, about 64-bit
// mantissa), a faster double reference (used by exhaustive float verification away from
// rounding midpoints), its domain of definition, and Taylor coefficients at any point of the
// domain (computed by truncated power-series arithmetic, for the Taylor baseline).
//
// Targets are immutable singletons; everything here is thread-safe.
#pragma once

#include <string>
#include <vector>

namespace evolv::numerics {

struct Target {
  const char* name;
  long double (*reference)(long double x);
  double (*reference_double)(double x);
  // Open lower bound of the domain (x > domain_lower); -inf when defined everywhere.
  long double domain_lower;
  // Human form of the domain requirement, e.g. "x > 0"; empty when defined everywhere.
  const char* domain_text;
};

// The target with this name, or nullptr.
const Target* FindTarget(const std::string& name);
// "exp, exp2, log, log2, log1p, erf, sin, cos, tanh, sigmoid".
std::string TargetNames();

// Coefficients t_0..t_degree with f(a + h) = sum_k t_k h^k + O(h^(degree+1)); a in the domain.
std::vector<long double> TaylorCoefficients(const Target& target, long double a, int degree);

}  // namespace evolv::numerics
