// The learned denoiser's device path, checked on the CPU through its host twin (what a CUDA
// device computes, bit for bit: evaluators/diffusion/cuda/diffusion_cuda_test.cu holds the device
// to it): the portable exp, the twin against the Eigen network, a whole evaluation's objectives
// within CompareHit's tolerance, and the CPU fallback of a worker whose device cannot be used.
#include "evaluators/diffusion/device_network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>

#include "evaluators/common/cuda_devices.h"
#include "evaluators/diffusion/cuda/mlp_math.h"
#include "evaluators/diffusion/diffusion_problem.h"
#include "tests/evaluators/diffusion/tiny_model.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using diffusion::cuda::PortableExp;
using diffusion::cuda::Silu;

// Distance in representable floats (both finite, same sign).
int64_t UlpDistance(float a, float b) {
  int32_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return std::abs(static_cast<int64_t>(x) - y);
}

TEST(PortableExpTest, IsWithinTwoUlpOfTheCorrectlyRoundedExp) {
  int64_t worst = 0;
  float worst_x = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.0013f) {
    const float want = static_cast<float>(std::exp(static_cast<double>(x)));
    const int64_t d = UlpDistance(PortableExp(x), want);
    if (d > worst) worst = d, worst_x = x;
  }
  EXPECT_LE(worst, 2) << "at x = " << worst_x;
  // Into the subnormals: within the rounding of the final scaling.
  for (float x = -103.0f; x < -87.5f; x += 0.01f) {
    const double want = std::exp(static_cast<double>(x));
    EXPECT_NEAR(PortableExp(x), want, 2e-45 + 1e-6 * want) << x;
  }
}

TEST(PortableExpTest, EdgesAreThoseOfExp) {
  EXPECT_EQ(PortableExp(0.0f), 1.0f);
  EXPECT_EQ(PortableExp(100.0f), std::numeric_limits<float>::infinity());
  EXPECT_EQ(PortableExp(std::numeric_limits<float>::infinity()),
            std::numeric_limits<float>::infinity());
  EXPECT_EQ(PortableExp(-200.0f), 0.0f);
  EXPECT_EQ(PortableExp(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isnan(PortableExp(std::nanf(""))));
  // silu saturates as the CPU network's does: z for large z, -0 for very negative z.
  EXPECT_EQ(Silu(200.0f), 200.0f);
  EXPECT_EQ(Silu(-200.0f), 0.0f);
  EXPECT_TRUE(std::signbit(Silu(-200.0f)));
}

ResidualMlp<float> RandomNetwork(const MlpShape& shape, uint64_t seed) {
  ResidualMlp<float> mlp(shape);
  Rng rng(seed);
  mlp.Initialize(rng);
  for (int64_t i = 0; i < mlp.parameters().size(); ++i) {
    mlp.mutable_parameters()[i] += static_cast<float>(0.05 * rng.Normal());
  }
  return mlp;
}

Eigen::MatrixXf RandomInput(int rows, int cols, uint64_t seed) {
  Rng rng(seed);
  Eigen::MatrixXf m(rows, cols);
  for (int j = 0; j < cols; ++j) {
    for (int i = 0; i < rows; ++i) m(i, j) = static_cast<float>(rng.Normal());
  }
  return m;
}

// The default denoiser's size (d 2 + 16 time features, width 128, 8 blocks) and odd sizes.
TEST(DeviceNetworkTest, TheHostTwinAgreesWithTheEigenNetworkToFloatRounding) {
  for (const MlpShape& shape : {MlpShape{18, 128, 8, 2}, MlpShape{37, 50, 3, 21}}) {
    const ResidualMlp<float> mlp = RandomNetwork(shape, 3);
    const Eigen::MatrixXf x = RandomInput(shape.input, 300, 4);
    std::vector<bool> every_other(shape.blocks, false);
    for (int b = 0; b < shape.blocks; b += 2) every_other[b] = true;
    for (const std::vector<bool>& skipped :
         {std::vector<bool>{}, std::vector<bool>(shape.blocks, true), every_other}) {
      const Eigen::MatrixXf eigen = mlp.Forward(x, skipped, nullptr);
      const Eigen::MatrixXf twin = ForwardLikeDevice(mlp, x, skipped);
      ASSERT_EQ(twin.rows(), eigen.rows());
      ASSERT_EQ(twin.cols(), eigen.cols());
      const double scale = eigen.cwiseAbs().maxCoeff();
      const double gap = (twin - eigen).cwiseAbs().maxCoeff() / scale;
      EXPECT_GT(scale, 0.1);
      EXPECT_LT(gap, 1e-5) << "width " << shape.width;
      std::printf("width %d, %zu blocks skipped: largest gap %.3g of the largest output\n",
                  shape.width,
                  static_cast<size_t>(std::count(skipped.begin(), skipped.end(), true)), gap);
    }
  }
}

TEST(DeviceNetworkTest, ASkippedBlockIsTheIdentityOnTheTwinToo) {
  const MlpShape shape{6, 12, 2, 6};
  ResidualMlp<float> mlp = RandomNetwork(shape, 5);
  const Eigen::MatrixXf x = RandomInput(shape.input, 40, 6);
  const Eigen::MatrixXf skipping = ForwardLikeDevice(mlp, x, {false, true});
  // Block 1 made to do anything else: its parameters change, the skipping output does not.
  const int64_t block1 = int64_t{12} * 6 + 12 + (2 * 12 * 12 + 2 * 12);
  for (int64_t i = block1; i < block1 + 2 * 12 * 12 + 2 * 12; ++i) {
    mlp.mutable_parameters()[i] += 1.0f;
  }
  EXPECT_EQ(ForwardLikeDevice(mlp, x, {false, true}), skipping);
  EXPECT_NE(ForwardLikeDevice(mlp, x, {}), ForwardLikeDevice(RandomNetwork(shape, 5), x, {}));
}

class DeviceEvaluationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = testing::TinyLearnedSpec(dir_.Sub("tiny.model"));
    testing::WriteTinyModel(spec_);
    auto problem = CreateDiffusionProblem(spec_);
    ASSERT_TRUE(problem.ok()) << problem.status();
    problem_ = *std::move(problem);
  }
  const DiffusionProblem& diffusion() const {
    return static_cast<const DiffusionProblem&>(*problem_);
  }

  TempDir dir_;
  v1::DiffusionSpec spec_;
  std::unique_ptr<Problem> problem_;
};

