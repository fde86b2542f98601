// idx files read plain or gzip with every size bounded: the same content either way, headers that
// lie refused without allocating what they claim, files that are not regular refused at once, and
// a dataset directory read whole.
#include "evaluators/common/idx_images.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/support/idx_files.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

TEST(IdxImagesTest, ReadsPlainAndGzipFilesAlike) {
  TempDir dir;
  const std::vector<uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::string bytes = IdxBytes(3, 2, data, 2, 2);
  WritePlain(dir.Sub("plain"), bytes);
  WriteGzip(dir.Sub("packed.gz"), bytes);
  auto plain = ReadIdxImages(dir.Sub("plain"), 10, "f");
  auto packed = ReadIdxImages(dir.Sub("packed.gz"), 10, "f");
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(plain->count, 2);
  EXPECT_EQ(plain->rows, 2);
  EXPECT_EQ(plain->cols, 2);
  EXPECT_EQ(plain->pixels, data);
  EXPECT_EQ(packed->pixels, data);
  EXPECT_EQ(plain->hash, packed->hash);
  EXPECT_NE(plain->hash, 0u);
}

TEST(IdxImagesTest, ReadsLabelsAndGzipFilesOfSeveralMembers) {
  TempDir dir;
  const std::string bytes = IdxBytes(1, 6, {0, 1, 2, 3, 4, 5}, 1, 1);
  // Two gzip members back to back (what `cat a.gz b.gz` makes) are one stream.
  WriteGzip(dir.Sub("first.gz"), bytes.substr(0, 9));
  WriteGzip(dir.Sub("second.gz"), bytes.substr(9));
  std::ifstream first(dir.Sub("first.gz"), std::ios::binary),
      second(dir.Sub("second.gz"), std::ios::binary);
  std::string joined((std::istreambuf_iterator<char>(first)), std::istreambuf_iterator<char>());
  joined.append(std::istreambuf_iterator<char>(second), std::istreambuf_iterator<char>());
  WritePlain(dir.Sub("joined.gz"), joined);
  auto labels = ReadIdxLabels(dir.Sub("joined.gz"), 6, "f");
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->count, 6);
  EXPECT_EQ(labels->labels, (std::vector<uint8_t>{0, 1, 2, 3, 4, 5}));
  // Images are not labels.
  WritePlain(dir.Sub("images"), IdxBytes(3, 1, std::vector<uint8_t>(4), 2, 2));
  auto wrong = ReadIdxLabels(dir.Sub("images"), 6, "f");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("is not an idx file of labels (magic 0x00000803)"),
            std::string::npos)
      << wrong.status();
}

