// pycls's complexity counting (flops, params, acts) and the bounds on a NetworkSpec.
#include "evaluators/scaling/complexity.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "evaluators/scaling/presets.h"

namespace evolv {
namespace {

struct Expected {
  const char* name;
  int64_t flops, params, acts;
};

// pycls dev/model_complexity.json (date-created 2020-09-04), ImageNet models at 224 px. Not
// expressible here and so not listed: V-56 (vanilla_block, no residual) and EN-B0..B5
// (EfficientNet's MBConv blocks with scaled stem and head).
constexpr Expected kPyclsImageNet[] = {
    {"R-50-1x64d", 4089185256, 25557032, 11315688},
    {"R-101-1x64d", 7801406440, 44549160, 16433640},
    {"R-152-1x64d", 11513627624, 60192808, 22755816},
    {"X-50-32x4d", 4230480872, 25028904, 14602216},
    {"X-101-32x4d", 7969997800, 44177704, 21426152},
    {"X-152-32x4d", 11709514728, 59951400, 29855720},
    {"RegNetX-200MF", 199040872, 2684792, 2164056},
    {"RegNetX-400MF", 397678568, 5157512, 3143272},
    {"RegNetX-600MF", 600891112, 6196040, 3975096},
    {"RegNetX-800MF", 799700712, 7259656, 5148744},
    {"RegNetX-1.6GF", 1602850792, 9190136, 7933512},
    {"RegNetX-3.2GF", 3176622952, 15296552, 11367432},
    {"RegNetX-4.0GF", 3964499816, 22118248, 12201608},
    {"RegNetX-6.4GF", 6460292264, 26209256, 16369744},
    {"RegNetX-8.0GF", 7995133416, 39572648, 14059688},
    {"RegNetX-12GF", 12086679016, 46106056, 21366568},
    {"RegNetX-16GF", 15940756456, 54278536, 25515496},
    {"RegNetX-32GF", 31735930792, 107811560, 36302160},
    {"RegNetY-200MF", 199519076, 3162996, 2168052},
    {"RegNetY-400MF", 401849056, 4344144, 3892496},
    {"RegNetY-600MF", 601227608, 6055160, 4334296},
    {"RegNetY-800MF", 797183328, 6263168, 5249888},
    {"RegNetY-1.6GF", 1612087326, 11202430, 8044814},
    {"RegNetY-3.2GF", 3176496162, 19436338, 11263418},
    {"RegNetY-4.0GF", 3973301344, 20646656, 12287200},
    {"RegNetY-6.4GF", 6355221876, 30583252, 16407188},
    {"RegNetY-8.0GF", 7963074196, 39180068, 17968916},
    {"RegNetY-12GF", 12092395504, 51822544, 21384496},
    {"RegNetY-16GF", 15911534044, 83590140, 23041228},
    {"RegNetY-32GF", 32279583362, 145046770, 30261570},
};

TEST(CountComplexityTest, MatchesPyclsForCifarResNets) {
  const Complexity r56 = CountComplexity(ResNetCifar(56));
  EXPECT_EQ(r56.flops, 125747850);
  EXPECT_EQ(r56.params, 855770);
  EXPECT_EQ(r56.acts, 544778);
  const Complexity r110 = CountComplexity(ResNetCifar(110));
  EXPECT_EQ(r110.flops, 253149834);
  EXPECT_EQ(r110.params, 1730714);
  EXPECT_EQ(r110.acts, 1060874);
}

TEST(CountComplexityTest, MatchesPyclsForEveryImageNetModelOfTheFamily) {
  for (const Expected& e : kPyclsImageNet) {
    SCOPED_TRACE(e.name);
    const std::optional<NetworkSpec> net = PyclsImageNetModel(e.name);
    ASSERT_TRUE(net.has_value());
    EXPECT_TRUE(ValidateNetwork(*net, "model").ok()) << ValidateNetwork(*net, "model");
    const Complexity cx = CountComplexity(*net);
    EXPECT_EQ(cx.flops, e.flops);
    EXPECT_EQ(cx.params, e.params);
    EXPECT_EQ(cx.acts, e.acts);
  }
  EXPECT_FALSE(PyclsImageNetModel("EN-B0").has_value());
}

TEST(CountComplexityTest, CountsTheDefaultBaseByHand) {
  // Stem 3x3 1->16 at 28x28; stage 1 (16->24, projection), stage 2 (24->48 /2, projection),
  // stage 3 (48->96 /2, projection; then 96->96); 3x3 convs grouped by width / 8; head 96->10.
  const int64_t p28 = 28 * 28, p14 = 14 * 14, p7 = 7 * 7;
  const int64_t flops = 9 * 16 * p28                                                        // stem
                        + 16 * 24 * p28 + 16 * 24 * p28 + 9 * 24 * 8 * p28 + 24 * 24 * p28  // s1
                        + 24 * 48 * p14 + 24 * 48 * p28 + 9 * 48 * 8 * p14 + 48 * 48 * p14  // s2
                        + 48 * 96 * p7 + 48 * 96 * p14 + 9 * 96 * 8 * p7 + 96 * 96 * p7     // s3b1
                        + 96 * 96 * p7 + 9 * 96 * 8 * p7 + 96 * 96 * p7                     // s3b2
                        + 96 * 10 + 10;
  const int64_t acts = 16 * p28 + 4 * 24 * p28 + 48 * p14 + 48 * p28 + 2 * 48 * p14 + 96 * p7 +
                       96 * p14 + 2 * 96 * p7 + 3 * 96 * p7 + 10;
  const int64_t params = 9 * 16 + 2 * 16                                          // stem
                         + 16 * 24 + 16 * 24 + 9 * 24 * 8 + 24 * 24 + 4 * 2 * 24  // s1
                         + 24 * 48 + 24 * 48 + 9 * 48 * 8 + 48 * 48 + 4 * 2 * 48  // s2
                         + 48 * 96 + 48 * 96 + 9 * 96 * 8 + 96 * 96 + 4 * 2 * 96  // s3b1
                         + 96 * 96 + 9 * 96 * 8 + 96 * 96 + 3 * 2 * 96            // s3b2
                         + 96 * 10 + 10;
  const NetworkSpec base = DefaultFashionMnistBase();
  ASSERT_TRUE(ValidateNetwork(base, "base").ok());
  const Complexity cx = CountComplexity(base);
  EXPECT_EQ(cx.flops, flops);
  EXPECT_EQ(cx.params, params);
  EXPECT_EQ(cx.acts, acts);
  // The largest unfolded input: stage 1's grouped 3x3 (24 channels at 28 x 28).
  EXPECT_EQ(cx.max_columns, 9 * 24 * p28);
}

TEST(EstimateEvaluationBytesTest, SumsItsTermsAndGrowsWithBatchImagesAndResolution) {
  const NetworkSpec base = DefaultFashionMnistBase();
  const Complexity cx = CountComplexity(base);
  const int64_t expected = kEvaluationFixedBytes + 4 * (1000 + 500) * 28 * 28 + 12 * cx.params +
                           4 * 64 * (3 * cx.acts + cx.max_columns) + 4 * 256 * cx.max_columns;
  EXPECT_EQ(EstimateEvaluationBytes(base, 64, 16, 256, 1000, 500), expected);
  EXPECT_EQ(EstimateEvaluationBytes(base, 16, 64, 256, 1000, 500), expected);  // the larger batch
  EXPECT_GT(EstimateEvaluationBytes(base, 128, 16, 256, 1000, 500), expected);
  EXPECT_GT(EstimateEvaluationBytes(base, 64, 16, 256, 2000, 500), expected);
  NetworkSpec larger = base;
  larger.resolution = 56;
  EXPECT_GT(EstimateEvaluationBytes(larger, 64, 16, 256, 1000, 500),
            2 * (expected - kEvaluationFixedBytes));
}

TEST(CountComplexityTest, OddResolutionsRoundStridedOutputsUp) {
  // pycls: a stride-2 conv with padding (k-1)/2 maps h to (h - 1) / 2 + 1, so 7 -> 4, 27 -> 14.
  NetworkSpec net = ResNetCifar(8);
  net.resolution = 27;
  const Complexity odd = CountComplexity(net);
  net.resolution = 28;
  const Complexity even = CountComplexity(net);
  EXPECT_EQ(odd.flops - even.flops,
            9LL * 16 * 16 * (27 * 27 - 28 * 28) * 2 + 9 * 3 * 16 * (27 * 27 - 28 * 28));
}

struct BadNetwork {
  std::function<void(NetworkSpec&)> mutate;
  std::string message;
};

TEST(ValidateNetworkTest, RejectsEachBadSizeNamingTheField) {
  const std::vector<BadNetwork> cases = {
      {[](NetworkSpec& n) { n.stages.clear(); }, "scaling.base.stages: 0 stages is outside [1, 8]"},
      {[](NetworkSpec& n) { n.stages.resize(9, n.stages[0]); },
       "scaling.base.stages: 9 stages is outside [1, 8]"},
      {[](NetworkSpec& n) { n.stages[2].depth = 0; },
       "scaling.base.stages[2].depth: 0 is outside [1, 64]"},
      {[](NetworkSpec& n) { n.stages[2].depth = 65; },
       "scaling.base.stages[2].depth: 65 is outside [1, 64]"},
      {[](NetworkSpec& n) { n.stages[0].width = 0; },
       "scaling.base.stages[0].width: 0 is outside [1, 4096]"},
      {[](NetworkSpec& n) { n.stages[0].width = 4097; },
       "scaling.base.stages[0].width: 4097 is outside [1, 4096]"},
      {[](NetworkSpec& n) { n.stem_width = 0; }, "scaling.base.stem_width: 0 is outside"},
      {[](NetworkSpec& n) { n.stages[1].stride = 3; },
       "scaling.base.stages[1].stride: 3 is not 1 or 2"},
      {[](NetworkSpec& n) {
         n.stages[1].width = 36;
         n.stages[1].group_width = 24;
       },
       "scaling.base.stages[1].group_width: 24 does not divide the inner width 36"},
      {[](NetworkSpec& n) { n.stages[1].group_width = 0; },
       "scaling.base.stages[1].group_width: 0 is below 1"},
      {[](NetworkSpec& n) { n.stages[1].bottleneck_ratio = 1.5; },
       "scaling.base.stages[1].bottleneck_ratio: 1.5 is neither below 1 nor a whole number"},
      {[](NetworkSpec& n) { n.stages[1].bottleneck_ratio = 0; },
       "scaling.base.stages[1].bottleneck_ratio: 0 is outside (0, 8]"},
      {[](NetworkSpec& n) { n.stages[1].bottleneck_ratio = 0.01; },
       "scaling.base.stages[1].bottleneck_ratio: the inner width 0 is outside [1, 4096]"},
      {[](NetworkSpec& n) { n.se_ratio = -0.25; }, "scaling.base.se_ratio: -0.25 is outside"},
      {[](NetworkSpec& n) { n.resolution = 3; },
       "scaling.base.resolution: 3 is below the network's total stride 4"},
      {[](NetworkSpec& n) { n.resolution = 513; },
       "scaling.base.resolution: 513 is outside [1, 512]"},
      {[](NetworkSpec& n) { n.in_channels = 0; }, "scaling.base.in_channels: 0 is outside [1, 16]"},
      {[](NetworkSpec& n) { n.num_classes = 0; },
       "scaling.base.num_classes: 0 is outside [1, 10000]"},
  };
  for (const BadNetwork& c : cases) {
    NetworkSpec net = DefaultFashionMnistBase();
    c.mutate(net);
    const absl::Status status = ValidateNetwork(net, "scaling.base");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(std::string(status.message()).rfind(c.message, 0), 0u)
        << status.message() << "\nexpected prefix: " << c.message;
  }
}

TEST(ValidateNetworkTest, BasicBlocksIgnoreGroupsAndRatio) {
  NetworkSpec net = ResNetCifar(56);
  net.stages[0].group_width = 0;
  net.stages[0].bottleneck_ratio = 1.5;
  EXPECT_TRUE(ValidateNetwork(net, "net").ok());
}

TEST(ValidateNetworkTest, AcceptsTheLargestBoundedNetworkWithoutOverflow) {
  NetworkSpec net;
  net.in_channels = kMaxInChannels;
  net.resolution = kMaxNetworkResolution;
  net.stem_width = kMaxNetworkWidth;
  net.num_classes = kMaxNumClasses;
  net.block = BlockKind::kResBottleneck;
  StageSpec stage;
  stage.depth = kMaxStageDepth;
  stage.width = kMaxNetworkWidth;
  stage.bottleneck_ratio = 1;
  stage.group_width = kMaxNetworkWidth;  // one group: dense 3x3 convs
  net.stages.assign(kMaxNetworkStages, stage);
  ASSERT_TRUE(ValidateNetwork(net, "net").ok()) << ValidateNetwork(net, "net");
  const Complexity cx = CountComplexity(net);
  // 512 blocks, each dominated by a dense 3x3 conv 4096 -> 4096 at 512 x 512.
  EXPECT_GT(cx.flops, 512LL * 9 * 4096 * 4096 * 512 * 512);
  EXPECT_LT(cx.flops, 4 * 512LL * 9 * 4096 * 4096 * 512 * 512 / 3);
}

}  // namespace
}  // namespace evolv
