// Deterministic samplers that turn starting noise into samples with K denoiser calls, one per
// chosen time step.
//
// The chosen steps t_1 < ... < t_K are visited from the largest down: sampling starts from the
// given noise N(0, I) at t_K (as the ADM code does, whatever alpha_bar[t_K] is), and the last
// call, at t_1, returns its estimate of x_0 (the step to alpha_bar = 1). Only the set of steps
// matters. Both samplers use alpha_bar at the chosen steps only, which is the ADM code's
// respacing: beta_i = 1 - alpha_bar[t_i] / alpha_bar[t_{i-1}] over the chosen steps leaves
// alpha_bar at those steps unchanged.
//
//   DDIM (eta = 0): x_{t_{i-1}} = sqrt(ab_{i-1}) x0 + sqrt(1 - ab_{i-1}) eps_hat, with
//     eps_hat = (x_{t_i} - sqrt(ab_i) x0) / sqrt(1 - ab_i) and x0 = D(x_{t_i}).
//   DPM-Solver++(2M) (Lu et al. 2022, data prediction, multistep): with lambda = log(alpha /
//     sigma) and h = lambda_{i-1} - lambda_i, x_{t_{i-1}} = (sigma_{i-1} / sigma_i) x -
//     alpha_{i-1} (e^-h - 1) D, where D = x0 at the first step and (1 + 1/(2r)) x0_i -
//     1/(2r) x0_{i+1}, r = h_prev / h, after it. The update into the smallest step is first
//     order too (lower_order_final, at every K), and the step to the data is x0 as for DDIM;
//     so K <= 3 gives DDIM's samples.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "evaluators/diffusion/denoiser.h"

namespace evolv {

enum class SamplerKind { kDdim, kDpmSolverPp2M };

// One chosen step and the denoiser blocks skipped there.
struct SamplerStep {
  int step = 0;
  std::vector<int> skipped_blocks;
};

// Samples (d x n) from `noise` (d x n). `steps` are distinct, ascending, each < the size of
// `alpha_bars`; the caller validates them. Deterministic.
Eigen::MatrixXd RunSampler(const Denoiser& denoiser, const std::vector<double>& alpha_bars,
                           const std::vector<SamplerStep>& steps, SamplerKind kind,
                           const Eigen::MatrixXd& noise);

}  // namespace evolv
