#include "evaluators/common/png_image.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/png_decode.h"

namespace evolv {
namespace {

Image Filled(int width, int height, int channels, uint8_t first) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.resize(static_cast<size_t>(width) * height * channels);
  for (size_t i = 0; i < image.pixels.size(); ++i)
    image.pixels[i] = static_cast<uint8_t>(first + i);
  return image;
}

TEST(PngImageTest, GrayAndRgbImagesDecodeBackToTheSamePixels) {
  for (int channels : {1, 3}) {
    const Image image = Filled(7, 5, channels, 10);
    auto png = EncodePng(image);
    ASSERT_TRUE(png.ok()) << png.status();
    EXPECT_EQ(png->substr(1, 3), "PNG");
    auto decoded = testing::DecodePng(*png);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->width, 7);
    EXPECT_EQ(decoded->height, 5);
    EXPECT_EQ(decoded->channels, channels);
    EXPECT_EQ(decoded->pixels, image.pixels);
  }
}

TEST(PngImageTest, EqualImagesGiveEqualBytes) {
  const Image image = Filled(16, 16, 1, 0);
  EXPECT_EQ(EncodePng(image).value(), EncodePng(image).value());
}

TEST(PngImageTest, BadSizesAreRefusedNamingWhatIsWrong) {
  struct Case {
    Image image;
    const char* message;
  };
  Image short_pixels = Filled(4, 4, 1, 0);
  short_pixels.pixels.pop_back();
  const Case cases[] = {
      {Filled(1, 1, 1, 0), nullptr},
      {Image{0, 4, 1, {}}, "image: 0 x 4 pixels"},
      {Image{4, -1, 1, {}}, "image: 4 x -1 pixels"},
      {Image{kMaxImageSide + 1, 1, 1, {}}, "each side must be 1..4096"},
      {Image{2, 2, 2, std::vector<uint8_t>(8)}, "image: 2 channels"},
      {short_pixels, "image: 15 pixel bytes for 4 x 4 x 1 (16 expected)"},
  };
  for (const Case& c : cases) {
    auto png = EncodePng(c.image);
    if (c.message == nullptr) {
      EXPECT_TRUE(png.ok()) << png.status();
      continue;
    }
    ASSERT_FALSE(png.ok()) << c.message;
    EXPECT_EQ(png.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(png.status().message().find(c.message), std::string::npos) << png.status();
  }
}

TEST(PngImageTest, TheLargestImageEncodes) {
  const Image image = Filled(kMaxImageSide, 2, 1, 0);
  auto png = EncodePng(image);
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(testing::DecodePng(*png)->width, kMaxImageSide);
}

TEST(PngImageTest, GrayImageMapsTheRangeLinearlyAndClamps) {
  auto image = GrayImage(3, 2, {-1.0, 0.0, 1.0, -5.0, 7.0, NAN}, -1.0, 1.0);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{0, 128, 255, 0, 255, 0}));

  EXPECT_EQ(GrayImage(3, 2, {0.0}, 0, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(GrayImage(1, 1, {0.0}, 1, 1).status().message().find("lo, hi"), std::string::npos);
  EXPECT_FALSE(GrayImage(1, 1, {0.0}, 0, INFINITY).ok());
  EXPECT_FALSE(GrayImage(0, 1, {}, 0, 1).ok());
}

TEST(PngImageTest, TilesAreLaidOutRowByRowWithSeparators) {
  // Three 2x1 tiles in a 2x2 grid with a 1 px separator: 5 x 3 pixels, the fourth cell blank.
  const std::vector<Image> tiles = {Image{2, 1, 1, {1, 2}}, Image{2, 1, 1, {3, 4}},
                                    Image{2, 1, 1, {5, 6}}};
  auto grid = TileImages(tiles, 2, 2, 1, 9);
  ASSERT_TRUE(grid.ok()) << grid.status();
  EXPECT_EQ(grid->width, 5);
  EXPECT_EQ(grid->height, 3);
  EXPECT_EQ(grid->pixels, (std::vector<uint8_t>{1, 2, 9, 3, 4,  //
                                                9, 9, 9, 9, 9,  //
                                                5, 6, 9, 9, 9}));
  auto png = EncodePng(*grid);
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(testing::DecodePng(*png)->pixels, grid->pixels);
}

TEST(PngImageTest, BadGridsAreRefused) {
  const Image tile = Filled(4, 4, 1, 0);
  EXPECT_NE(TileImages({}, 1, 1).status().message().find("tiles: none"), std::string::npos);
  EXPECT_NE(TileImages({tile, tile, tile}, 1, 2).status().message().find("3 tiles for 1 x 2"),
            std::string::npos);
  EXPECT_NE(TileImages({tile}, 0, 1).status().message().find("rows, cols"), std::string::npos);
  EXPECT_NE(TileImages({tile}, 1, 1, 3).status().message().find("separator"), std::string::npos);
  EXPECT_NE(TileImages({tile, Filled(4, 5, 1, 0)}, 1, 2).status().message().find("tiles[1]"),
            std::string::npos);
  // 1000 tiles of 4 px plus separators: wider than 4096.
  EXPECT_NE(TileImages({tile}, 1, 1000).status().message().find("the grid would be 4999 x 4"),
            std::string::npos);
}

}  // namespace
}  // namespace evolv
