#include "evaluators/numerics/error_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "evaluators/numerics/cuda/exhaustive.h"
#include "evaluators/numerics/interpreter.h"
#include "search/rng.h"

namespace evolv::numerics {
namespace {

constexpr long double kPi = 3.141592653589793238462643383279502884L;
constexpr uint64_t kFitSeed = 0x6669742d706f696eULL;

Samples Finish(const Target& target, std::vector<long double> x, bool float_inputs) {
  if (float_inputs) {
    for (long double& v : x) v = static_cast<float>(v);
  }
  std::sort(x.begin(), x.end());
  Samples s;
  s.x = std::move(x);
  s.y.reserve(s.x.size());
  for (long double v : s.x) s.y.push_back(target.reference(v));
  return s;
}

}  // namespace

Samples MakeFitPoints(const Target& target, double lower, double upper, int n, bool float_inputs) {
  n = std::max(n, 4);
  const long double mid = 0.5L * (static_cast<long double>(lower) + upper);
  const long double half = 0.5L * (static_cast<long double>(upper) - lower);
  std::vector<long double> x = {lower, upper};
  const int cheb = n / 2;
  for (int k = 0; k < cheb; ++k) x.push_back(mid - half * cosl(kPi * (k + 0.5L) / cheb));
  Rng rng(kFitSeed);
  while (static_cast<int>(x.size()) < n) x.push_back(lower + (upper - lower) * rng.Uniform());
  return Finish(target, std::move(x), float_inputs);
}

Samples MakeValidationPoints(const Target& target, double lower, double upper, int n, uint64_t seed,
                             bool float_inputs) {
  n = std::max(n, 4);
  std::vector<long double> x;
  const int grid = n / 2;
  for (int k = 0; k < grid; ++k) {
    x.push_back(lower + (static_cast<long double>(upper) - lower) * k / (grid - 1));
  }
  x.back() = upper;
  Rng rng(seed);
  while (static_cast<int>(x.size()) < n) x.push_back(lower + (upper - lower) * rng.Uniform());
  return Finish(target, std::move(x), float_inputs);
}

Samples EvenSubsample(const Samples& s, int max_points) {
  const size_t n = s.x.size();
  const size_t m = static_cast<size_t>(std::max(max_points, 2));
  if (n <= m) return s;
  Samples out;
  out.x.reserve(m);
  out.y.reserve(m);
  for (size_t i = 0; i < m; ++i) {
    const size_t k = i * (n - 1) / (m - 1);
    out.x.push_back(s.x[k]);
    out.y.push_back(s.y[k]);
  }
  return out;
}

long double MaxRelativeError(const std::vector<long double>& f, const Samples& s) {
  long double worst = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (!std::isfinite(f[i])) return std::numeric_limits<long double>::infinity();
    const long double e = s.y[i] != 0 ? fabsl(f[i] - s.y[i]) / fabsl(s.y[i]) : fabsl(f[i]);
    worst = std::max(worst, e);
  }
  return worst;
}

long double MaxRelativeError(const Program& p, const Samples& s) {
  std::vector<long double> f(s.x.size());
  CompiledProgram<long double>(p).Run(s.x.data(), f.data(), f.size());
  return MaxRelativeError(f, s);
}

uint64_t UlpDistance(float a, float b) { return cuda::UlpDistance(a, b); }

UlpError MaxUlpError(const std::vector<float>& f, const Samples& s) {
  UlpError out;
  for (size_t i = 0; i < f.size(); ++i) {
    const double e = cuda::UlpError(f[i], static_cast<float>(s.y[i]));
    if (e > out.max_ulp) {
      out.max_ulp = e;
      out.worst_x = static_cast<float>(s.x[i]);
    }
  }
  return out;
}

UlpError MaxUlpError(const Program& p, const Samples& s) {
  std::vector<float> x(s.x.begin(), s.x.end()), f(s.x.size());
  CompiledProgram<float>(p).Run(x.data(), f.data(), f.size());
  return MaxUlpError(f, s);
}

}  // namespace evolv::numerics
