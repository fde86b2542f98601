// Test-side PNG decoding through libpng's simplified API: what a browser or image viewer would
// see in the bytes evolv's encoder (evaluators/common/png_image.h) wrote. Link PNG::PNG.
#pragma once

#include <png.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace evolv::testing {

struct DecodedPng {
  int width = 0;
  int height = 0;
  int channels = 0;             // of the file: 1 gray, 3 RGB, ...
  std::vector<uint8_t> pixels;  // in the file's own format, row-major
};

// The decoded image, or nullopt when `bytes` is not a PNG libpng reads.
inline std::optional<DecodedPng> DecodePng(const std::string& bytes) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) return std::nullopt;
  DecodedPng out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.channels = static_cast<int>(PNG_IMAGE_PIXEL_CHANNELS(image.format));
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    return std::nullopt;
  }
  return out;
}

}  // namespace evolv::testing
