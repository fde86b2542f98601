// The scaling domain's trainer on a small synthetic dataset (three classes of 8 x 8 bars): a tiny
// AnyNet trains and its loss falls, the result is a function of the seed, inputs are resized to
// the network's resolution, every stem and block kind builds and trains, timing measures, and bad
// input (a missing dataset, a bad schedule, CUDA on a CPU-only libtorch) is refused naming the
// field.
#include "evaluators/scaling/trainer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/idx_files.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

// stem 8 | 1x8 1x16/2 | 8px, basic or bottleneck blocks.
NetworkSpec TinyNetwork(BlockKind block = BlockKind::kResBasic) {
  NetworkSpec net;
  net.in_channels = 1;
  net.resolution = 8;
  net.stem = StemKind::kResCifar;
  net.stem_width = 8;
  net.block = block;
  net.num_classes = 3;
  StageSpec a;
  a.depth = 1;
  a.width = 8;
  a.stride = 1;
  a.group_width = 4;
  StageSpec b = a;
  b.width = 16;
  b.stride = 2;
  net.stages = {a, b};
  return net;
}

TrainSchedule ShortSchedule() {
  TrainSchedule s;
  s.epochs = 3;
  s.batch_size = 32;
  s.learning_rate = 0.1;
  s.momentum = 0.9;
  s.weight_decay = 5e-4;
  return s;
}

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    WriteSyntheticDataset(dir_->path(), 320, 150, 11);
    auto data = LoadImageClassData(dir_->path(), 320, 150);
    ASSERT_TRUE(data.ok()) << data.status();
    data_ = new ImageClassData(*std::move(data));
  }
  static void TearDownTestSuite() {
    delete data_;
    delete dir_;
  }
  static TempDir* dir_;
  static ImageClassData* data_;
};
TempDir* TrainerTest::dir_ = nullptr;
ImageClassData* TrainerTest::data_ = nullptr;

TEST_F(TrainerTest, LoadsTheFirstImagesStandardized) {
  EXPECT_EQ(data_->side, 8);
  EXPECT_EQ(data_->num_classes, 3);
  EXPECT_EQ(data_->train_count(), 320);
  EXPECT_EQ(data_->test_count(), 150);
  ASSERT_EQ(data_->train_pixels.size(), 320u * 64);
  double sum = 0, sum_sq = 0;
  for (float v : data_->train_pixels) {
    sum += v;
    sum_sq += double{v} * v;
  }
  const double n = static_cast<double>(data_->train_pixels.size());
  EXPECT_NEAR(sum / n, 0.0, 1e-4);
  EXPECT_NEAR(sum_sq / n, 1.0, 1e-3);
  auto fewer = LoadImageClassData(dir_->path(), 100, 20);
  ASSERT_TRUE(fewer.ok()) << fewer.status();
  EXPECT_EQ(fewer->train_count(), 100);
  EXPECT_EQ(fewer->test_labels,
            std::vector<uint8_t>(data_->test_labels.begin(), data_->test_labels.begin() + 20));
}

TEST_F(TrainerTest, ATinyNetworkLearnsAndItsLossFalls) {
  auto result = TrainAndTest(TinyNetwork(), *data_, ShortSchedule(), 1);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->steps, 3 * (320 / 32));
  EXPECT_GT(result->initial_loss, 0.8);  // about ln 3 at the start
  EXPECT_LT(result->final_loss, 0.5 * result->initial_loss)
      << result->initial_loss << " -> " << result->final_loss;
  EXPECT_LT(result->test_error, 0.25);  // chance is 2/3
}

TEST_F(TrainerTest, TheSameSeedGivesTheSameResultAndAnotherSeedAnother) {
  const TrainSchedule schedule = ShortSchedule();
  auto a = TrainAndTest(TinyNetwork(), *data_, schedule, 7);
  auto b = TrainAndTest(TinyNetwork(), *data_, schedule, 7);
  auto c = TrainAndTest(TinyNetwork(), *data_, schedule, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->test_error, b->test_error);
  EXPECT_EQ(a->initial_loss, b->initial_loss);
  EXPECT_EQ(a->final_loss, b->final_loss);
  EXPECT_NE(a->initial_loss, c->initial_loss);
  EXPECT_NE(a->final_loss, c->final_loss);
}

