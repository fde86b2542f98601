#include "evaluators/solver/matrix_market.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace evolv {
namespace {

struct Header {
  bool coordinate = false;
  bool symmetric = false;
};

class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), in_(path) {}
  bool is_open() const { return in_.is_open(); }
  // The next line that is neither blank nor a '%' comment; false at end of file.
  bool NextData(std::string& line) {
    while (std::getline(in_, line)) {
      ++number_;
      const size_t first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '%') continue;
      return true;
    }
    return false;
  }
  bool NextRaw(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++number_;
    return true;
  }
  absl::Status Error(const std::string& message) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ":", number_, ": ", message));
  }
  absl::Status EndError(const std::string& message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ":", number_ + 1, ": unexpected end of file, ", message));
  }

 private:
  std::string path_;
  std::ifstream in_;
  int number_ = 0;
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

absl::StatusOr<Header> ReadHeader(LineReader& reader) {
  std::string line;
  if (!reader.NextRaw(line)) return reader.EndError("expected a %%MatrixMarket header");
  std::istringstream words(line);
  std::string banner, object, format, field, symmetry;
  words >> banner >> object >> format >> field >> symmetry;
  if (banner != "%%MatrixMarket") return reader.Error("expected a %%MatrixMarket header");
  object = Lower(object);
  format = Lower(format);
  field = Lower(field);
  symmetry = Lower(symmetry);
  if (object != "matrix") return reader.Error(absl::StrCat("unsupported object '", object, "'"));
  if (format != "coordinate" && format != "array") {
    return reader.Error(absl::StrCat("unsupported format '", format, "'"));
  }
  if (field != "real" && field != "integer" && field != "double") {
    return reader.Error(absl::StrCat("unsupported field '", field, "' (real or integer)"));
  }
  if (symmetry != "general" && symmetry != "symmetric") {
    return reader.Error(absl::StrCat("unsupported symmetry '", symmetry, "'"));
  }
  Header header;
  header.coordinate = format == "coordinate";
  header.symmetric = symmetry == "symmetric";
  return header;
}

// Parses exactly `count` numbers (ints first, then doubles) from `line`; false on anything else.
bool ParseLine(const std::string& line, std::vector<long long>& ints, int int_count,
               std::vector<double>& doubles, int double_count) {
  std::istringstream in(line);
  ints.assign(int_count, 0);
  doubles.assign(double_count, 0.0);
  for (auto& value : ints) {
    if (!(in >> value)) return false;
  }
  for (auto& value : doubles) {
    if (!(in >> value) || !std::isfinite(value)) return false;
  }
  std::string rest;
  return !(in >> rest);
}

struct Coordinates {
  long long rows = 0, cols = 0;
  std::vector<Eigen::Triplet<double>> entries;
};

absl::StatusOr<Coordinates> ReadCoordinates(LineReader& reader, const Header& header) {
  std::string line;
  std::vector<long long> ints;
  std::vector<double> doubles;
  if (!reader.NextData(line)) return reader.EndError("expected 'rows cols nonzeros'");
  if (!ParseLine(line, ints, 3, doubles, 0) || ints[0] < 1 || ints[1] < 1 || ints[2] < 0) {
    return reader.Error("expected 'rows cols nonzeros' with positive sizes");
  }
  Coordinates c;
  c.rows = ints[0];
  c.cols = ints[1];
  const long long nnz = ints[2];
  if (header.symmetric && c.rows != c.cols) return reader.Error("symmetric matrix is not square");
  c.entries.reserve(header.symmetric ? 2 * nnz : nnz);
  for (long long k = 0; k < nnz; ++k) {
    if (!reader.NextData(line)) {
      return reader.EndError(absl::StrCat("expected ", nnz, " entries, got ", k));
    }
    if (!ParseLine(line, ints, 2, doubles, 1)) return reader.Error("expected 'row col value'");
    const long long i = ints[0], j = ints[1];
    if (i < 1 || i > c.rows || j < 1 || j > c.cols) {
      return reader.Error(
          absl::StrCat("entry (", i, ", ", j, ") is outside the ", c.rows, "x", c.cols, " matrix"));
    }
    if (header.symmetric && j > i) {
      return reader.Error("symmetric file lists an entry above the diagonal");
    }
    c.entries.emplace_back(i - 1, j - 1, doubles[0]);
    if (header.symmetric && i != j) c.entries.emplace_back(j - 1, i - 1, doubles[0]);
  }
  if (reader.NextData(line)) return reader.Error("more entries than declared");
  return c;
}

}  // namespace