TEST(IdxImagesTest, RefusesFilesWhoseHeadersLieOrThatAreNotFiles) {
  TempDir dir;
  auto message = [&](const std::string& name) {
    auto read = ReadIdxImages(dir.Sub(name), 1000, "diffusion.images.directory");
    EXPECT_FALSE(read.ok()) << name;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(read.status().message().rfind("diffusion.images.directory: '", 0), 0u)
        << read.status();
    return std::string(read.status().message());
  };
  // A header claiming 1,000 images of 64 x 64 over 10 bytes: refused at the end of the data,
  // without allocating what the header claims.
  WritePlain(dir.Sub("short"), IdxBytes(3, 1000, std::vector<uint8_t>(10), 64, 64));
  EXPECT_NE(message("short").find("holds 10 bytes of data; its header says 4096000"),
            std::string::npos)
      << message("short");
  // The same, gzip, and a gzip stream cut short.
  WriteGzip(dir.Sub("short.gz"), IdxBytes(3, 1000, std::vector<uint8_t>(10), 64, 64));
  EXPECT_NE(message("short.gz").find("holds 10 bytes of data"), std::string::npos);
  WriteGzip(dir.Sub("whole.gz"), IdxBytes(3, 4, std::vector<uint8_t>(4 * 64, 7), 8, 8));
  std::filesystem::resize_file(dir.Sub("whole.gz"),
                               std::filesystem::file_size(dir.Sub("whole.gz")) - 12);
  EXPECT_NE(message("whole.gz").find("corrupt gzip"), std::string::npos) << message("whole.gz");
  WritePlain(dir.Sub("many"), IdxBytes(3, 2000000000u, std::vector<uint8_t>(64), 8, 8));
  EXPECT_NE(message("many").find("holds 2000000000 items; the limit is 1000"), std::string::npos);
  WritePlain(dir.Sub("huge"), IdxBytes(3, 1, std::vector<uint8_t>(64), 100000, 100000));
  EXPECT_NE(message("huge").find("images of 100000 x 100000"), std::string::npos);
  // A file larger than 1,000 images of the largest size could be: refused before it is read.
  WritePlain(dir.Sub("large"), std::string(1000 * kMaxIdxPixels * 11 / 10, '\0'));
  EXPECT_NE(message("large").find("the limits allow at most"), std::string::npos);
  WritePlain(dir.Sub("labels"), IdxBytes(1, 64, std::vector<uint8_t>(64), 1, 1));
  EXPECT_NE(message("labels").find("is not an idx file of images (magic 0x00000801)"),
            std::string::npos);
  WritePlain(dir.Sub("tiny"), std::string("\x00\x00", 2));
  EXPECT_NE(message("tiny").find("shorter than its header"), std::string::npos);
  EXPECT_NE(message("missing").find("cannot be read (No such file"), std::string::npos);
  // A FIFO is refused at once (nobody writes to it), and so is a device behind a link.
  ASSERT_EQ(mkfifo(dir.Sub("fifo").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NE(message("fifo").find("is not a regular file (a FIFO)"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  std::filesystem::create_symlink("/dev/zero", dir.Sub("zero"));
  EXPECT_NE(message("zero").find("is not a regular file"), std::string::npos);
  std::filesystem::create_directory(dir.Sub("folder"));
  EXPECT_NE(message("folder").find("is not a regular file"), std::string::npos);
}

TEST(IdxDatasetTest, ReadsTheFourFilesPlainOrGzip) {
  TempDir dir;
  WriteSyntheticDataset(dir.path(), 30, 12);
  auto data = ReadIdxDataset(dir.path(), 100, "scaling.data.directory");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->train_images.count, 30);
  EXPECT_EQ(data->train_images.rows, 8);
  EXPECT_EQ(data->train_images.pixels.size(), 30u * 64);
  EXPECT_EQ(data->train_labels.count, 30);
  EXPECT_EQ(data->test_images.count, 12);
  EXPECT_EQ(data->test_labels.labels.size(), 12u);
  for (uint8_t label : data->train_labels.labels) EXPECT_LT(label, 3);
  EXPECT_EQ(IdxFilePath(dir.path(), "t10k-images-idx3-ubyte"), dir.Sub("t10k-images-idx3-ubyte"));
  EXPECT_EQ(IdxFilePath(dir.path(), "train-images-idx3-ubyte"),
            dir.Sub("train-images-idx3-ubyte.gz"));
}

TEST(IdxDatasetTest, RefusesMissingOrMismatchedFilesNamingTheField) {
  TempDir dir;
  WriteSyntheticDataset(dir.path(), 30, 12);
  auto too_many = ReadIdxDataset(dir.path(), 20, "scaling.data.directory");
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("holds 30 items; the limit is 20"), std::string::npos);
  WritePlain(dir.Sub("t10k-labels-idx1-ubyte"), IdxBytes(1, 11, std::vector<uint8_t>(11), 1, 1));
  auto mismatched = ReadIdxDataset(dir.path(), 100, "scaling.data.directory");
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.status().message(),
            "scaling.data.directory: the label files do not match the image files' counts");
  std::filesystem::remove(dir.Sub("t10k-labels-idx1-ubyte"));
  auto missing = ReadIdxDataset(dir.path(), 100, "scaling.data.directory");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message().rfind("scaling.data.directory: '", 0), 0u)
      << missing.status();
  EXPECT_NE(missing.status().message().find("t10k-labels-idx1-ubyte.gz' cannot be read"),
            std::string::npos);
}

}  // namespace
}  // namespace evolv
