#include "evaluators/solver/omega_star.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace evolv {

double OmegaStar(double jacobi_spectral_radius) {
  const double beta = std::clamp(jacobi_spectral_radius, 0.0, 1.0);
  const double ratio = beta / (1.0 + std::sqrt(1.0 - beta * beta));
  return 1.0 + ratio * ratio;
}

double ShiftedLaplacianJacobiRadius(int m, double c) {
  return 4.0 * std::cos(M_PI / (m + 1)) / (4.0 + c);
}

OmegaSearchResult GoldenSectionOmega(const std::function<int(double)>& cost, double lo, double hi,
                                     int evaluations) {
  const double inv_phi = (std::sqrt(5.0) - 1.0) / 2.0;
  OmegaSearchResult best;
  best.iterations = -1;
  auto eval = [&](double omega) {
    const int value = cost(omega);
    ++best.evaluations;
    if (best.iterations < 0 || value < best.iterations) {
      best.iterations = value;
      best.omega = omega;
    }
    return value;
  };
  double a = lo, b = hi;
  double c = b - inv_phi * (b - a), d = a + inv_phi * (b - a);
  int fc = eval(c), fd = eval(d);
  while (best.evaluations < std::max(evaluations, 2)) {
    // Ties (integer costs are flat in places) move towards larger omega, where SOR's cost curve
    // is linear and the minimum of a V-shaped curve sits at its left edge.
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - inv_phi * (b - a);
      fc = eval(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + inv_phi * (b - a);
      fd = eval(d);
    }
  }
  return best;
}

absl::StatusOr<SolveResult> Solve(const RelaxationSolver& solver, RelaxationMethod method,
                                  const Eigen::VectorXd& b, double omega, Eigen::VectorXd& x,
                                  const SolveOptions& options) {
  return method == RelaxationMethod::kSor ? solver.SolveSor(b, omega, x, options)
                                          : solver.SolveSsorCg(b, omega, x, options);
}

absl::StatusOr<OmegaSearchResult> InstanceOptimalOmega(
    const RelaxationSolver& solver, const Eigen::VectorXd& b, const Eigen::VectorXd& x0,
    RelaxationMethod method, const SolveOptions& options, double lo, double hi, int evaluations) {
  // Validate once up front so the cost function cannot fail.
  Eigen::VectorXd x = x0;
  SolveOptions probe = options;
  probe.max_iterations = 1;
  absl::StatusOr<SolveResult> first = Solve(solver, method, b, 0.5 * (lo + hi), x, probe);
  if (!first.ok()) return first.status();
  Eigen::VectorXd work(solver.size());
  auto cost = [&](double omega) {
    work = x0.size() == 0 ? Eigen::VectorXd::Zero(solver.size()) : x0;
    return Solve(solver, method, b, omega, work, options)->iterations;
  };
  // Iteration counts are integers with plateaus and are not unimodal in omega, so a
  // golden-section search over the whole range can settle on a worse omega than some point of a
  // coarse grid. Scan the grid first, then refine around its best point.
  constexpr int kGrid = 20;
  const double step = (hi - lo) / (kGrid - 1);
  OmegaSearchResult best;
  best.iterations = std::numeric_limits<int>::max();
  for (int k = 0; k < kGrid; ++k) {
    const double omega = lo + step * k;
    const int iterations = cost(omega);
    if (iterations < best.iterations) best = {omega, iterations, 0};
  }
  OmegaSearchResult refined = GoldenSectionOmega(cost, std::max(lo, best.omega - step),
                                                 std::min(hi, best.omega + step), evaluations);
  if (refined.iterations > best.iterations) refined = {best.omega, best.iterations, 0};
  refined.evaluations = kGrid + evaluations;
  return refined;
}

std::vector<double> OmegaGrid(double lo, double hi, int count) {
  std::vector<double> grid(count);
  for (int i = 0; i < count; ++i) {
    grid[i] = count == 1 ? lo : lo + (hi - lo) * i / (count - 1);
  }
  return grid;
}

}  // namespace evolv
