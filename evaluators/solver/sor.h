// Relaxation solvers for sparse A x = b: SOR (successive over-relaxation) and CG preconditioned
// by SSOR with the same relaxation parameter omega.
//
// Both stop at the first iteration k with ||b - A x_k|| / ||b - A x_0|| < tolerance (2-norms) or
// at max_iterations, whichever comes first; x_0 = 0 or a caller's warm start. A zero initial
// residual converges at iteration 0.
//
// A RelaxationSolver owns a compressed copy of A plus its inverse diagonal, and is immutable
// after Create: safe to share across threads for concurrent solves (each solve allocates its
// work vectors once, never per iteration).
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace evolv {

using SparseMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor>;

struct SolveOptions {
  double tolerance = 1e-8;     // on ||r|| / ||r0||; must be > 0
  int max_iterations = 10000;  // the cap; must be >= 1
};

struct SolveResult {
  int iterations = 0;              // sweeps (SOR) or CG steps
  bool converged = false;          // relative residual < tolerance within the cap
  double relative_residual = 1.0;  // ||b - A x|| / ||r0|| of the returned x (true residual)
};

class RelaxationSolver {
 public:
  // InvalidArgument naming "a" when A is empty, not square, or has a zero (or missing) diagonal
  // entry, which leaves SOR undefined; the message names the first such row.
  static absl::StatusOr<RelaxationSolver> Create(const SparseMatrix& a);

  // SOR with relaxation `omega` in (0, 2). `x` is the warm start on entry (empty or all zeros
  // for x0 = 0; otherwise its size must match) and the last iterate on return. InvalidArgument
  // naming "b", "x", "omega", "tolerance" or "max_iterations" for a bad argument.
  absl::StatusOr<SolveResult> SolveSor(const Eigen::VectorXd& b, double omega, Eigen::VectorXd& x,
                                       const SolveOptions& options = {}) const;

  // CG preconditioned by SSOR(omega), M = (D/omega + L) (D/omega)^-1 (D/omega + U) up to a
  // constant. Requires A symmetric positive definite (not checked: CG then simply fails to
  // converge within the cap). Same arguments and errors as SolveSor.
  absl::StatusOr<SolveResult> SolveSsorCg(const Eigen::VectorXd& b, double omega,
                                          Eigen::VectorXd& x,
                                          const SolveOptions& options = {}) const;

  // One forward SOR sweep in place, without validation (sizes must match, omega in (0, 2)).
  void Sweep(const Eigen::VectorXd& b, double omega, Eigen::VectorXd& x) const;
  // ||b - A x||, without validation.
  double ResidualNorm(const Eigen::VectorXd& b, const Eigen::VectorXd& x) const;

  const SparseMatrix& matrix() const { return a_; }
  int size() const { return static_cast<int>(a_.rows()); }

 private:
  RelaxationSolver() = default;
  absl::Status Validate(const Eigen::VectorXd& b, double omega, const Eigen::VectorXd& x,
                        const SolveOptions& options) const;
  // z = M^-1 r for the SSOR preconditioner.
  void ApplySsor(const Eigen::VectorXd& r, double omega, Eigen::VectorXd& z) const;

  SparseMatrix a_;                // compressed
  std::vector<double> inv_diag_;  // 1 / a_ii
  std::vector<int> diag_pos_;     // index of a_ii in the row's value array
};

// Convenience wrappers: validate A, build a RelaxationSolver and solve once.
absl::StatusOr<SolveResult> SolveSor(const SparseMatrix& a, const Eigen::VectorXd& b, double omega,
                                     Eigen::VectorXd& x, const SolveOptions& options = {});
absl::StatusOr<SolveResult> SolveSsorCg(const SparseMatrix& a, const Eigen::VectorXd& b,
                                        double omega, Eigen::VectorXd& x,
                                        const SolveOptions& options = {});

}  // namespace evolv
