#include "evaluators/diffusion/sampler.h"

#include <cmath>

namespace evolv {

Eigen::MatrixXd RunSampler(const Denoiser& denoiser, const std::vector<double>& alpha_bars,
                           const std::vector<SamplerStep>& steps, SamplerKind kind,
                           const Eigen::MatrixXd& noise) {
  Eigen::MatrixXd x = noise;
  Eigen::MatrixXd previous_x0;  // DPM-Solver++(2M): the estimate of the step before
  double previous_h = 0;
  for (int i = static_cast<int>(steps.size()) - 1; i >= 0; --i) {
    const double ab = alpha_bars[steps[i].step];
    Eigen::MatrixXd x0 = denoiser.Denoise(x, steps[i].step, ab, steps[i].skipped_blocks);
    if (i == 0) return x0;
    const double ab_next = alpha_bars[steps[i - 1].step];
    const double alpha = std::sqrt(ab), sigma = std::sqrt(1 - ab);
    const double alpha_next = std::sqrt(ab_next), sigma_next = std::sqrt(1 - ab_next);
    if (kind == SamplerKind::kDdim) {
      // x_next = alpha_next x0 + sigma_next (x - alpha x0) / sigma
      x = (sigma_next / sigma) * x + (alpha_next - sigma_next * alpha / sigma) * x0;
      continue;
    }
    const double h = std::log(alpha_next / sigma_next) - std::log(alpha / sigma);
    const double coefficient = -alpha_next * std::expm1(-h);
    // First order at the first update (no history yet) and at the update into the smallest
    // step (DPM-Solver's lower_order_final, here at every K: the smallest step is usually t = 0,
    // whose log-SNR lies far beyond the others', so a second-order extrapolation into it
    // multiplies x0 differences by 1/(2r) >> 1).
    if (previous_x0.size() == 0 || i == 1) {
      x = (sigma_next / sigma) * x + coefficient * x0;
    } else {
      const double r = previous_h / h;
      x = (sigma_next / sigma) * x + coefficient * ((1 + 0.5 / r) * x0 - (0.5 / r) * previous_x0);
    }
    previous_x0 = std::move(x0);
    previous_h = h;
  }
  return x;  // no steps: the noise itself
}

}  // namespace evolv
