// 8-bit images and their PNG encoding (through libpng), for the figures a domain's report
// publishes (Problem::Figures in search/problem.h), plus the two steps a domain usually needs
// first: values to gray levels, and equally sized images tiled into one grid.
//
// Bounds: an image is 1..kMaxImageSide pixels on each side (4096) with 1 (gray) or 3 (RGB)
// channels, so one image holds at most 48 MiB of pixels; every size is checked before anything
// is allocated.
// Thread-safety: plain functions over values; safe from any thread.
// Errors: InvalidArgument naming the offending argument; Internal when libpng fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace evolv {

constexpr int kMaxImageSide = 4096;

// Row-major pixels, channels interleaved (gray: one byte a pixel; RGB: three).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 1;             // 1 or 3
  std::vector<uint8_t> pixels;  // width * height * channels bytes
};

// The PNG file of `image` (8 bits a channel, gray or RGB; no metadata, so equal images give
// equal bytes). InvalidArgument when a side is outside 1..kMaxImageSide, channels is not 1 or 3,
// or pixels has not width * height * channels bytes.
absl::StatusOr<std::string> EncodePng(const Image& image);

// A gray image of `values` (row-major, width * height of them): `lo` maps to 0 and `hi` to 255,
// linearly; values outside [lo, hi] are clamped and NaN is 0. InvalidArgument for a bad size, a
// count that does not match, or lo >= hi (or not finite).
absl::StatusOr<Image> GrayImage(int width, int height, const std::vector<double>& values, double lo,
                                double hi);

// `tiles` laid out in a grid of `rows` x `cols` cells, row by row, `separator` pixels (0..2) of
// `separator_level` between cells and none around the grid; cells past the last tile are
// `separator_level` too. Every tile must have the size and channels of the first.
// InvalidArgument for no tiles, more tiles than cells, rows or cols < 1, unequal tiles, a
// separator outside 0..2, or a grid larger than kMaxImageSide on a side.
absl::StatusOr<Image> TileImages(const std::vector<Image>& tiles, int rows, int cols,
                                 int separator = 1, uint8_t separator_level = 255);

}  // namespace evolv
