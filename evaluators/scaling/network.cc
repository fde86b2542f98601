#include "evaluators/scaling/network.h"

#include "absl/strings/str_cat.h"

namespace evolv {

std::string DescribeNetwork(const NetworkSpec& net) {
  std::string out = absl::StrCat("stem ", net.stem_width, " |");
  for (const StageSpec& stage : net.stages) {
    absl::StrAppend(&out, " ", stage.depth, "x", stage.width);
    if (stage.stride != 1) absl::StrAppend(&out, "/", stage.stride);
  }
  absl::StrAppend(&out, " | ", net.resolution, "px");
  return out;
}

}  // namespace evolv
