#include "evaluators/solver/matrix_market.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "evaluators/common/input_file.h"

namespace evolv {
namespace {

struct Header {
  bool coordinate = false;
  bool symmetric = false;
};

// Lines of one Matrix Market file (an InputFile: regular files only, bounded lines), with errors
// that name the file and the line.
class LineReader {
 public:
  explicit LineReader(std::unique_ptr<InputFile> file) : file_(std::move(file)) {}
  // The next line that is neither blank nor a '%' comment; false at the end of the file or on a
  // read error (then status() is not OK).
  bool NextData(std::string& line) {
    while (file_->NextLine(line)) {
      const size_t first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '%') continue;
      return true;
    }
    return false;
  }
  bool NextRaw(std::string& line) { return file_->NextLine(line); }
  const absl::Status& status() const { return file_->status(); }
  // Bytes after the last line read.
  uint64_t remaining() const { return file_->remaining(); }
  absl::Status Error(const std::string& message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(file_->path(), ":", file_->line_number(), ": ", message));
  }
  // After NextData or NextRaw returned false: the read error, else `message` at the end.
  absl::Status EndError(const std::string& message) const {
    if (!status().ok()) return status();
    return absl::InvalidArgumentError(absl::StrCat(file_->path(), ":", file_->line_number() + 1,
                                                   ": unexpected end of file, ", message));
  }

 private:
  std::unique_ptr<InputFile> file_;
};

// Opens `path` for the reader, refusing a file larger than kMaxMatrixMarketFileBytes.
absl::StatusOr<LineReader> OpenReader(const std::string& path) {
  absl::StatusOr<std::unique_ptr<InputFile>> file = InputFile::Open(path);
  if (!file.ok()) return file.status();
  if ((*file)->size() > kMaxMatrixMarketFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", (*file)->size(), " bytes exceed the limit ", kMaxMatrixMarketFileBytes));
  }
  return LineReader(*std::move(file));
}

// An error naming `field` when `count` lines of at least `min_bytes` bytes each (the last without
// its '\n') cannot fit in the bytes left in the file, else OK.
absl::Status CheckFitsInFile(const LineReader& reader, const char* field, int64_t count,
                             int64_t min_bytes) {
  if (count == 0) return absl::OkStatus();
  const uint64_t remaining = reader.remaining();
  // count * (min_bytes + 1) - 1 > remaining, the last line without its '\n'.
  if (static_cast<uint64_t>(count) > (remaining + 1) / static_cast<uint64_t>(min_bytes + 1)) {
    return reader.Error(absl::StrCat(field, " ", count, " cannot fit in the ", remaining,
                                     " bytes left in the file (at least ", min_bytes + 1,
                                     " bytes each)"));
  }
  return absl::OkStatus();
}

absl::Status CheckDimension(const LineReader& reader, const char* field, long long value) {
  if (value > kMaxMatrixMarketDimension) {
    return reader.Error(
        absl::StrCat(field, " ", value, " exceeds the limit ", kMaxMatrixMarketDimension));
  }
  return absl::OkStatus();
}

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

absl::StatusOr<Coordinates> ReadCoordinates(LineReader& reader, const Header& header,
                                            int64_t max_entries) {
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
  if (absl::Status s = CheckDimension(reader, "rows", c.rows); !s.ok()) return s;
  if (absl::Status s = CheckDimension(reader, "cols", c.cols); !s.ok()) return s;
  if (header.symmetric && c.rows != c.cols) return reader.Error("symmetric matrix is not square");
  if (nnz > max_entries) {
    return reader.Error(absl::StrCat("nonzeros ", nnz, " exceeds the limit ", max_entries));
  }
  // A symmetric file lists the lower triangle only.
  const long long cells = header.symmetric ? c.rows * (c.rows + 1) / 2 : c.rows * c.cols;
  if (nnz > cells) {
    return reader.Error(absl::StrCat("nonzeros ", nnz, " exceeds the ", cells, " entries of a ",
                                     header.symmetric ? "symmetric " : "", c.rows, "x", c.cols,
                                     " matrix"));
  }
  // "i j v": at least 5 bytes and a '\n'.
  if (absl::Status s = CheckFitsInFile(reader, "nonzeros", nnz, 5); !s.ok()) return s;
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
  if (!reader.status().ok()) return reader.status();
  return c;
}

}  // namespace

absl::StatusOr<SparseMatrix> ReadMatrixMarketMatrix(const std::string& path, int64_t max_entries) {
  max_entries = std::min(max_entries, kMaxMatrixMarketEntries);
  absl::StatusOr<LineReader> reader = OpenReader(path);
  if (!reader.ok()) return reader.status();
  absl::StatusOr<Header> header = ReadHeader(*reader);
  if (!header.ok()) return header.status();
  if (!header->coordinate) {
    return reader->Error("matrices must be in coordinate format");
  }
  absl::StatusOr<Coordinates> c = ReadCoordinates(*reader, *header, max_entries);
  if (!c.ok()) return c.status();
  SparseMatrix a(c->rows, c->cols);
  a.setFromTriplets(c->entries.begin(), c->entries.end());
  a.makeCompressed();
  return a;
}

absl::StatusOr<Eigen::VectorXd> ReadMatrixMarketVector(const std::string& path) {
  absl::StatusOr<LineReader> reader = OpenReader(path);
  if (!reader.ok()) return reader.status();
  absl::StatusOr<Header> header = ReadHeader(*reader);
  if (!header.ok()) return header.status();
  if (header->coordinate) {
    absl::StatusOr<Coordinates> c = ReadCoordinates(*reader, *header, kMaxMatrixMarketEntries);
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
  if (!reader->NextData(line)) return reader->EndError("expected 'rows cols'");
  if (!ParseLine(line, ints, 2, doubles, 0) || ints[0] < 1 || ints[1] < 1) {
    return reader->Error("expected 'rows cols' with positive sizes");
  }
  if (absl::Status s = CheckDimension(*reader, "rows", ints[0]); !s.ok()) return s;
  if (ints[1] != 1) {
    return reader->Error(absl::StrCat("a vector must have one column, not ", ints[1]));
  }
  // A value: at least 1 byte and a '\n'.
  if (absl::Status s = CheckFitsInFile(*reader, "rows", ints[0], 1); !s.ok()) return s;
  Eigen::VectorXd v(ints[0]);
  for (long long i = 0; i < v.size(); ++i) {
    if (!reader->NextData(line)) {
      return reader->EndError(absl::StrCat("expected ", v.size(), " values, got ", i));
    }
    if (!ParseLine(line, ints, 0, doubles, 1)) return reader->Error("expected one real value");
    v[i] = doubles[0];
  }
  if (reader->NextData(line)) return reader->Error("more values than declared");
  if (!reader->status().ok()) return reader->status();
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
