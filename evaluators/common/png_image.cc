#include "evaluators/common/png_image.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace evolv {
namespace {

absl::Status CheckSize(const std::string& what, int width, int height) {
  if (width < 1 || width > kMaxImageSide || height < 1 || height > kMaxImageSide) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": ", width, " x ", height, " pixels; each side must be 1..", kMaxImageSide));
  }
  return absl::OkStatus();
}

absl::Status CheckImage(const std::string& what, const Image& image) {
  if (absl::Status s = CheckSize(what, image.width, image.height); !s.ok()) return s;
  if (image.channels != 1 && image.channels != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", image.channels, " channels; must be 1 (gray) or 3 (RGB)"));
  }
  const size_t expected = static_cast<size_t>(image.width) * image.height * image.channels;
  if (image.pixels.size() != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", image.pixels.size(), " pixel bytes for ", image.width, " x ",
                     image.height, " x ", image.channels, " (", expected, " expected)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const Image& image) {
  if (absl::Status s = CheckImage("image", image); !s.ok()) return s;
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  // First the size the file needs (memory == nullptr), then the file itself.
  png_alloc_size_t bytes = 0;
  if (!png_image_write_to_memory(&png, nullptr, &bytes, 0, image.pixels.data(), 0, nullptr)) {
    const std::string message = png.message;
    png_image_free(&png);
    return absl::InternalError("png: " + message);
  }
  std::string out(bytes, '\0');
  if (!png_image_write_to_memory(&png, out.data(), &bytes, 0, image.pixels.data(), 0, nullptr)) {
    const std::string message = png.message;
    png_image_free(&png);
    return absl::InternalError("png: " + message);
  }
  out.resize(bytes);
  return out;
}

absl::StatusOr<Image> GrayImage(int width, int height, const std::vector<double>& values, double lo,
                                double hi) {
  if (absl::Status s = CheckSize("image", width, height); !s.ok()) return s;
  if (values.size() != static_cast<size_t>(width) * height) {
    return absl::InvalidArgumentError(
        absl::StrCat("values: ", values.size(), " for ", width, " x ", height, " pixels"));
  }
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lo, hi: [", lo, ", ", hi, "] is not a finite, non-empty range"));
  }
  Image image;
  image.width = width;
  image.height = height;
  image.channels = 1;
  image.pixels.resize(values.size());
  const double scale = 255.0 / (hi - lo);
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    image.pixels[i] =
        std::isnan(v) ? 0
                      : static_cast<uint8_t>(std::lround(std::clamp((v - lo) * scale, 0.0, 255.0)));
  }
  return image;
}

absl::StatusOr<Image> TileImages(const std::vector<Image>& tiles, int rows, int cols, int separator,
                                 uint8_t separator_level) {
  if (tiles.empty()) return absl::InvalidArgumentError("tiles: none");
  if (rows < 1 || cols < 1 || rows > kMaxImageSide || cols > kMaxImageSide) {
    return absl::InvalidArgumentError(
        absl::StrCat("rows, cols: ", rows, " x ", cols, "; each must be 1..", kMaxImageSide));
  }
  if (tiles.size() > static_cast<size_t>(rows) * cols) {
    return absl::InvalidArgumentError(
        absl::StrCat("tiles: ", tiles.size(), " tiles for ", rows, " x ", cols, " cells"));
  }
  if (separator < 0 || separator > 2) {
    return absl::InvalidArgumentError(absl::StrCat("separator: ", separator, "; must be 0..2"));
  }
  const Image& first = tiles.front();
  if (absl::Status s = CheckImage("tiles[0]", first); !s.ok()) return s;
  for (size_t i = 1; i < tiles.size(); ++i) {
    const Image& t = tiles[i];
    if (t.width != first.width || t.height != first.height || t.channels != first.channels) {
      return absl::InvalidArgumentError(absl::StrCat("tiles[", i, "]: ", t.width, " x ", t.height,
                                                     " x ", t.channels, " differs from tiles[0] (",
                                                     first.width, " x ", first.height, " x ",
                                                     first.channels, ")"));
    }
    if (absl::Status s = CheckImage(absl::StrCat("tiles[", i, "]"), t); !s.ok()) return s;
  }
  // In 64 bits: rows * (height + separator) may overflow an int before it is checked.
  const int64_t width = int64_t{cols} * first.width + int64_t{cols - 1} * separator;
  const int64_t height = int64_t{rows} * first.height + int64_t{rows - 1} * separator;
  if (width > kMaxImageSide || height > kMaxImageSide) {
    return absl::InvalidArgumentError(absl::StrCat("rows, cols: the grid would be ", width, " x ",
                                                   height, " pixels; each side at most ",
                                                   kMaxImageSide));
  }
  Image grid;
  grid.width = static_cast<int>(width);
  grid.height = static_cast<int>(height);
  grid.channels = first.channels;
  grid.pixels.assign(static_cast<size_t>(width) * height * grid.channels, separator_level);
  const size_t tile_row_bytes = static_cast<size_t>(first.width) * first.channels;
  const size_t grid_row_bytes = static_cast<size_t>(grid.width) * grid.channels;
  for (size_t i = 0; i < tiles.size(); ++i) {
    const size_t x0 = (i % cols) * static_cast<size_t>(first.width + separator);
    const size_t y0 = (i / cols) * static_cast<size_t>(first.height + separator);
    for (int y = 0; y < first.height; ++y) {
      std::memcpy(&grid.pixels[(y0 + y) * grid_row_bytes + x0 * grid.channels],
                  &tiles[i].pixels[y * tile_row_bytes], tile_row_bytes);
    }
  }
  return grid;
}

}  // namespace evolv
