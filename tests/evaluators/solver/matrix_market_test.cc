#include "evaluators/solver/matrix_market.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "evaluators/solver/sequences.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/promptly.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;
using testing::Promptly;
namespace fs = std::filesystem;

class MatrixMarketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("evolv_mm_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name)) << text;
  }
  fs::path dir_;
};

absl::Status ReadStatus(const std::string& path) { return ReadMatrixMarketMatrix(path).status(); }

TEST_F(MatrixMarketTest, MatrixAndVectorRoundTrip) {
  const SparseMatrix a = ShiftedLaplacian(4, 0.3);
  Eigen::VectorXd v(3);
  v << 1.0 / 3.0, -2.5e-17, 7.0;
  ASSERT_TRUE(WriteMatrixMarket(Path("A.mtx"), a).ok());
  ASSERT_TRUE(WriteMatrixMarket(Path("b.mtx"), v).ok());
  const SparseMatrix read = *ReadMatrixMarketMatrix(Path("A.mtx"));
  EXPECT_EQ(read.rows(), 16);
  EXPECT_EQ(read.nonZeros(), a.nonZeros());
  EXPECT_EQ((Eigen::MatrixXd(read) - Eigen::MatrixXd(a)).norm(), 0.0);
  EXPECT_EQ(*ReadMatrixMarketVector(Path("b.mtx")), v);
}

TEST_F(MatrixMarketTest, SymmetricFilesAreMirrored) {
  Write("s.mtx",
        "%%MatrixMarket matrix coordinate real symmetric\n% a comment\n2 2 3\n1 1 4\n2 1 -1\n"
        "2 2 5\n");
  const Eigen::MatrixXd dense = Eigen::MatrixXd(*ReadMatrixMarketMatrix(Path("s.mtx")));
  Eigen::MatrixXd expected(2, 2);
  expected << 4, -1, -1, 5;
  EXPECT_EQ(dense, expected);
}

TEST_F(MatrixMarketTest, MalformedEntryNamesFileAndLine) {
  Write("bad.mtx", "%%MatrixMarket matrix coordinate real general\n% c\n2 2 2\n1 1 4\n2 x 5\n");
  const absl::Status status = ReadMatrixMarketMatrix(Path("bad.mtx")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(Path("bad.mtx") + ":5: expected 'row col value'"));
}

TEST_F(MatrixMarketTest, BadHeaderAndOutOfRangeEntryAndTruncation) {
  Write("h.mtx", "MatrixMarket matrix coordinate real general\n1 1 1\n1 1 1\n");
  EXPECT_THAT(ReadMatrixMarketMatrix(Path("h.mtx")).status().message(),
              HasSubstr(Path("h.mtx") + ":1: expected a %%MatrixMarket header"));
  Write("r.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n");
  EXPECT_THAT(ReadMatrixMarketMatrix(Path("r.mtx")).status().message(),
              HasSubstr(Path("r.mtx") + ":3: entry (3, 1) is outside"));
  Write("t.mtx", "%%MatrixMarket matrix array real general\n3 1\n1\n2\n% padding\n");
  EXPECT_THAT(ReadMatrixMarketVector(Path("t.mtx")).status().message(),
              HasSubstr(Path("t.mtx") + ":6: unexpected end of file"));
}

TEST_F(MatrixMarketTest, UnreadableFileNamesThePath) {
  const absl::Status status = ReadMatrixMarketMatrix(Path("missing.mtx")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(Path("missing.mtx") + ": cannot open"));
}

