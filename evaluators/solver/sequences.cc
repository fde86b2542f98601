#include "evaluators/solver/sequences.h"

#include <Eigen/SparseCholesky>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "evaluators/solver/distributions.h"
#include "evaluators/common/input_file.h"
#include "evaluators/solver/matrix_market.h"

namespace evolv {

Eigen::VectorXd TruncatedGaussianRhs(int n, Rng& rng) {
  Eigen::VectorXd b(n);
  const double limit = static_cast<double>(n);
  while (true) {
    for (int i = 0; i < n; ++i) b[i] = rng.Normal();
    if (b.squaredNorm() <= limit) return b;
  }
}

SparseMatrix ShiftedLaplacian(int m, double shift) {
  std::vector<Eigen::Triplet<double>> entries;
  entries.reserve(5 * m * m);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < m; ++j) {
      const int row = i * m + j;
      entries.emplace_back(row, row, 4.0 + shift);
      if (i > 0) entries.emplace_back(row, row - m, -1.0);
      if (i + 1 < m) entries.emplace_back(row, row + m, -1.0);
      if (j > 0) entries.emplace_back(row, row - 1, -1.0);
      if (j + 1 < m) entries.emplace_back(row, row + 1, -1.0);
    }
  }
  SparseMatrix a(m * m, m * m);
  a.setFromTriplets(entries.begin(), entries.end());
  a.makeCompressed();
  return a;
}

ShiftedLaplacianSequence::ShiftedLaplacianSequence(Variance variance, uint64_t seed, int m)
    : variance_(variance), m_(m), rng_(seed), laplacian_(ShiftedLaplacian(m, 0.0)) {}

std::pair<double, double> ShiftedLaplacianSequence::ContextRange() const {
  return variance_ == Variance::kHigh ? std::make_pair(-0.15, 0.45) : std::make_pair(0.0, 1.0);
}

absl::StatusOr<LinearSystem> ShiftedLaplacianSequence::Next() {
  LinearSystem system;
  system.context = variance_ == Variance::kHigh ? -0.15 + 0.6 * SampleBeta(rng_, 0.5, 1.5)
                                                : SampleBeta(rng_, 2.0, 6.0);
  system.a = laplacian_;
  // Every row stores its diagonal, so adding c is a pass over the stored diagonal entries.
  for (int i = 0; i < system.a.outerSize(); ++i) system.a.coeffRef(i, i) += system.context;
  system.b = TruncatedGaussianRhs(m_ * m_, rng_);
  return system;
}

HeatEquationSequence::HeatEquationSequence(int nx, int steps, double dt)
    : nx_(nx), steps_(steps), dt_(dt) {
  const double h = 1.0 / (nx + 1);
  laplacian_ = ShiftedLaplacian(nx, 0.0) * (-1.0 / (h * h));
  u_ = Eigen::VectorXd::Zero(nx * nx);
}

double HeatEquationSequence::Kappa(double t) {
  const double s = std::sin(2.0 * M_PI * t);
  return std::max(0.1 * s, -10.0 * s);
}

LinearSystem HeatEquationSequence::SystemAt(int step, const Eigen::VectorXd& u) const {
  const int n = nx_ * nx_;
  const double h = 1.0 / (nx_ + 1);
  const double t_mid = (step + 0.5) * dt_;
  const double kappa = Kappa(t_mid);
  SparseMatrix identity(n, n);
  identity.setIdentity();
  LinearSystem system;
  system.context = kappa;
  system.a = identity - (0.5 * kappa * dt_) * laplacian_;
  system.a.makeCompressed();
  const double cx = 0.5 + 0.25 * std::cos(2.0 * M_PI * t_mid);
  const double cy = 0.5 + 0.25 * std::sin(2.0 * M_PI * t_mid);
  Eigen::VectorXd forcing(n);
  for (int i = 0; i < nx_; ++i) {
    for (int j = 0; j < nx_; ++j) {
      const double dx = (i + 1) * h - cx, dy = (j + 1) * h - cy;
      forcing[i * nx_ + j] = std::exp(-(dx * dx + dy * dy) / (2.0 * 0.01));
    }
  }
  system.b = u + (0.5 * kappa * dt_) * (laplacian_ * u) + dt_ * forcing;
  system.x0 = u;
  return system;
}

absl::StatusOr<LinearSystem> HeatEquationSequence::Next() {
  if (Done()) return absl::OutOfRangeError("heat equation sequence: no more steps");
  LinearSystem system = SystemAt(step_, u_);
  // Advance with an accurate direct solve so the next system does not depend on any policy.
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> ldlt(system.a);
  u_ = ldlt.solve(system.b);
  ++step_;
  return system;
}