// What a device's evaluation would give (the twin's network in every denoiser call) against the
// CPU's: different bits, the same evaluation within CompareHit's tolerance.
TEST_F(DeviceEvaluationTest, ADeviceEvaluationIsACacheHitOfTheCpuOne) {
  const LearnedDenoiser* learned = diffusion().learned_denoiser();
  ASSERT_NE(learned, nullptr);
  const NetworkDenoiser twin(
      *learned, [learned](const Eigen::MatrixXf& input, const std::vector<bool>& skipped) {
        return ForwardLikeDevice(learned->network(), input, skipped);
      });
  for (const StepPlan& plan : {StepPlan{UniformSteps(4), std::vector<std::vector<int>>(4)},
                               StepPlan{{0, 250, 500, 750}, {{0}, {}, {1, 2}, {}}}}) {
    for (SamplerKind sampler : {SamplerKind::kDdim, SamplerKind::kDpmSolverPp2M}) {
      const ScheduleScore cpu = diffusion().Score(plan, sampler);
      const ScheduleScore device = diffusion().Score(plan, sampler, twin);
      v1::Evaluation a, b;
      a.set_status(v1::OK);
      b.set_status(v1::OK);
      a.add_objectives(cpu.fd);
      a.add_objectives(cpu.loglik_gap);
      b.add_objectives(device.fd);
      b.add_objectives(device.loglik_gap);
      const Problem::HitDifference d = problem_->CompareHit(a, b);
      EXPECT_TRUE(d.within) << d.difference;
      std::printf("fd %.9g (CPU) %.9g (device's twin); loglik_gap %.9g %.9g: difference %.3g\n",
                  cpu.fd, device.fd, cpu.loglik_gap, device.loglik_gap, d.difference);
    }
  }
  // The tolerance is no blanket: a schedule that skips other blocks is not a hit.
  v1::Evaluation full = problem_->Evaluate(DiffusionCandidate(UniformSteps(4)), {});
  v1::Evaluation skipping = problem_->Evaluate(
      DiffusionCandidate(StepPlan{UniformSteps(4), {{0, 1}, {0, 1}, {0, 1}, {0, 1}}}), {});
  ASSERT_EQ(full.status(), v1::OK);
  ASSERT_EQ(skipping.status(), v1::OK);
  EXPECT_FALSE(problem_->CompareHit(full, skipping).within);
}

// A worker asked to use a device it cannot (no driver here, or a build without CUDA) evaluates
// on the CPU: the CPU's exact objectives, and denoiser_on_device 0.
TEST_F(DeviceEvaluationTest, WithoutAUsableDeviceTheCpuEvaluates) {
  const v1::Candidate c = DiffusionCandidate(UniformSteps(4));
  const v1::Evaluation cpu = problem_->Evaluate(c, {});
  EvalContext on_device;
  on_device.cuda_device = kMaxCudaDeviceIndex;
  const v1::Evaluation fallback = problem_->Evaluate(c, on_device);
  ASSERT_EQ(fallback.status(), v1::OK) << fallback.error();
  EXPECT_EQ(fallback.objectives(0), cpu.objectives(0));
  EXPECT_EQ(fallback.objectives(1), cpu.objectives(1));
  EXPECT_EQ(cpu.metrics().at("denoiser_on_device"), 0);
  EXPECT_EQ(fallback.metrics().at("denoiser_on_device"), 0);
}

}  // namespace
}  // namespace evolv
