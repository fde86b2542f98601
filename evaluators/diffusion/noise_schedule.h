// Noise schedules over T = 1000 discrete time steps, and the standard K-step subsets that
// samplers are compared with.
//
// Step t (0 <= t < T) has noise level alpha_bar[t] = prod_{i <= t} (1 - beta_i): x_t =
// sqrt(alpha_bar[t]) x_0 + sqrt(1 - alpha_bar[t]) eps. Step 0 is the least noisy; a sampler
// starts at the largest step of its subset from N(0, I) and ends at the data.
#pragma once

#include <vector>

namespace evolv {

// T, the number of training time steps.
inline constexpr int kDiffusionTimeSteps = 1000;

enum class NoiseScheduleKind {
  kCosine,  // Nichol & Dhariwal: alpha_bar(s) = cos((s/T + 0.008) / 1.008 * pi/2)^2, beta <= 0.999
  kLinear,  // beta linear from 1e-4 to 0.02 (Ho et al.)
};

// alpha_bar[t] for t = 0..T-1; strictly decreasing, in (0, 1).
std::vector<double> AlphaBars(NoiseScheduleKind kind);

// Baseline subsets of k distinct steps (1 <= k <= T), ascending.
// "ddimK" of the ADM code: range(0, T, stride) with the smallest stride giving k steps
// (k = 4: {0, 250, 500, 750}); where no stride gives exactly k, floor(i * T / k), i < k.
std::vector<int> UniformSteps(int k);
// round(linspace(0, T - 1, k)) (k = 4: {0, 333, 666, 999}); k = 1: {T - 1}.
std::vector<int> TrailingSteps(int k);
// The DDIM paper's quadratic subset: floor(linspace(0, sqrt(0.8 T), k)^2); a step equal to the
// one below it moves up to the next free step.
std::vector<int> QuadraticSteps(int k);

}  // namespace evolv
