#include "evaluators/common/idx_images.h"

#include <sys/stat.h>
#include <xxhash.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "evaluators/common/input_file.h"

namespace evolv {
namespace {

constexpr int64_t kReadChunk = 1 << 20;

uint32_t BigEndian(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// The decompressed bytes of a file held whole in memory: gzip (one or more members, trailing
// bytes after them ignored as zlib's gzread does) or plain.
class IdxStream {
 public:
  explicit IdxStream(std::string raw) : raw_(std::move(raw)) {
    gzip_ = raw_.size() >= 2 && static_cast<uint8_t>(raw_[0]) == 0x1f &&
            static_cast<uint8_t>(raw_[1]) == 0x8b;
    if (gzip_) {
      std::memset(&zs_, 0, sizeof(zs_));
      zs_.next_in = reinterpret_cast<Bytef*>(raw_.data());
      zs_.avail_in = 0;  // fed in chunks below: avail_in is 32 bits
      open_ = inflateInit2(&zs_, 15 + 16) == Z_OK;
      failed_ = !open_;
    }
  }
  ~IdxStream() {
    if (open_) inflateEnd(&zs_);
  }
  IdxStream(const IdxStream&) = delete;
  IdxStream& operator=(const IdxStream&) = delete;

  // Reads up to `n` bytes into `out`; the count read (less than n at the end), or -1 when the
  // gzip stream is corrupt.
  int64_t Read(uint8_t* out, int64_t n) {
    if (!gzip_) {
      const int64_t got = std::min<int64_t>(n, static_cast<int64_t>(raw_.size() - at_));
      std::memcpy(out, raw_.data() + at_, static_cast<size_t>(got));
      at_ += static_cast<size_t>(got);
      return got;
    }
    int64_t total = 0;
    while (total < n && !ended_) {
      if (failed_) return -1;
      if (zs_.avail_in == 0) {
        const size_t fed = static_cast<size_t>(zs_.next_in - reinterpret_cast<Bytef*>(raw_.data()));
        zs_.avail_in = static_cast<uInt>(std::min<size_t>(kReadChunk, raw_.size() - fed));
      }
      const uInt want = static_cast<uInt>(std::min<int64_t>(n - total, kReadChunk));
      zs_.next_out = out + total;
      zs_.avail_out = want;
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      total += want - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        // Another member may follow; anything else after the first member is ignored.
        const size_t used =
            static_cast<size_t>(zs_.next_in - reinterpret_cast<Bytef*>(raw_.data()));
        const bool member = raw_.size() - used >= 2 && static_cast<uint8_t>(raw_[used]) == 0x1f &&
                            static_cast<uint8_t>(raw_[used + 1]) == 0x8b;
        if (!member || inflateReset(&zs_) != Z_OK) ended_ = true;
      } else if (rc != Z_OK) {
        // Z_BUF_ERROR with all input consumed: a truncated stream.
        failed_ = true;
      }
    }
    return total;
  }

 private:
  std::string raw_;
  size_t at_ = 0;  // plain: the next byte
  bool gzip_ = false;
  bool open_ = false;
  bool ended_ = false;
  bool failed_ = false;
  z_stream zs_;
};

struct IdxContent {
  int count = 0;
  int rows = 1;
  int cols = 1;
  std::vector<uint8_t> bytes;
  uint64_t hash = 0;
};

// Reads an idx file of `dimensions` (3: images, 1: labels).
absl::StatusOr<IdxContent> ReadIdx(const std::string& path, int dimensions, int max_count,
                                   const std::string& field) {
  auto refuse = [&](const std::string& reason) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' ", reason));
  };
  if (max_count < 1) return refuse(absl::StrCat("cannot hold ", max_count, " items"));
  const int64_t header_bytes = 4 + 4 * int64_t{dimensions};
  // The largest plain file the limits allow, and room for gzip's overhead on data that does not
  // compress (deflate's stored blocks: 5 bytes per 64 KiB, a header and a trailer).
  const int64_t most_plain =
      header_bytes + int64_t{max_count} * (dimensions == 3 ? kMaxIdxPixels : 1);
  const int64_t most_bytes = most_plain + most_plain / 256 + 4096;
  auto file = InputFile::Open(path, field);
  if (!file.ok()) return file.status();
  if ((*file)->size() > static_cast<uint64_t>(most_bytes)) {
    return refuse(
        absl::StrCat("holds ", (*file)->size(), " bytes; the limits allow at most ", most_bytes));
  }
  auto raw = (*file)->ReadRest();
  if (!raw.ok()) return raw.status();
  IdxStream stream(*std::move(raw));

