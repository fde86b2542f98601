// The status page's files (web/assets), embedded at build time by web/embed_assets.cmake so
// evolvd serves its page with no files on disk and no internet.
#pragma once

#include <cstddef>

namespace evolv {

struct WebAsset {
  const char* path;          // "/index.html"
  const char* content_type;  // for the Content-Type header
  const unsigned char* data;
  size_t size;
};

extern const WebAsset kWebAssets[];
extern const size_t kWebAssetCount;

}  // namespace evolv
