// Matrix Market (https://math.nist.gov/MatrixMarket/formats.html) reading and writing for the
// solver domain's instance files.
//
// Read: "%%MatrixMarket matrix coordinate real|integer general|symmetric" for matrices (a
// symmetric file lists the lower triangle; entries are mirrored), and "%%MatrixMarket matrix
// array real|integer general" with one column for vectors (a coordinate file with one column is
// accepted as a vector too). Lines starting with '%' after the header and blank lines are
// skipped; duplicate coordinate entries are summed.
// Errors: InvalidArgument "PATH: cannot open ..." for an unreadable file and
// "PATH:LINE: ..." for a malformed one (LINE is 1-based).
#pragma once

#include <Eigen/Core>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "evaluators/solver/sor.h"

namespace evolv {

absl::StatusOr<SparseMatrix> ReadMatrixMarketMatrix(const std::string& path);
absl::StatusOr<Eigen::VectorXd> ReadMatrixMarketVector(const std::string& path);

// Writes "coordinate real general" (every stored entry, 17 significant digits).
absl::Status WriteMatrixMarket(const std::string& path, const SparseMatrix& a);
// Writes "array real general" with one column.
absl::Status WriteMatrixMarket(const std::string& path, const Eigen::VectorXd& v);

}  // namespace evolv
