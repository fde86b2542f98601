// Matrix Market (https://math.nist.gov/MatrixMarket/formats.html) reading and writing for the
// solver domain's instance files.
//
// Read: "%%MatrixMarket matrix coordinate real|integer general|symmetric" for matrices (a
// symmetric file lists the lower triangle; entries are mirrored), and "%%MatrixMarket matrix
// array real|integer general" with one column for vectors (a coordinate file with one column is
// accepted as a vector too). Lines starting with '%' after the header and blank lines are
// skipped; duplicate coordinate entries are summed.
//
// Files are read as InputFiles (evaluators/common/input_file.h): regular files only, lines of at
// most 1 MiB. Every size a file declares is checked before anything is allocated
// (docs/limits.md): rows and cols at most kMaxMatrixMarketDimension; nonzeros at most
// kMaxMatrixMarketEntries (or the caller's lower limit) and at most rows * cols (rows (rows + 1)
// / 2 for a symmetric file); and the declared entries must fit in the bytes left in the file
// (at least 6 bytes per "i j v" entry, 2 per array value), so a short file declaring a huge
// matrix is refused at once. A file larger than kMaxMatrixMarketFileBytes is refused unread.
//
// Errors: InvalidArgument "PATH: cannot open ..." for an unreadable file, "PATH: not a regular
// file (a FIFO)" and the like, and "PATH:LINE: ..." for a malformed one (LINE is 1-based), naming
// the size that is out of bounds: "PATH:2: nonzeros 900000000000000000 exceeds the limit 20000000".
// Thread-safety: the functions share no state.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "evaluators/solver/sor.h"

namespace evolv {

inline constexpr int64_t kMaxMatrixMarketDimension = 1000000;      // rows, cols
inline constexpr int64_t kMaxMatrixMarketEntries = 20000000;       // nonzeros a file declares
inline constexpr uint64_t kMaxMatrixMarketFileBytes = 1ull << 30;  // 1 GiB

// `max_entries` (at most kMaxMatrixMarketEntries) lowers the nonzeros limit, e.g. to what is left
// of a directory's budget.
absl::StatusOr<SparseMatrix> ReadMatrixMarketMatrix(const std::string& path,
                                                    int64_t max_entries = kMaxMatrixMarketEntries);
absl::StatusOr<Eigen::VectorXd> ReadMatrixMarketVector(const std::string& path);

// Writes "coordinate real general" (every stored entry, 17 significant digits).
absl::Status WriteMatrixMarket(const std::string& path, const SparseMatrix& a);
// Writes "array real general" with one column.
absl::Status WriteMatrixMarket(const std::string& path, const Eigen::VectorXd& v);

}  // namespace evolv
