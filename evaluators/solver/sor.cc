#include "evaluators/solver/sor.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace evolv {

absl::StatusOr<RelaxationSolver> RelaxationSolver::Create(const SparseMatrix& a) {
  if (a.rows() == 0 || a.cols() == 0) {
    return absl::InvalidArgumentError("a: matrix is empty");
  }
  if (a.rows() != a.cols()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a: matrix is ", a.rows(), "x", a.cols(), ", not square"));
  }
  RelaxationSolver solver;
  solver.a_ = a;
  solver.a_.makeCompressed();
  const int n = static_cast<int>(a.rows());
  solver.inv_diag_.assign(n, 0.0);
  solver.diag_pos_.assign(n, -1);
  const int* outer = solver.a_.outerIndexPtr();
  const int* inner = solver.a_.innerIndexPtr();
  const double* values = solver.a_.valuePtr();
  for (int i = 0; i < n; ++i) {
    double diagonal = 0.0;
    for (int k = outer[i]; k < outer[i + 1]; ++k) {
      if (inner[k] == i) {
        diagonal = values[k];
        solver.diag_pos_[i] = k;
      }
    }
    if (diagonal == 0.0 || !std::isfinite(diagonal)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a: zero diagonal entry at row ", i, " (SOR is undefined without a nonzero diagonal)"));
    }
    solver.inv_diag_[i] = 1.0 / diagonal;
  }
  return solver;
}

