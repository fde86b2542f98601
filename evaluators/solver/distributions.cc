#include "evaluators/solver/distributions.h"

#include <cmath>

namespace evolv {

double SampleGamma(Rng& rng, double shape) {
  if (shape < 1.0) {
    const double u = 1.0 - rng.Uniform();  // (0, 1]
    return SampleGamma(rng, shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    const double x = rng.Normal();
    double v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    const double u = 1.0 - rng.Uniform();  // (0, 1]: log(u) finite
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
    if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double SampleBeta(Rng& rng, double a, double b) {
  const double x = SampleGamma(rng, a);
  const double y = SampleGamma(rng, b);
  const double sum = x + y;
  // Both tiny (possible for very small shapes): fall back to the mean's side by a coin flip.
  if (!(sum > 0.0)) return rng.Bernoulli(a / (a + b)) ? 1.0 : 0.0;
  return x / sum;
}

}  // namespace evolv
