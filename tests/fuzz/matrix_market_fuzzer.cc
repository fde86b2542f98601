// Fuzzes the Matrix Market reader (evaluators/solver/matrix_market.h): the bytes are written to a
// file and read as a matrix and as a vector. Must never crash, leak, hit undefined behaviour or
// allocate beyond what the file's size allows, whatever the bytes; a matrix or vector that reads
// must be within the documented bounds, and must read back equal after WriteMatrixMarket.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "evaluators/solver/matrix_market.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using evolv::fuzz::Require;

// A per-process scratch path (parallel fuzzing jobs run as several processes).
const std::string& ScratchPath(const char* suffix) {
  static const std::string base = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/evolv-mm-fuzz-" + std::to_string(getpid());
  }();
  static std::string in = base + ".in.mtx", out = base + ".out.mtx";
  return suffix[0] == 'i' ? in : out;
}

// Bitwise-equal values (NaN included) of the same shape.
template <class A>
bool SameValues(const A& a, const A& b) {
  if (a.size() != b.size()) return false;
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    if (!(a.data()[i] == b.data()[i] || (std::isnan(a.data()[i]) && std::isnan(b.data()[i])))) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& in = ScratchPath("in");
  const std::string& out = ScratchPath("out");
  {
    std::FILE* f = std::fopen(in.c_str(), "wb");
    if (f == nullptr) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
  }
  // A low nonzeros limit, as a directory's remaining budget would pass.
  auto matrix = evolv::ReadMatrixMarketMatrix(in, 4096);
  if (matrix.ok()) {
    Require(matrix->rows() <= evolv::kMaxMatrixMarketDimension &&
                matrix->cols() <= evolv::kMaxMatrixMarketDimension,
            "dimensions within kMaxMatrixMarketDimension");
    Require(matrix->nonZeros() <= 2 * 4096, "stored entries within twice the limit (symmetric)");
    Require(evolv::WriteMatrixMarket(out, *matrix).ok(), "a matrix that reads can be written");
    auto back = evolv::ReadMatrixMarketMatrix(out, evolv::kMaxMatrixMarketEntries);
    Require(back.ok(), "a written matrix reads");
    Require(back->rows() == matrix->rows() && back->cols() == matrix->cols() &&
                back->nonZeros() == matrix->nonZeros(),
            "a matrix round-trips with its shape");
    evolv::SparseMatrix a = *matrix, b = *back;
    a.makeCompressed();
    b.makeCompressed();
    Require(SameValues(Eigen::Map<const Eigen::VectorXd>(a.valuePtr(), a.nonZeros()),
                       Eigen::Map<const Eigen::VectorXd>(b.valuePtr(), b.nonZeros())),
            "a matrix round-trips with its values");
  }
  auto vector = evolv::ReadMatrixMarketVector(in);
  if (vector.ok()) {
    Require(vector->size() <= evolv::kMaxMatrixMarketDimension, "length within the limit");
    Require(evolv::WriteMatrixMarket(out, *vector).ok(), "a vector that reads can be written");
    auto back = evolv::ReadMatrixMarketVector(out);
    Require(back.ok() && SameValues(*back, *vector), "a vector round-trips");
  }
  return 0;
}
