// idx files (LeCun's MNIST format, also Fashion-MNIST's): images (magic 0x00000803: count, rows,
// cols, then one byte per pixel, row-major) and labels (0x00000801: count, then one byte each),
// plain or gzip, as image datasets of several domains ship them.
//
// Files are opened through InputFile (regular files only: FIFOs, devices and directories are
// refused without a read) and every size is bounded before it is trusted: a file larger than
// max_count items of kMaxIdxPixels pixels could be is refused before it is read, a header
// claiming more than `max_count` items or images of more than kMaxIdxPixels pixels is refused,
// and the decompressed data grows with what the file really holds, not with what its header
// claims.
//
// Errors: InvalidArgument "FIELD: 'PATH' REASON", FIELD being the spec field that named the file
// (InputFile's wording for a file that cannot be read or is not regular; "is shorter than its
// header", "is not an idx file of images (magic 0x...)", "holds N items; the limit is M", "has
// images of R x C; the limit is 4096 pixels", "holds N bytes of data; its header says M",
// "cannot be read (corrupt gzip?)").
// Thread-safety: free functions without shared state; safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace evolv {

inline constexpr int kMaxIdxPixels = 4096;  // rows * cols of one image, e.g. 64 x 64

struct IdxImages {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols, image after image, row-major
  // xxh3-64 of the decompressed data, seeded with the xxh3-64 of the header: what identifies the
  // content whether the file is plain or gzip.
  uint64_t hash = 0;
};

struct IdxLabels {
  int count = 0;
  std::vector<uint8_t> labels;  // count
  uint64_t hash = 0;            // as IdxImages::hash
};

// Reads `path` (plain or gzip) as an idx file of images holding 1..max_count images.
absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path, int max_count,
                                        const std::string& field);
// Reads `path` (plain or gzip) as an idx file of labels holding 1..max_count labels.
absl::StatusOr<IdxLabels> ReadIdxLabels(const std::string& path, int max_count,
                                        const std::string& field);

// `directory`/`name`, or `directory`/`name`.gz when only that exists (Debian ships the .gz files;
// other copies are unpacked).
std::string IdxFilePath(const std::string& directory, const std::string& name);

// An MNIST-style dataset: train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or .gz) in one directory.
struct IdxDataset {
  IdxImages train_images;
  IdxLabels train_labels;
  IdxImages test_images;
  IdxLabels test_labels;
};

// Reads the four files of `directory`, each of at most `max_count` items, in the order above.
// Besides the errors of ReadIdxImages and ReadIdxLabels: "FIELD: the label files do not match the
// image files' counts", "FIELD: test and training images differ in size".
absl::StatusOr<IdxDataset> ReadIdxDataset(const std::string& directory, int max_count,
                                          const std::string& field);

}  // namespace evolv