absl::StatusOr<SparseMatrix> ReadMatrixMarketMatrix(const std::string& path) {
  LineReader reader(path);
  if (!reader.is_open()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open for reading"));
  }
  absl::StatusOr<Header> header = ReadHeader(reader);
  if (!header.ok()) return header.status();
  if (!header->coordinate) {
    return reader.Error("matrices must be in coordinate format");
  }
  absl::StatusOr<Coordinates> c = ReadCoordinates(reader, *header);
  if (!c.ok()) return c.status();
  SparseMatrix a(c->rows, c->cols);
  a.setFromTriplets(c->entries.begin(), c->entries.end());
  a.makeCompressed();
  return a;
}

absl::StatusOr<Eigen::VectorXd> ReadMatrixMarketVector(const std::string& path) {
  LineReader reader(path);
  if (!reader.is_open()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open for reading"));
  }
  absl::StatusOr<Header> header = ReadHeader(reader);
  if (!header.ok()) return header.status();
  if (header->coordinate) {
    absl::StatusOr<Coordinates> c = ReadCoordinates(reader, *header);
    if (!c.ok()) return c.status();
    if (c->cols != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":2: a vector must have one column, not ", c->cols));
    }
    Eigen::VectorXd v = Eigen::VectorXd::Zero(c->rows);
    for (const auto& t : c->entries) v[t.row()] += t.value();
    return v;
  }
  std::string line;
  std::vector<long long> ints;
  std::vector<double> doubles;
  if (!reader.NextData(line)) return reader.EndError("expected 'rows cols'");
  if (!ParseLine(line, ints, 2, doubles, 0) || ints[0] < 1 || ints[1] < 1) {
    return reader.Error("expected 'rows cols' with positive sizes");
  }
  if (ints[1] != 1) {
    return reader.Error(absl::StrCat("a vector must have one column, not ", ints[1]));
  }
  Eigen::VectorXd v(ints[0]);
  for (long long i = 0; i < v.size(); ++i) {
    if (!reader.NextData(line)) {
      return reader.EndError(absl::StrCat("expected ", v.size(), " values, got ", i));
    }
    if (!ParseLine(line, ints, 0, doubles, 1)) return reader.Error("expected one real value");
    v[i] = doubles[0];
  }
  if (reader.NextData(line)) return reader.Error("more values than declared");
  return v;
}

absl::Status WriteMatrixMarket(const std::string& path, const SparseMatrix& a) {
  std::ofstream out(path);
  if (!out) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open for writing"));
  out.precision(17);
  out << "%%MatrixMarket matrix coordinate real general\n"
      << a.rows() << " " << a.cols() << " " << a.nonZeros() << "\n";
  for (int i = 0; i < a.outerSize(); ++i) {
    for (SparseMatrix::InnerIterator it(a, i); it; ++it) {
      out << it.row() + 1 << " " << it.col() + 1 << " " << it.value() << "\n";
    }
  }
  if (!out) return absl::InvalidArgumentError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

absl::Status WriteMatrixMarket(const std::string& path, const Eigen::VectorXd& v) {
  std::ofstream out(path);
  if (!out) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open for writing"));
  out.precision(17);
  out << "%%MatrixMarket matrix array real general\n" << v.size() << " 1\n";
  for (double value : v) out << value << "\n";
  if (!out) return absl::InvalidArgumentError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

}  // namespace evolv