TEST_F(MatrixMarketTest, HugeDeclaredSizesInATinyFileAreRefusedAtOnceNamingTheField) {
  const std::string header = "%%MatrixMarket matrix coordinate real general\n";
  Write("rows.mtx", header + "100000000 100000000 1\n1 1 1\n");  // 1e8 x 1e8 in 74 bytes
  ASSERT_LT(fs::file_size(Path("rows.mtx")), 100u);
  absl::Status status = Promptly([&] { return ReadStatus(Path("rows.mtx")); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr(Path("rows.mtx") + ":2: rows 100000000 exceeds the limit 1000000"));
  Write("cols.mtx", header + "3 3000000000 1\n1 1 1\n");
  EXPECT_THAT(ReadStatus(Path("cols.mtx")).message(),
              HasSubstr(":2: cols 3000000000 exceeds the limit 1000000"));
  Write("nnz.mtx", header + "3 3 900000000000000000\n1 1 1\n");
  status = Promptly([&] { return ReadStatus(Path("nnz.mtx")); });
  EXPECT_THAT(status.message(),
              HasSubstr(Path("nnz.mtx") + ":2: nonzeros 900000000000000000 exceeds the limit"));
  Write("cells.mtx", header + "3 3 10\n1 1 1\n");
  EXPECT_THAT(ReadStatus(Path("cells.mtx")).message(),
              HasSubstr(":2: nonzeros 10 exceeds the 9 entries of a 3x3 matrix"));
  Write("sym.mtx", "%%MatrixMarket matrix coordinate real symmetric\n2 2 4\n1 1 1\n");
  EXPECT_THAT(ReadStatus(Path("sym.mtx")).message(),
              HasSubstr(":2: nonzeros 4 exceeds the 3 entries of a symmetric 2x2 matrix"));
  Write("vector.mtx", "%%MatrixMarket matrix array real general\n5000000 1\n1\n");
  EXPECT_THAT(ReadMatrixMarketVector(Path("vector.mtx")).status().message(),
              HasSubstr(":2: rows 5000000 exceeds the limit 1000000"));
}

TEST_F(MatrixMarketTest, EntriesThatCannotFitInTheFilesBytesAreRefusedBeforeReading) {
  // 1000 entries need at least 6 * 1000 - 1 bytes; 6 are left.
  Write("short.mtx", "%%MatrixMarket matrix coordinate real general\n1000 1000 1000\n1 1 1\n");
  const absl::Status status = Promptly([&] { return ReadStatus(Path("short.mtx")); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr(Path("short.mtx") +
                        ":2: nonzeros 1000 cannot fit in the 6 bytes left in the file"));
  Write("values.mtx", "%%MatrixMarket matrix array real general\n100 1\n1\n2\n");
  EXPECT_THAT(ReadMatrixMarketVector(Path("values.mtx")).status().message(),
              HasSubstr(":2: rows 100 cannot fit in the 4 bytes left in the file"));
  // Exactly as many bytes as the entries need, the last without its newline, is accepted.
  Write("tight.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n2 2 2");
  EXPECT_TRUE(ReadMatrixMarketMatrix(Path("tight.mtx")).ok());
  // A caller's lower limit (a directory's budget) is named as the limit.
  EXPECT_THAT(ReadMatrixMarketMatrix(Path("tight.mtx"), 1).status().message(),
              HasSubstr(":2: nonzeros 2 exceeds the limit 1"));
}

TEST_F(MatrixMarketTest, AnEndlessLineIsRefusedAfterAtMostOneMebibyte) {
  // /dev/zero's content in a regular file: NUL bytes and no newline.
  std::ofstream(Path("zeros.mtx"), std::ios::binary) << std::string(3 << 20, '\0');
  absl::Status status = Promptly([&] { return ReadStatus(Path("zeros.mtx")); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr(Path("zeros.mtx") + ":1: line longer than 1048576 bytes"));
  std::ofstream(Path("long_entry.mtx"))
      << "%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 " << std::string(2 << 20, '1')
      << "\n";
  EXPECT_THAT(ReadStatus(Path("long_entry.mtx")).message(),
              HasSubstr(":3: line longer than 1048576 bytes"));
}

TEST_F(MatrixMarketTest, FifosDevicesAndDirectoriesAreRefusedWithoutBlocking) {
  const std::string fifo = Path("A_0001.mtx");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  absl::Status status = Promptly([&] { return ReadStatus(fifo); }, fifo);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(fifo + ": not a regular file (a FIFO)"));
  // The directory holding it: Create lists it, the first Next refuses it.
  status = Promptly(
      [&] {
        auto sequence = MatrixMarketSequence::Create(dir_.string(), 1);
        if (!sequence.ok()) return sequence.status();
        return (*sequence)->Next().status();
      },
      fifo);
  EXPECT_THAT(status.message(), HasSubstr(fifo + ": not a regular file (a FIFO)"));
  fs::remove(fifo);
  // context.txt as a FIFO is refused the same way.
  ASSERT_TRUE(WriteMatrixMarket(Path("A_0001.mtx"), ShiftedLaplacian(2, 0.0)).ok());
  const std::string context = Path("context.txt");
  ASSERT_EQ(::mkfifo(context.c_str(), 0600), 0);
  status =
      Promptly([&] { return MatrixMarketSequence::Create(dir_.string(), 1).status(); }, context);
  EXPECT_THAT(status.message(), HasSubstr(context + ": not a regular file (a FIFO)"));

  fs::create_symlink("/dev/zero", Path("zero.mtx"));
  status = Promptly([&] { return ReadStatus(Path("zero.mtx")); });
  EXPECT_THAT(status.message(),
              HasSubstr(Path("zero.mtx") + ": not a regular file (a character device)"));
  fs::create_directory(Path("dir.mtx"));
  EXPECT_THAT(ReadStatus(Path("dir.mtx")).message(),
              HasSubstr(Path("dir.mtx") + ": not a regular file (a directory)"));
}

TEST_F(MatrixMarketTest, ADirectoryWithTooManyMatrixFilesIsRefusedWhenListed) {
  for (size_t i = 0; i <= kMaxMatrixMarketFiles; ++i) {
    std::ofstream(Path("A_" + std::to_string(i) + ".mtx"));
  }
  const absl::Status status = MatrixMarketSequence::Create(dir_.string(), 1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(dir_.string() + ": more than 10000 A_*.mtx files"));
}

TEST_F(MatrixMarketTest, DirectorySequenceReadsInstancesInNameOrder) {
  ASSERT_TRUE(WriteMatrixMarket(Path("A_0002.mtx"), ShiftedLaplacian(3, 0.2)).ok());
  ASSERT_TRUE(WriteMatrixMarket(Path("A_0001.mtx"), ShiftedLaplacian(3, 0.1)).ok());
  ASSERT_TRUE(WriteMatrixMarket(Path("b_0001.mtx"), Eigen::VectorXd::Ones(9).eval()).ok());
  Write("context.txt", "# shift per instance\n0.1\n\n0.2\n");
  Write("notes.txt", "ignored");
  auto sequence = *MatrixMarketSequence::Create(dir_.string(), 5);
  EXPECT_EQ(sequence->size(), 2u);
  EXPECT_EQ(sequence->ContextRange(), std::make_pair(0.1, 0.2));
  const LinearSystem first = *sequence->Next();
  EXPECT_DOUBLE_EQ(first.a.coeff(0, 0), 4.1);
  EXPECT_EQ(first.b, Eigen::VectorXd::Ones(9));
  EXPECT_DOUBLE_EQ(first.context, 0.1);
  const LinearSystem second = *sequence->Next();
  EXPECT_DOUBLE_EQ(second.a.coeff(0, 0), 4.2);
  EXPECT_LE(second.b.squaredNorm(), 9.0);  // generated, truncated Gaussian
  EXPECT_TRUE(sequence->Done());
  EXPECT_EQ(sequence->Next().status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(MatrixMarketTest, DirectorySequenceReportsBadManifestAndBadFiles) {
  ASSERT_TRUE(WriteMatrixMarket(Path("A_1.mtx"), ShiftedLaplacian(2, 0.0)).ok());
  Write("context.txt", "0.5\nabc\n");
  EXPECT_THAT(MatrixMarketSequence::Create(dir_.string(), 1).status().message(),
              HasSubstr("context.txt:2: expected one number"));
  Write("context.txt", "0.5\n0.6\n");
  EXPECT_THAT(MatrixMarketSequence::Create(dir_.string(), 1).status().message(),
              HasSubstr("2 contexts for 1 A_*.mtx files"));
  fs::remove(Path("context.txt"));
  Write("b_1.mtx", "%%MatrixMarket matrix array real general\n4 1\n1\n2\n3\nfour\n");
  auto sequence = *MatrixMarketSequence::Create(dir_.string(), 1);
  EXPECT_THAT(sequence->Next().status().message(), HasSubstr(Path("b_1.mtx") + ":6:"));
  EXPECT_THAT(MatrixMarketSequence::Create(Path("nope"), 1).status().message(),
              HasSubstr("cannot list directory"));
}

}  // namespace
}  // namespace evolv
