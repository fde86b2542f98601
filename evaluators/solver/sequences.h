// Sequences of linear systems A_t x = b_t for the relaxation-parameter bandit (Learning to
// Relax). Each is deterministic given its options (and seed).
//
// Not thread-safe: a sequence is a cursor.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/solver/matrix_market.h"
#include "evaluators/solver/sor.h"
#include "search/rng.h"

namespace evolv {

struct LinearSystem {
  SparseMatrix a;
  Eigen::VectorXd b;
  Eigen::VectorXd x0;    // warm start; empty means x0 = 0
  double context = 0.0;  // the scalar a contextual bandit sees
};

class SystemSequence {
 public:
  virtual ~SystemSequence() = default;
  // True when Next() has no more systems (infinite sequences never are).
  virtual bool Done() const = 0;
  // The next system. OutOfRange when Done(); InvalidArgument (naming the file) when a
  // file-backed instance cannot be read.
  virtual absl::StatusOr<LinearSystem> Next() = 0;
  // The range contexts fall in, for context-binned or Chebyshev-featured bandits.
  virtual std::pair<double, double> ContextRange() const = 0;
};

// Standard Gaussian b of size n, truncated to ||b|| <= sqrt(n) by resampling the whole vector
// (rejection: an exact draw from the truncated law; about half the draws are accepted).
Eigen::VectorXd TruncatedGaussianRhs(int n, Rng& rng);

// The 5-point Laplacian on an m x m interior grid (diagonal 4, neighbours -1, no 1/h^2), plus
// `shift` on the diagonal. Row-major, compressed.
SparseMatrix ShiftedLaplacian(int m, double shift);

// Test 1 of Learning to Relax: A_t = A + c_t I with A the 5-point Laplacian on an m x m grid,
// c_t = -0.15 + 0.6 Beta(0.5, 1.5) (high variance) or c_t = Beta(2, 6) (low variance),
// b_t = TruncatedGaussianRhs, context = c_t. Infinite.
class ShiftedLaplacianSequence : public SystemSequence {
 public:
  enum class Variance { kHigh, kLow };
  ShiftedLaplacianSequence(Variance variance, uint64_t seed, int m = 10);

  bool Done() const override { return false; }
  absl::StatusOr<LinearSystem> Next() override;
  std::pair<double, double> ContextRange() const override;

 private:
  Variance variance_;
  int m_;
  Rng rng_;
  SparseMatrix laplacian_;
};

// Test 2: the 2-D heat equation u_t = kappa(t) Lap u + f on the unit square, zero Dirichlet
// boundary, nx x nx interior points (h = 1 / (nx + 1)), Crank-Nicolson with step dt:
//   (I - 0.5 kappa dt L) u^{n+1} = (I + 0.5 kappa dt L) u^n + dt f(t_{n+1/2}),
// L the 5-point Laplacian / h^2, kappa = kappa(t_{n+1/2}) = max(0.1 sin 2 pi t, -10 sin 2 pi t)
// (>= 0, so A is SPD), forcing a Gaussian bump f = exp(-|p - c(t)|^2 / (2 * 0.1^2)) whose centre
// c(t) = (0.5 + 0.25 cos 2 pi t, 0.5 + 0.25 sin 2 pi t) circles the square once per unit time,
// u^0 = 0. The rhs comes from the previous solution, which the sequence computes itself to
// 1e-12 (so every policy sees the same systems), and that solution is also the warm start x0.
// Context = kappa. Yields `steps` systems.
class HeatEquationSequence : public SystemSequence {
 public:
  HeatEquationSequence(int nx, int steps, double dt = 0.001);

  bool Done() const override { return step_ >= steps_; }
  absl::StatusOr<LinearSystem> Next() override;
  std::pair<double, double> ContextRange() const override { return {0.0, 10.0}; }

  static double Kappa(double t);
  // The system of step `step` (0-based) given the solution u^step it starts from (= its x0);
  // Next() is SystemAt(step, u) followed by the direct solve for u^{step+1}.
  LinearSystem SystemAt(int step, const Eigen::VectorXd& u) const;
  // kappa of step `step`: Kappa((step + 0.5) dt), the step's context.
  double StepKappa(int step) const { return Kappa((step + 0.5) * dt_); }

 private:
  int nx_;
  int steps_;
  double dt_;
  int step_ = 0;
  SparseMatrix laplacian_;  // scaled by 1 / h^2, negative definite
  Eigen::VectorXd u_;
};

// Instances from a directory of Matrix Market files:
//   DIR/A_<id>.mtx     the matrices, taken in lexicographic order of file name (required, >= 1)
//   DIR/b_<id>.mtx     optional right-hand side for A_<id>.mtx (array format); when absent, b is
//                      TruncatedGaussianRhs from Rng(Mix64(seed + index))
//   DIR/context.txt    optional: one number per non-blank, non-'#' line, line k for the k-th A
//                      file; when absent, context = the instance index
// Other files are ignored. Create fails (InvalidArgument naming the path, and the line for
// context.txt) when the directory cannot be listed, holds no A_*.mtx, or context.txt is
// malformed or has the wrong count; Next() fails naming the file and line for a bad .mtx.
// Bounds (docs/limits.md): Create reads at most kMaxMatrixMarketDirEntries directory entries and
// accepts at most kMaxMatrixMarketFiles A_*.mtx files; every file is read as an InputFile
// (regular files only, bounded lines; a FIFO or device named A_0001.mtx is refused, never
// waited on) under matrix_market.h's limits, and the matrices of a directory hold at most
// kMaxMatrixMarketEntries nonzeros in all: each file's nonzeros limit is what those before it
// left.
inline constexpr size_t kMaxMatrixMarketFiles = 10000;
inline constexpr size_t kMaxMatrixMarketDirEntries = 100000;

class MatrixMarketSequence : public SystemSequence {
 public:
  static absl::StatusOr<std::unique_ptr<MatrixMarketSequence>> Create(const std::string& dir,
                                                                      uint64_t seed);

  bool Done() const override { return next_ >= matrices_.size(); }
  absl::StatusOr<LinearSystem> Next() override;
  std::pair<double, double> ContextRange() const override { return context_range_; }
  size_t size() const { return matrices_.size(); }
  // The path of the i-th matrix file (i < size()).
  const std::string& matrix_path(size_t i) const { return matrices_[i]; }

 private:
  MatrixMarketSequence() = default;

  std::vector<std::string> matrices_;
  std::vector<std::string> rhs_;  // "" where absent
  std::vector<double> contexts_;
  std::pair<double, double> context_range_;
  uint64_t seed_ = 0;
  size_t next_ = 0;
  int64_t entries_left_ = kMaxMatrixMarketEntries;  // nonzeros the next matrices may hold
};

}  // namespace evolv