absl::StatusOr<std::unique_ptr<MatrixMarketSequence>> MatrixMarketSequence::Create(
    const std::string& dir, uint64_t seed) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::directory_iterator it(dir, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": cannot list directory (", error.message(), ")"));
  }
  std::vector<std::string> names;
  size_t entries = 0;
  for (; it != fs::directory_iterator(); it.increment(error)) {
    if (++entries > kMaxMatrixMarketDirEntries) {
      return absl::InvalidArgumentError(absl::StrCat(
          dir, ": more than ", kMaxMatrixMarketDirEntries, " directory entries (the limit)"));
    }
    const std::string name = it->path().filename().string();
    if (name.size() > 6 && name.rfind("A_", 0) == 0 && name.substr(name.size() - 4) == ".mtx") {
      if (names.size() == kMaxMatrixMarketFiles) {
        return absl::InvalidArgumentError(
            absl::StrCat(dir, ": more than ", kMaxMatrixMarketFiles, " A_*.mtx files (the limit)"));
      }
      names.push_back(name);
    }
  }
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": cannot list directory (", error.message(), ")"));
  }
  if (names.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": no A_*.mtx files"));
  }
  std::sort(names.begin(), names.end());
  auto sequence = std::unique_ptr<MatrixMarketSequence>(new MatrixMarketSequence());
  sequence->seed_ = seed;
  for (const std::string& name : names) {
    sequence->matrices_.push_back((fs::path(dir) / name).string());
    const fs::path rhs = fs::path(dir) / ("b_" + name.substr(2));
    sequence->rhs_.push_back(fs::exists(rhs, error) ? rhs.string() : "");
  }
  const fs::path manifest = fs::path(dir) / "context.txt";
  if (fs::exists(manifest, error)) {
    absl::StatusOr<std::unique_ptr<InputFile>> in = InputFile::Open(manifest.string());
    if (!in.ok()) return in.status();
    std::string line;
    while ((*in)->NextLine(line)) {
      const size_t first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#') continue;
      std::istringstream words(line);
      double value;
      std::string rest;
      if (!(words >> value) || (words >> rest) || !std::isfinite(value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(manifest.string(), ":", (*in)->line_number(), ": expected one number"));
      }
      if (sequence->contexts_.size() == names.size()) {
        return absl::InvalidArgumentError(absl::StrCat(manifest.string(), ": at least ",
                                                       names.size() + 1, " contexts for ",
                                                       names.size(), " A_*.mtx files"));
      }
      sequence->contexts_.push_back(value);
    }
    if (!(*in)->status().ok()) return (*in)->status();
    if (sequence->contexts_.size() != names.size()) {
      return absl::InvalidArgumentError(absl::StrCat(manifest.string(), ": ",
                                                     sequence->contexts_.size(), " contexts for ",
                                                     names.size(), " A_*.mtx files"));
    }
  } else {
    for (size_t i = 0; i < names.size(); ++i) sequence->contexts_.push_back(i);
  }
  const auto [lo, hi] = std::minmax_element(sequence->contexts_.begin(), sequence->contexts_.end());
  sequence->context_range_ = {*lo, *hi > *lo ? *hi : *lo + 1.0};
  return sequence;
}

absl::StatusOr<LinearSystem> MatrixMarketSequence::Next() {
  if (Done()) return absl::OutOfRangeError("matrix market sequence: no more instances");
  const size_t index = next_++;
  LinearSystem system;
  if (entries_left_ == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(matrices_[index], ": the matrices before it hold ", kMaxMatrixMarketEntries,
                     " nonzeros, the limit for a directory"));
  }
  absl::StatusOr<SparseMatrix> a = ReadMatrixMarketMatrix(matrices_[index], entries_left_);
  if (!a.ok()) return a.status();
  system.a = *std::move(a);
  entries_left_ -= std::min<int64_t>(entries_left_, system.a.nonZeros());
  if (system.a.rows() != system.a.cols()) {
    return absl::InvalidArgumentError(absl::StrCat(
        matrices_[index], ": matrix is ", system.a.rows(), "x", system.a.cols(), ", not square"));
  }
  if (!rhs_[index].empty()) {
    absl::StatusOr<Eigen::VectorXd> b = ReadMatrixMarketVector(rhs_[index]);
    if (!b.ok()) return b.status();
    if (b->size() != system.a.rows()) {
      return absl::InvalidArgumentError(absl::StrCat(
          rhs_[index], ": size ", b->size(), " does not match the matrix size ", system.a.rows()));
    }
    system.b = *std::move(b);
  } else {
    Rng rng(Mix64(seed_ + index));
    system.b = TruncatedGaussianRhs(static_cast<int>(system.a.rows()), rng);
  }
  system.context = contexts_[index];
  return system;
}

}  // namespace evolv
