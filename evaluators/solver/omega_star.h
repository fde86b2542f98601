// The optimal SOR relaxation parameter: Young's closed form where the Jacobi spectral radius is
// known, and a golden-section search over omega for one instance where it is not.
#pragma once

#include <vector>

#include <functional>

#include "absl/status/statusor.h"
#include "evaluators/solver/sor.h"

namespace evolv {

// Young's asymptotically optimal omega* = 1 + (beta / (1 + sqrt(1 - beta^2)))^2 for a
// consistently ordered matrix with Jacobi spectral radius beta in [0, 1).
double OmegaStar(double jacobi_spectral_radius);

// Jacobi spectral radius of the shifted 5-point Laplacian A + c I on an m x m interior grid
// (diagonal 4 + c, off-diagonals -1): beta = 4 cos(pi / (m + 1)) / (4 + c).
double ShiftedLaplacianJacobiRadius(int m, double c);

struct OmegaSearchResult {
  double omega = 1.0;
  int iterations = 0;   // cost at `omega`
  int evaluations = 0;  // solves spent by the search
};

// Golden-section search for the omega in [lo, hi] minimizing cost(omega) (an iteration count),
// with `evaluations` cost calls in all (>= 2). Returns the best point evaluated, so a
// non-unimodal cost still gives a true, if local, minimum.
OmegaSearchResult GoldenSectionOmega(const std::function<int(double)>& cost, double lo = 1.0,
                                     double hi = 1.99, int evaluations = 24);

enum class RelaxationMethod { kSor, kSsorCg };

// Instance-optimal omega for solving solver.matrix() x = b from warm start `x0` (empty: zero)
// with `method`: the best of a 20-point grid over [lo, hi], refined by GoldenSectionOmega within
// one grid step of it (iteration counts are not unimodal in omega). Errors as
// RelaxationSolver::SolveSor.
absl::StatusOr<OmegaSearchResult> InstanceOptimalOmega(
    const RelaxationSolver& solver, const Eigen::VectorXd& b, const Eigen::VectorXd& x0,
    RelaxationMethod method, const SolveOptions& options = {}, double lo = 1.0, double hi = 1.99,
    int evaluations = 24);

// One solve with `method` (a thin dispatch used by the search and the experiment driver).
absl::StatusOr<SolveResult> Solve(const RelaxationSolver& solver, RelaxationMethod method,
                                  const Eigen::VectorXd& b, double omega, Eigen::VectorXd& x,
                                  const SolveOptions& options = {});

// linspace(lo, hi, count): the arms of Learning to Relax (defaults: 20 omegas from 1 to 1.95).
std::vector<double> OmegaGrid(double lo = 1.0, double hi = 1.95, int count = 20);

}  // namespace evolv
