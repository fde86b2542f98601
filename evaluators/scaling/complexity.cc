#include "evaluators/scaling/complexity.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace evolv {
namespace {

// Python's round(): halves go to the even neighbour (the default FE_TONEAREST mode).
int64_t RoundHalfEven(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

int InnerWidth(const StageSpec& stage) {
  return static_cast<int>(RoundHalfEven(stage.width * stage.bottleneck_ratio));
}

int StemStride(StemKind stem) {
  switch (stem) {
    case StemKind::kResCifar:
      return 1;
    case StemKind::kSimple:
      return 2;
    case StemKind::kResImageNet:
      return 4;  // 7x7 conv stride 2, then 3x3 max pool stride 2
  }
  return 1;
}

// The running state of pycls's cx dict: spatial side and the three counts.
class Counter {
 public:
  explicit Counter(int resolution) : h_(resolution), w_(resolution) {}

  void Conv(int64_t c_in, int64_t c_out, int k, int stride = 1, int64_t groups = 1,
            bool bias = false) {
    h_ = (h_ - 1) / stride + 1;
    w_ = (w_ - 1) / stride + 1;
    groups = std::max<int64_t>(groups, 1);
    const int64_t hw = h_ * w_;
    cx_.flops += k * k * c_in * c_out * hw / groups + (bias ? c_out * hw : 0);
    cx_.params += k * k * c_in * c_out / groups + (bias ? c_out : 0);
    cx_.acts += c_out * hw;
    cx_.max_columns = std::max<int64_t>(cx_.max_columns, k * k * c_in * hw);
  }
  void Norm(int64_t c) { cx_.params += 2 * c; }
  void MaxPool(int64_t c, int stride) {
    h_ = (h_ - 1) / stride + 1;
    w_ = (w_ - 1) / stride + 1;
    cx_.acts += c * h_ * w_;
  }
  void GlobalAvgPool() { h_ = w_ = 1; }
  void Linear(int64_t c_in, int64_t c_out) {
    cx_.flops += c_in * c_out + c_out;
    cx_.params += c_in * c_out + c_out;
    cx_.acts += c_out;
  }
  // A branch (projection, SE) that leaves the main path's spatial size as it found it.
  template <typename F>
  void Branch(F&& f) {
    const int64_t h = h_, w = w_;
    f();
    h_ = h;
    w_ = w;
  }
  const Complexity& result() const { return cx_; }

 private:
  int64_t h_, w_;
  Complexity cx_;
};

void CountStem(const NetworkSpec& net, Counter& cx) {
  switch (net.stem) {
    case StemKind::kResCifar:
      cx.Conv(net.in_channels, net.stem_width, 3);
      cx.Norm(net.stem_width);
      break;
    case StemKind::kSimple:
      cx.Conv(net.in_channels, net.stem_width, 3, 2);
      cx.Norm(net.stem_width);
      break;
    case StemKind::kResImageNet:
      cx.Conv(net.in_channels, net.stem_width, 7, 2);
      cx.Norm(net.stem_width);
      cx.MaxPool(net.stem_width, 2);
      break;
  }
}

void CountBlock(const NetworkSpec& net, const StageSpec& stage, int w_in, int stride, Counter& cx) {
  const int w_out = stage.width;
  if (w_in != w_out || stride != 1) {
    cx.Branch([&] {
      cx.Conv(w_in, w_out, 1, stride);
      cx.Norm(w_out);
    });
  }
  if (net.block == BlockKind::kResBasic) {
    cx.Conv(w_in, w_out, 3, stride);
    cx.Norm(w_out);
    cx.Conv(w_out, w_out, 3);
    cx.Norm(w_out);
    return;
  }
  const int w_b = InnerWidth(stage);
  const int w_se = static_cast<int>(RoundHalfEven(w_in * net.se_ratio));
  const int groups = stage.group_width > 0 ? w_b / stage.group_width : 1;
  cx.Conv(w_in, w_b, 1);  // AnyNet puts the stride on the 3x3 conv
  cx.Norm(w_b);
  cx.Conv(w_b, w_b, 3, stride, groups);
  cx.Norm(w_b);
  if (w_se > 0) {
    cx.Branch([&] {
      cx.GlobalAvgPool();
      cx.Conv(w_b, w_se, 1, 1, 1, /*bias=*/true);
      cx.Conv(w_se, w_b, 1, 1, 1, /*bias=*/true);
    });
  }
  cx.Conv(w_b, w_out, 1);
  cx.Norm(w_out);
}

// This absl's StrCat takes absl::string_view, which here is not std::string_view.
absl::Status Invalid(std::string_view field, std::string_view member, std::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ".", std::string(member), ": ", std::string(reason)));
}

