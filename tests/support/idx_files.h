// idx files for tests: headers and data written plain or gzip, and a small synthetic labelled
// image dataset in the layout of Fashion-MNIST (evaluators/common/idx_images.h reads it).
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "search/rng.h"

namespace evolv {

inline void PutBigEndian(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

// An idx file of `dimensions` (3: images of rows x cols, 1: labels) holding `count` items.
inline std::string IdxBytes(int dimensions, uint32_t count, const std::vector<uint8_t>& data,
                            uint32_t rows, uint32_t cols) {
  std::string out;
  PutBigEndian(&out, 0x800u | static_cast<uint32_t>(dimensions));
  PutBigEndian(&out, count);
  if (dimensions == 3) {
    PutBigEndian(&out, rows);
    PutBigEndian(&out, cols);
  }
  out.append(data.begin(), data.end());
  return out;
}

inline void WritePlain(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
}

inline void WriteGzip(const std::string& path, const std::string& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
}

// Three classes of side x side images (a horizontal bar, a vertical bar, a diagonal) with noise;
// the training files gzip, the test files plain, as Debian and other copies ship them.
inline void WriteSyntheticDataset(const std::string& dir, int train, int test, uint64_t seed = 1,
                                  int side = 8) {
  Rng rng(seed);
  auto make = [&](int n, std::vector<uint8_t>* images, std::vector<uint8_t>* labels) {
    for (int j = 0; j < n; ++j) {
      const int c = static_cast<int>(rng.Below(3));
      const int at = 2 + static_cast<int>(rng.Below(static_cast<uint64_t>(side - 4)));
      labels->push_back(static_cast<uint8_t>(c));
      for (int y = 0; y < side; ++y) {
        for (int x = 0; x < side; ++x) {
          const bool on = c == 0 ? y == at : c == 1 ? x == at : x == y;
          const double v = (on ? 220 : 30) + 20 * rng.Normal();
          images->push_back(static_cast<uint8_t>(std::clamp(v, 0.0, 255.0)));
        }
      }
    }
  };
  std::vector<uint8_t> train_images, train_labels, test_images, test_labels;
  make(train, &train_images, &train_labels);
  make(test, &test_images, &test_labels);
  const uint32_t s = static_cast<uint32_t>(side);
  WriteGzip(dir + "/train-images-idx3-ubyte.gz", IdxBytes(3, train, train_images, s, s));
  WriteGzip(dir + "/train-labels-idx1-ubyte.gz", IdxBytes(1, train, train_labels, 1, 1));
  WritePlain(dir + "/t10k-images-idx3-ubyte", IdxBytes(3, test, test_images, s, s));
  WritePlain(dir + "/t10k-labels-idx1-ubyte", IdxBytes(1, test, test_labels, 1, 1));
}

}  // namespace evolv
