#include "evaluators/diffusion/noise_schedule.h"

#include <algorithm>
#include <cmath>

namespace evolv {

std::vector<double> AlphaBars(NoiseScheduleKind kind) {
  constexpr int T = kDiffusionTimeSteps;
  std::vector<double> alpha_bars(T);
  double product = 1.0;
  for (int t = 0; t < T; ++t) {
    double beta;
    if (kind == NoiseScheduleKind::kLinear) {
      beta = 1e-4 + (0.02 - 1e-4) * t / (T - 1);
    } else {
      auto f = [](double s) {
        const double c = std::cos((s / T + 0.008) / 1.008 * M_PI / 2);
        return c * c;
      };
      beta = std::min(1.0 - f(t + 1) / f(t), 0.999);
    }
    product *= 1.0 - beta;
    alpha_bars[t] = product;
  }
  return alpha_bars;
}

std::vector<int> UniformSteps(int k) {
  constexpr int T = kDiffusionTimeSteps;
  std::vector<int> steps;
  for (int stride = 1; stride < T; ++stride) {
    if ((T + stride - 1) / stride == k) {
      for (int t = 0; t < T; t += stride) steps.push_back(t);
      return steps;
    }
  }
  for (int i = 0; i < k; ++i) steps.push_back(static_cast<int>(static_cast<long>(i) * T / k));
  return steps;
}

std::vector<int> TrailingSteps(int k) {
  constexpr int T = kDiffusionTimeSteps;
  if (k == 1) return {T - 1};
  std::vector<int> steps;
  for (int i = 0; i < k; ++i)
    steps.push_back(static_cast<int>(std::lround(i * (T - 1.0) / (k - 1))));
  return steps;
}

std::vector<int> QuadraticSteps(int k) {
  constexpr int T = kDiffusionTimeSteps;
  const double top = std::sqrt(0.8 * T);
  std::vector<int> steps;
  for (int i = 0; i < k; ++i) {
    const double s = k == 1 ? 0.0 : top * i / (k - 1);
    int t = static_cast<int>(s * s);
    if (!steps.empty() && t <= steps.back()) t = steps.back() + 1;
    steps.push_back(t);
  }
  // Moving duplicates up can push the top past T - 1 for k close to T: shift down from the top.
  for (int i = k - 1, limit = T - 1; i >= 0 && steps[i] > limit; --i, --limit) steps[i] = limit;
  return steps;
}

}  // namespace evolv