absl::Status CheckRange(std::string_view field, std::string_view member, int value, int lo,
                        int hi) {
  if (value < lo || value > hi) {
    return Invalid(field, member, absl::StrCat(value, " is outside [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateStage(const NetworkSpec& net, const StageSpec& stage, std::string_view field,
                           const std::string& path) {
  auto member = [&](const char* name) { return absl::StrCat(path, ".", name); };
  if (absl::Status s = CheckRange(field, member("depth"), stage.depth, 1, kMaxStageDepth);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange(field, member("width"), stage.width, 1, kMaxNetworkWidth);
      !s.ok()) {
    return s;
  }
  if (stage.stride != 1 && stage.stride != 2) {
    return Invalid(field, member("stride"), absl::StrCat(stage.stride, " is not 1 or 2"));
  }
  if (net.block != BlockKind::kResBottleneck) return absl::OkStatus();
  const double b = stage.bottleneck_ratio;
  if (!(b > 0 && b <= kMaxBottleneckRatio)) {
    return Invalid(field, member("bottleneck_ratio"),
                   absl::StrCat(b, " is outside (0, ", kMaxBottleneckRatio, "]"));
  }
  if (b >= 1 && b != std::floor(b)) {
    return Invalid(field, member("bottleneck_ratio"),
                   absl::StrCat(b, " is neither below 1 nor a whole number"));
  }
  const int w_b = InnerWidth(stage);
  if (w_b < 1 || w_b > kMaxNetworkWidth) {
    return Invalid(
        field, member("bottleneck_ratio"),
        absl::StrCat("the inner width ", w_b, " is outside [1, ", kMaxNetworkWidth, "]"));
  }
  if (stage.group_width < 1) {
    return Invalid(field, member("group_width"), absl::StrCat(stage.group_width, " is below 1"));
  }
  if (w_b % stage.group_width != 0) {
    return Invalid(field, member("group_width"),
                   absl::StrCat(stage.group_width, " does not divide the inner width ", w_b));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateNetwork(const NetworkSpec& net, std::string_view field) {
  struct Bounded {
    const char* member;
    int value, lo, hi;
  };
  for (const Bounded& b : {Bounded{"in_channels", net.in_channels, 1, kMaxInChannels},
                           Bounded{"num_classes", net.num_classes, 1, kMaxNumClasses},
                           Bounded{"stem_width", net.stem_width, 1, kMaxNetworkWidth},
                           Bounded{"resolution", net.resolution, 1, kMaxNetworkResolution}}) {
    if (absl::Status s = CheckRange(field, b.member, b.value, b.lo, b.hi); !s.ok()) return s;
  }
  if (net.stages.empty() || net.stages.size() > static_cast<size_t>(kMaxNetworkStages)) {
    return Invalid(
        field, "stages",
        absl::StrCat(net.stages.size(), " stages is outside [1, ", kMaxNetworkStages, "]"));
  }
  if (net.block == BlockKind::kResBottleneck &&
      !(net.se_ratio >= 0 && net.se_ratio <= kMaxSeRatio)) {
    return Invalid(field, "se_ratio",
                   absl::StrCat(net.se_ratio, " is outside [0, ", kMaxSeRatio, "]"));
  }
  int total_stride = StemStride(net.stem);
  for (size_t i = 0; i < net.stages.size(); ++i) {
    if (absl::Status s = ValidateStage(net, net.stages[i], field, absl::StrCat("stages[", i, "]"));
        !s.ok()) {
      return s;
    }
    total_stride *= net.stages[i].stride;  // <= 4 * 2^8: no overflow
  }
  if (net.resolution < total_stride) {
    return Invalid(
        field, "resolution",
        absl::StrCat(net.resolution, " is below the network's total stride ", total_stride));
  }
  return absl::OkStatus();
}

Complexity CountComplexity(const NetworkSpec& net) {
  Counter cx(net.resolution);
  CountStem(net, cx);
  int w_in = net.stem_width;
  for (const StageSpec& stage : net.stages) {
    int stride = stage.stride;
    for (int i = 0; i < stage.depth; ++i) {
      CountBlock(net, stage, w_in, stride, cx);
      stride = 1;
      w_in = stage.width;
    }
  }
  cx.GlobalAvgPool();
  cx.Linear(w_in, net.num_classes);
  return cx.result();
}

int64_t EstimateEvaluationBytes(const NetworkSpec& net, int train_batch, int timing_batch,
                                int test_batch, int64_t train_images, int64_t test_images) {
  constexpr int64_t kFloat = 4;
  const Complexity c = CountComplexity(net);
  const int64_t r = net.resolution;
  const int64_t images = std::max<int64_t>(0, train_images) + std::max<int64_t>(0, test_images);
  const int64_t batch = std::max<int64_t>(1, std::max(train_batch, timing_batch));
  const int64_t resized = kFloat * images * net.in_channels * r * r;
  const int64_t weights = 3 * kFloat * c.params;
  const int64_t training = kFloat * batch * (3 * c.acts + c.max_columns);
  const int64_t testing = kFloat * std::max(1, test_batch) * c.max_columns;
  return kEvaluationFixedBytes + resized + weights + training + testing;
}

}  // namespace evolv