absl::Status RelaxationSolver::Validate(const Eigen::VectorXd& b, double omega,
                                        const Eigen::VectorXd& x,
                                        const SolveOptions& options) const {
  if (b.size() != a_.rows()) {
    return absl::InvalidArgumentError(
        absl::StrCat("b: size ", b.size(), " does not match the matrix size ", a_.rows()));
  }
  if (x.size() != 0 && x.size() != a_.rows()) {
    return absl::InvalidArgumentError(absl::StrCat("x: warm start size ", x.size(),
                                                   " does not match the matrix size ", a_.rows()));
  }
  if (!(omega > 0.0 && omega < 2.0)) {
    return absl::InvalidArgumentError(absl::StrCat("omega: ", omega, " is outside (0, 2)"));
  }
  if (!(options.tolerance > 0.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tolerance: ", options.tolerance, " must be positive"));
  }
  if (options.max_iterations < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_iterations: ", options.max_iterations, " must be >= 1"));
  }
  return absl::OkStatus();
}

void RelaxationSolver::Sweep(const Eigen::VectorXd& b, double omega, Eigen::VectorXd& x) const {
  const int n = static_cast<int>(a_.rows());
  const int* __restrict outer = a_.outerIndexPtr();
  const int* __restrict inner = a_.innerIndexPtr();
  const double* __restrict values = a_.valuePtr();
  const double* __restrict inv_diag = inv_diag_.data();
  const double* __restrict rhs = b.data();
  double* xs = x.data();
  // x_i += omega (b_i - sum_j a_ij x_j) / a_ii with the freshest x: the sum includes a_ii x_i,
  // which folds the (1 - omega) x_i term of the textbook form into one row pass.
  for (int i = 0; i < n; ++i) {
    double sum = 0.0;
    for (int k = outer[i]; k < outer[i + 1]; ++k) sum += values[k] * xs[inner[k]];
    xs[i] += omega * (rhs[i] - sum) * inv_diag[i];
  }
}

double RelaxationSolver::ResidualNorm(const Eigen::VectorXd& b, const Eigen::VectorXd& x) const {
  const int n = static_cast<int>(a_.rows());
  const int* outer = a_.outerIndexPtr();
  const int* inner = a_.innerIndexPtr();
  const double* values = a_.valuePtr();
  const double* xs = x.data();
  double squared = 0.0;
  for (int i = 0; i < n; ++i) {
    double r = b[i];
    for (int k = outer[i]; k < outer[i + 1]; ++k) r -= values[k] * xs[inner[k]];
    squared += r * r;
  }
  return std::sqrt(squared);
}

absl::StatusOr<SolveResult> RelaxationSolver::SolveSor(const Eigen::VectorXd& b, double omega,
                                                       Eigen::VectorXd& x,
                                                       const SolveOptions& options) const {
  if (absl::Status status = Validate(b, omega, x, options); !status.ok()) return status;
  if (x.size() == 0) x = Eigen::VectorXd::Zero(a_.rows());
  SolveResult result;
  const double r0 = ResidualNorm(b, x);
  if (r0 == 0.0) {
    result.converged = true;
    result.relative_residual = 0.0;
    return result;
  }
  while (result.iterations < options.max_iterations) {
    Sweep(b, omega, x);
    ++result.iterations;
    result.relative_residual = ResidualNorm(b, x) / r0;
    if (result.relative_residual < options.tolerance) {
      result.converged = true;
      break;
    }
    if (!std::isfinite(result.relative_residual)) break;  // diverged
  }
  return result;
}

void RelaxationSolver::ApplySsor(const Eigen::VectorXd& r, double omega, Eigen::VectorXd& z) const {
  const int n = static_cast<int>(a_.rows());
  const int* outer = a_.outerIndexPtr();
  const int* inner = a_.innerIndexPtr();
  const double* values = a_.valuePtr();
  // Forward: (D/omega + L) y = r, with y stored in z.
  for (int i = 0; i < n; ++i) {
    double sum = r[i];
    for (int k = outer[i]; k < diag_pos_[i]; ++k) sum -= values[k] * z[inner[k]];
    z[i] = omega * sum * inv_diag_[i];
  }
  // Scale by D/omega, then backward: (D/omega + U) z = (D/omega) y.
  for (int i = n - 1; i >= 0; --i) {
    double sum = z[i] / (omega * inv_diag_[i]);
    for (int k = diag_pos_[i] + 1; k < outer[i + 1]; ++k) sum -= values[k] * z[inner[k]];
    z[i] = omega * sum * inv_diag_[i];
  }
}

absl::StatusOr<SolveResult> RelaxationSolver::SolveSsorCg(const Eigen::VectorXd& b, double omega,
                                                          Eigen::VectorXd& x,
                                                          const SolveOptions& options) const {
  if (absl::Status status = Validate(b, omega, x, options); !status.ok()) return status;
  const int n = static_cast<int>(a_.rows());
  if (x.size() == 0) x = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd r = b - a_ * x;
  Eigen::VectorXd z(n), p(n), ap(n);
  SolveResult result;
  const double r0 = r.norm();
  if (r0 == 0.0) {
    result.converged = true;
    result.relative_residual = 0.0;
    return result;
  }
  ApplySsor(r, omega, z);
  p = z;
  double rz = r.dot(z);
  while (result.iterations < options.max_iterations) {
    ap.noalias() = a_ * p;
    const double pap = p.dot(ap);
    if (!(pap > 0.0) || !std::isfinite(pap)) break;  // not SPD (or breakdown)
    const double alpha = rz / pap;
    x.noalias() += alpha * p;
    r.noalias() -= alpha * ap;
    ++result.iterations;
    if (r.norm() / r0 < options.tolerance) {
      // The recursive residual can drift from the true one; only the true one counts.
      r.noalias() = b - a_ * x;
      result.relative_residual = r.norm() / r0;
      if (result.relative_residual < options.tolerance) {
        result.converged = true;
        return result;
      }
      ApplySsor(r, omega, z);  // restart from the true residual
      p = z;
      rz = r.dot(z);
      continue;
    }
    ApplySsor(r, omega, z);
    const double rz_next = r.dot(z);
    p = z + (rz_next / rz) * p;
    rz = rz_next;
  }
  result.relative_residual = ResidualNorm(b, x) / r0;
  result.converged = result.relative_residual < options.tolerance;
  return result;
}

absl::StatusOr<SolveResult> SolveSor(const SparseMatrix& a, const Eigen::VectorXd& b, double omega,
                                     Eigen::VectorXd& x, const SolveOptions& options) {
  absl::StatusOr<RelaxationSolver> solver = RelaxationSolver::Create(a);
  if (!solver.ok()) return solver.status();
  return solver->SolveSor(b, omega, x, options);
}

absl::StatusOr<SolveResult> SolveSsorCg(const SparseMatrix& a, const Eigen::VectorXd& b,
                                        double omega, Eigen::VectorXd& x,
                                        const SolveOptions& options) {
  absl::StatusOr<RelaxationSolver> solver = RelaxationSolver::Create(a);
  if (!solver.ok()) return solver.status();
  return solver->SolveSsorCg(b, omega, x, options);
}

}  // namespace evolv