TEST_F(TrainerTest, ResizesTheImagesToTheNetworksResolution) {
  NetworkSpec net = TinyNetwork();
  net.resolution = 13;
  auto result = TrainAndTest(net, *data_, ShortSchedule(), 1);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(result->final_loss, result->initial_loss);
  EXPECT_LT(result->test_error, 0.5);
  // A resolution whose resized copies would exceed the limit is refused before any allocation.
  net.resolution = 512;
  ImageClassData many = *data_;
  many.train_labels.resize(1000);
  many.train_pixels.resize(1000 * 64);
  auto refused = TrainAndTest(net, many, ShortSchedule(), 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message().rfind("scaling.network.resolution: 512", 0), 0u)
      << refused.status();
}

TEST_F(TrainerTest, EveryStemAndBlockKindBuildsAndTrains) {
  TrainSchedule schedule = ShortSchedule();
  schedule.epochs = 1;
  for (StemKind stem : {StemKind::kResCifar, StemKind::kResImageNet, StemKind::kSimple}) {
    NetworkSpec net = TinyNetwork(BlockKind::kResBottleneck);
    net.stem = stem;
    net.resolution = stem == StemKind::kResCifar ? 8 : 16;  // strides of 4 and 2 in the stem
    net.se_ratio = 0.25;
    net.stages[1].bottleneck_ratio = 0.5;  // inner width 8: two groups of 4
    auto result = TrainAndTest(net, *data_, schedule, 3);
    ASSERT_TRUE(result.ok()) << static_cast<int>(stem) << ": " << result.status();
    EXPECT_EQ(result->steps, 10);
    EXPECT_TRUE(std::isfinite(result->final_loss));
  }
}

TEST_F(TrainerTest, RefusesBadSchedulesAndNetworksNamingTheField) {
  TrainSchedule schedule = ShortSchedule();
  schedule.batch_size = 0;
  auto batch = TrainAndTest(TinyNetwork(), *data_, schedule, 1);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(batch.status().message().rfind("scaling.training.batch_size: 0", 0), 0u);
  NetworkSpec net = TinyNetwork();
  net.num_classes = 2;
  auto classes = TrainAndTest(net, *data_, ShortSchedule(), 1);
  ASSERT_FALSE(classes.ok());
  EXPECT_EQ(classes.status().message().rfind("scaling.network.num_classes: 2", 0), 0u);
  net = TinyNetwork();
  net.stages.clear();
  auto empty = TrainAndTest(net, *data_, ShortSchedule(), 1);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message().rfind("scaling.network", 0), 0u) << empty.status();
}

TEST(TrainerDataTest, AMissingDatasetIsRefusedNamingTheField) {
  TempDir dir;
  auto missing = LoadImageClassData(dir.Sub("nowhere"), 100, 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message().rfind("scaling.data.directory: '", 0), 0u)
      << missing.status();
  WriteSyntheticDataset(dir.path(), 50, 20);
  auto too_many = LoadImageClassData(dir.path(), 51, 20);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().message(),
            "scaling.data.train_images: 51 exceeds the 50 training images");
  auto none = LoadImageClassData(dir.path(), 50, 0);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message().rfind("scaling.data.test_images: 0", 0), 0u);
}

TEST(TimingTest, MeasuresInferenceAndTrainingStepsOnOneCpuThread) {
  auto timing = TimeNetwork(TinyNetwork(BlockKind::kResBottleneck), 16, 1, 5);
  ASSERT_TRUE(timing.ok()) << timing.status();
  EXPECT_GT(timing->inference_ms, 0);
  EXPECT_GE(timing->inference_ms_worst, timing->inference_ms);
  EXPECT_GT(timing->train_step_ms, 0);
  EXPECT_GE(timing->train_step_ms_worst, timing->train_step_ms);
  const std::string name = TimingDeviceName(TimingDevice::kCpu);
  EXPECT_EQ(name.rfind("cpu: ", 0), 0u) << name;
  EXPECT_NE(name.find(", 1 thread"), std::string::npos) << name;
  auto runs = TimeNetwork(TinyNetwork(), 16, 1, 0);
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(runs.status().message().rfind("scaling.timing.runs: 0", 0), 0u);
}

TEST(TimingTest, CudaIsRefusedWhereThisLibtorchHasNone) {
  auto timing = TimeNetwork(TinyNetwork(), 4, 0, 1, TimingDevice::kCuda);
  if (!TimingDeviceName(TimingDevice::kCuda).empty()) {
    // A CUDA build on a machine with a GPU times there.
    ASSERT_TRUE(timing.ok()) << timing.status();
    EXPECT_GT(timing->inference_ms, 0);
    return;
  }
  ASSERT_FALSE(timing.ok());
  EXPECT_EQ(timing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(timing.status().message().find("has no CUDA"), std::string::npos);
}

}  // namespace
}  // namespace evolv
