// InputFile: lines and byte accounting, a last line without its newline, reading no further than
// the size at open, the rest of a file read whole, and refusals worded with and without a spec
// field (matrix_market_test checks the refusals of FIFOs, devices and endless lines through the
// Matrix Market reader).
#include "evaluators/common/input_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

TEST(InputFileTest, LinesComeWithoutNewlinesAndRemainingCountsWhatIsLeft) {
  TempDir dir;
  std::ofstream(dir.Sub("f")) << "ab\n\ncde";  // 7 bytes, the last line without '\n'
  auto file = InputFile::Open(dir.Sub("f"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->size(), 7u);
  std::string line;
  ASSERT_TRUE((*file)->NextLine(line));
  EXPECT_EQ(line, "ab");
  EXPECT_EQ((*file)->remaining(), 4u);
  ASSERT_TRUE((*file)->NextLine(line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE((*file)->NextLine(line));
  EXPECT_EQ(line, "cde");
  EXPECT_EQ((*file)->line_number(), 3);
  EXPECT_EQ((*file)->remaining(), 0u);
  EXPECT_FALSE((*file)->NextLine(line));
  EXPECT_TRUE((*file)->status().ok());
}

TEST(InputFileTest, AFileThatGrowsAfterOpenIsReadToItsSizeAtOpen) {
  TempDir dir;
  std::ofstream(dir.Sub("f")) << "1\n2\n";
  auto file = InputFile::Open(dir.Sub("f"));
  ASSERT_TRUE(file.ok()) << file.status();
  std::ofstream(dir.Sub("f"), std::ios::app) << "3\n4\n";
  std::string line, lines;
  while ((*file)->NextLine(line)) lines += line;
  EXPECT_EQ(lines, "12");
  EXPECT_TRUE((*file)->status().ok());
}

TEST(InputFileTest, AMissingFileAndALongLineAreInvalidArgumentNamingThePath) {
  TempDir dir;
  const absl::Status missing = InputFile::Open(dir.Sub("nope")).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.message().rfind(dir.Sub("nope") + ": cannot open for reading (", 0), 0u)
      << missing;
  std::ofstream(dir.Sub("long")) << "ok\n" << std::string(kMaxInputLineBytes + 1, 'x') << "\n";
  auto file = InputFile::Open(dir.Sub("long"));
  ASSERT_TRUE(file.ok()) << file.status();
  std::string line;
  ASSERT_TRUE((*file)->NextLine(line));
  EXPECT_FALSE((*file)->NextLine(line));
  EXPECT_EQ((*file)->status().message(), dir.Sub("long") + ":2: line longer than 1048576 bytes");
  // A line of exactly the limit is accepted.
  std::ofstream(dir.Sub("edge")) << std::string(kMaxInputLineBytes, 'x');
  auto edge = InputFile::Open(dir.Sub("edge"));
  ASSERT_TRUE(edge.ok()) << edge.status();
  ASSERT_TRUE((*edge)->NextLine(line));
  EXPECT_EQ(line.size(), kMaxInputLineBytes);
}

TEST(InputFileTest, ReadRestReturnsTheBytesLinesLeftUpToTheSizeAtOpen) {
  TempDir dir;
  // Binary bytes (NULs, no final newline) over several read chunks.
  std::string body(200000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 % 256);
  std::ofstream(dir.Sub("f"), std::ios::binary) << "head\n" << body;
  auto file = InputFile::Open(dir.Sub("f"));
  ASSERT_TRUE(file.ok()) << file.status();
  std::string line;
  ASSERT_TRUE((*file)->NextLine(line));
  EXPECT_EQ(line, "head");
  std::ofstream(dir.Sub("f"), std::ios::app) << "grown after open";
  absl::StatusOr<std::string> rest = (*file)->ReadRest();
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, body);
  EXPECT_EQ((*file)->remaining(), 0u);
  EXPECT_FALSE((*file)->NextLine(line));
  EXPECT_TRUE((*file)->status().ok());
}

TEST(InputFileTest, ASpecFieldThatNamedTheFileStartsItsErrors) {
  TempDir dir;
  const std::string fifo = dir.Sub("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(InputFile::Open(fifo, "x.model").status().message(),
            "x.model: '" + fifo + "' is not a regular file (a FIFO)");
  EXPECT_EQ(InputFile::Open(fifo).status().message(), fifo + ": not a regular file (a FIFO)");
  EXPECT_EQ(InputFile::Open(dir.Sub("nope"), "x.model").status().message(),
            "x.model: '" + dir.Sub("nope") + "' cannot be read (No such file or directory)");
  std::ofstream(dir.Sub("long")) << std::string(kMaxInputLineBytes + 1, 'x');
  auto file = InputFile::Open(dir.Sub("long"), "x.model");
  ASSERT_TRUE(file.ok()) << file.status();
  std::string line;
  EXPECT_FALSE((*file)->NextLine(line));
  EXPECT_EQ((*file)->status().message(),
            "x.model: '" + dir.Sub("long") + "' line 1 is longer than 1048576 bytes");
  EXPECT_EQ((*file)->ReadRest().status(), (*file)->status());
}

}  // namespace
}  // namespace evolv