  uint8_t header[16];
  if (stream.Read(header, header_bytes) != header_bytes) {
    return refuse("is shorter than its header");
  }
  const uint32_t magic = BigEndian(header);
  if (magic != (0x800u | static_cast<uint32_t>(dimensions))) {
    return refuse(absl::StrFormat("is not an idx file of %s (magic 0x%08x)",
                                  dimensions == 3 ? "images" : "labels", magic));
  }
  IdxContent data;
  const uint32_t count = BigEndian(header + 4);
  if (count == 0 || count > static_cast<uint32_t>(max_count)) {
    return refuse(absl::StrCat("holds ", count, " items; the limit is ", max_count));
  }
  data.count = static_cast<int>(count);
  if (dimensions == 3) {
    const uint32_t rows = BigEndian(header + 8), cols = BigEndian(header + 12);
    if (rows == 0 || cols == 0 || uint64_t{rows} * cols > static_cast<uint64_t>(kMaxIdxPixels)) {
      return refuse(absl::StrCat("has images of ", rows, " x ", cols, "; the limit is ",
                                 kMaxIdxPixels, " pixels"));
    }
    data.rows = static_cast<int>(rows);
    data.cols = static_cast<int>(cols);
  }
  // Grow in chunks: memory follows what the file really holds, not what its header claims.
  const int64_t expected = int64_t{data.count} * data.rows * data.cols;
  while (static_cast<int64_t>(data.bytes.size()) < expected) {
    const int64_t have = static_cast<int64_t>(data.bytes.size());
    const int64_t want = std::min<int64_t>(kReadChunk, expected - have);
    data.bytes.resize(static_cast<size_t>(have + want));
    const int64_t got = stream.Read(data.bytes.data() + have, want);
    if (got < 0) return refuse("cannot be read (corrupt gzip?)");
    if (got < want) {
      return refuse(
          absl::StrCat("holds ", have + got, " bytes of data; its header says ", expected));
    }
  }
  data.hash = XXH3_64bits_withSeed(data.bytes.data(), data.bytes.size(),
                                   XXH3_64bits(header, static_cast<size_t>(header_bytes)));
  return data;
}

// Moves a read's value into `out`, or returns its error.
template <typename T>
absl::Status Take(absl::StatusOr<T> read, T* out) {
  if (!read.ok()) return read.status();
  *out = *std::move(read);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path, int max_count,
                                        const std::string& field) {
  auto read = ReadIdx(path, 3, max_count, field);
  if (!read.ok()) return read.status();
  IdxImages images;
  images.count = read->count;
  images.rows = read->rows;
  images.cols = read->cols;
  images.pixels = std::move(read->bytes);
  images.hash = read->hash;
  return images;
}

absl::StatusOr<IdxLabels> ReadIdxLabels(const std::string& path, int max_count,
                                        const std::string& field) {
  auto read = ReadIdx(path, 1, max_count, field);
  if (!read.ok()) return read.status();
  IdxLabels labels;
  labels.count = read->count;
  labels.labels = std::move(read->bytes);
  labels.hash = read->hash;
  return labels;
}

std::string IdxFilePath(const std::string& directory, const std::string& name) {
  const std::string plain = directory + "/" + name;
  struct stat st;
  if (::stat(plain.c_str(), &st) == 0) return plain;
  return plain + ".gz";
}

absl::StatusOr<IdxDataset> ReadIdxDataset(const std::string& directory, int max_count,
                                          const std::string& field) {
  IdxDataset data;
  // "train" or "t10k": its images, then its labels.
  auto read_part = [&](const std::string& part, IdxImages* images, IdxLabels* labels) {
    absl::Status s =
        Take(ReadIdxImages(IdxFilePath(directory, part + "-images-idx3-ubyte"), max_count, field),
             images);
    if (!s.ok()) return s;
    return Take(
        ReadIdxLabels(IdxFilePath(directory, part + "-labels-idx1-ubyte"), max_count, field),
        labels);
  };
  if (absl::Status s = read_part("train", &data.train_images, &data.train_labels); !s.ok())
    return s;
  if (absl::Status s = read_part("t10k", &data.test_images, &data.test_labels); !s.ok()) return s;
  if (data.train_labels.count != data.train_images.count ||
      data.test_labels.count != data.test_images.count) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the label files do not match the image files' counts"));
  }
  if (data.test_images.rows != data.train_images.rows ||
      data.test_images.cols != data.train_images.cols) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": test and training images differ in size"));
  }
  return data;
}

}  // namespace evolv
