// The learned denoiser: the residual MLP's gradients, skipped blocks, training, the model file
// and how a diffusion spec refuses a missing or mismatched model.
#include "evaluators/diffusion/learned_denoiser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "evaluators/diffusion/diffusion_problem.h"
#include "evaluators/diffusion/residual_mlp.h"
#include "google/protobuf/util/message_differencer.h"
#include "search/functional_hash.h"
#include "tests/evaluators/diffusion/tiny_model.h"
#include "tests/support/promptly.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TinyLearnedSpec;
using testing::WriteTinyModel;

// A network with every parameter nonzero (biases too), in double.
ResidualMlp<double> RandomNetwork(const MlpShape& shape, uint64_t seed) {
  ResidualMlp<double> mlp(shape);
  Rng rng(seed);
  mlp.Initialize(rng);
  for (int64_t i = 0; i < mlp.parameters().size(); ++i) {
    mlp.mutable_parameters()[i] += 0.3 * rng.Normal();
  }
  return mlp;
}

Eigen::MatrixXd RandomMatrix(int rows, int cols, Rng& rng) {
  Eigen::MatrixXd m(rows, cols);
  for (int j = 0; j < cols; ++j) {
    for (int i = 0; i < rows; ++i) m(i, j) = rng.Normal();
  }
  return m;
}

TEST(ResidualMlpTest, GradientMatchesCentralFiniteDifferences) {
  const MlpShape shape{5, 6, 3, 4};
  Rng rng(11);
  const Eigen::MatrixXd x = RandomMatrix(5, 7, rng);
  const Eigen::MatrixXd dy = RandomMatrix(4, 7, rng);
  // Every block running, and the middle one skipped.
  for (const std::vector<bool>& skipped :
       {std::vector<bool>{}, std::vector<bool>{false, true, false}}) {
    ResidualMlp<double> mlp = RandomNetwork(shape, 3);
    ResidualMlp<double>::Trace trace;
    mlp.Forward(x, skipped, &trace);
    ResidualMlp<double>::Vector gradient = ResidualMlp<double>::Vector::Zero(shape.Parameters());
    mlp.Backward(trace, dy, &gradient);
    // L = sum(dy .* y): dL/dp by central differences, parameter by parameter.
    const auto loss = [&] { return (dy.array() * mlp.Forward(x, skipped, nullptr).array()).sum(); };
    constexpr double kStep = 1e-6;
    double worst = 0;
    int zero = 0;
    for (int64_t i = 0; i < shape.Parameters(); ++i) {
      double& p = mlp.mutable_parameters()[i];
      const double saved = p;
      p = saved + kStep;
      const double up = loss();
      p = saved - kStep;
      const double down = loss();
      p = saved;
      const double numeric = (up - down) / (2 * kStep);
      worst = std::max(worst, std::abs(numeric - gradient[i]) / (1 + std::abs(numeric)));
      if (gradient[i] == 0) ++zero;
    }
    EXPECT_LT(worst, 1e-7) << "skipped blocks: " << skipped.size();
    // A skipped block's own parameters get no gradient, and nothing else is zero.
    const int64_t block_parameters = 2 * 6 * 6 + 2 * 6;
    EXPECT_EQ(zero, skipped.empty() ? 0 : block_parameters);
  }
}

TEST(ResidualMlpTest, ASkippedBlockIsTheIdentity) {
  const MlpShape shape{5, 6, 3, 4};
  Rng rng(2);
  const Eigen::MatrixXd x = RandomMatrix(5, 9, rng);
  ResidualMlp<double> mlp = RandomNetwork(shape, 8);
  // The same network with block 1's residual branch (W2, b2) zero: h + 0 = h.
  ResidualMlp<double> without = mlp;
  const int64_t w = shape.width;
  const int64_t block1 = w * shape.input + w + (2 * w * w + 2 * w);
  for (int64_t i = block1 + w * w + w; i < block1 + 2 * w * w + 2 * w; ++i) {
    without.mutable_parameters()[i] = 0;
  }
  EXPECT_EQ(mlp.Forward(x, {false, true, false}, nullptr), without.Forward(x, {}, nullptr));
  EXPECT_NE(mlp.Forward(x, {}, nullptr), without.Forward(x, {}, nullptr));
  // Every block skipped: y = W_out (W_in x + b_in) + b_out.
  const auto& p = mlp.parameters();
  const Eigen::Map<const Eigen::MatrixXd> w_in(p.data(), w, shape.input);
  const Eigen::Map<const Eigen::VectorXd> b_in(p.data() + w * shape.input, w);
  const int64_t out = shape.Parameters() - shape.output * w - shape.output;
  const Eigen::Map<const Eigen::MatrixXd> w_out(p.data() + out, shape.output, w);
  const Eigen::Map<const Eigen::VectorXd> b_out(p.data() + out + shape.output * w, shape.output);
  const Eigen::MatrixXd expected = (w_out * ((w_in * x).colwise() + b_in)).colwise() + b_out;
  EXPECT_LT((mlp.Forward(x, {true, true, true}, nullptr) - expected).norm(), 1e-12);
}

TEST(LearnedDenoiserTest, SkippingABlockEqualsZeroingItsResidualBranch) {
  TempDir dir;
  const v1::DenoiserModel model = WriteTinyModel(TinyLearnedSpec(dir.Sub("tiny.model")));
  v1::DenoiserModel zeroed = model;
  const int w = 16, input = 4 + 2 * kTimeFrequencies;
  const int block2 = w * input + w + 2 * (2 * w * w + 2 * w);
  for (int i = block2 + w * w + w; i < block2 + 2 * w * w + 2 * w; ++i) zeroed.set_parameters(i, 0);
  const LearnedDenoiser denoiser(model), without(zeroed);
  ASSERT_EQ(denoiser.NumBlocks(), 3);
  Rng rng(4);
  const Eigen::MatrixXd x = RandomMatrix(4, 50, rng);
  EXPECT_EQ(denoiser.Denoise(x, 400, 0.5, {2}), without.Denoise(x, 400, 0.5, {}));
  EXPECT_GT((denoiser.Denoise(x, 400, 0.5, {}) - without.Denoise(x, 400, 0.5, {})).norm(), 1e-6);
}

TEST(LearnedDenoiserTest, TrainingReducesTheLossDeterministically) {
  TempDir dir;
  const v1::DiffusionSpec spec = TinyLearnedSpec(dir.Sub("tiny.model"));
  auto model = TrainDenoiser(spec);
  ASSERT_TRUE(model.ok()) << model.status();
  // The held-out loss starts near the target's unit scale and drops well below it.
  EXPECT_GT(model->initial_loss(), 0.8);
  EXPECT_LT(model->final_loss(), 0.6 * model->initial_loss());
  const MlpShape shape{4 + 2 * kTimeFrequencies, 16, 3, 4};
  EXPECT_EQ(model->parameters_size(), shape.Parameters());
  EXPECT_TRUE(model->training().model().empty());
  EXPECT_EQ(model->training().layer_drop(), 0.1);
  // The same spec trains the same model, bit for bit; another seed another one.
  auto again = TrainDenoiser(spec);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(MessageDifferencer::Equals(*model, *again));
  v1::DiffusionSpec reseeded = spec;
  reseeded.mutable_denoiser()->set_seed(6);
  EXPECT_FALSE(MessageDifferencer::Equals(*model, *TrainDenoiser(reseeded)));
  // Progress is reported, up to the last step.
  int last = 0;
  v1::DiffusionSpec short_run = spec;
  short_run.mutable_denoiser()->set_training_steps(50);
  ASSERT_TRUE(TrainDenoiser(short_run, [&](const TrainingProgress& p) { last = p.step; }).ok());
  EXPECT_EQ(last, 50);
}

TEST(LearnedDenoiserTest, AModelRoundTripsThroughItsFile) {
  TempDir dir;
  const v1::DiffusionSpec spec = TinyLearnedSpec(dir.Sub("tiny.model"));
  const v1::DenoiserModel model = WriteTinyModel(spec);
  auto read = ReadDenoiserModel(dir.Sub("tiny.model"), "diffusion.denoiser.model");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(MessageDifferencer::Equals(model, *read));
  Rng rng(9);
  const Eigen::MatrixXd x = RandomMatrix(4, 30, rng);
  EXPECT_EQ(LearnedDenoiser(model).Denoise(x, 10, 0.99, {1}),
            LearnedDenoiser(*read).Denoise(x, 10, 0.99, {1}));
}

TEST(LearnedDenoiserTest, ALearnedProblemSamplesNearTheExactOne) {
  TempDir dir;
  const v1::DiffusionSpec spec = TinyLearnedSpec(dir.Sub("tiny.model"));
  WriteTinyModel(spec);
  auto learned = CreateDiffusionProblem(spec);
  ASSERT_TRUE(learned.ok()) << learned.status();
  v1::DiffusionSpec exact_spec = spec;
  exact_spec.clear_denoiser();
  auto exact = CreateDiffusionProblem(exact_spec);
  const auto& l = static_cast<const DiffusionProblem&>(**learned);
  const auto& e = static_cast<const DiffusionProblem&>(**exact);
  EXPECT_EQ(l.blocks(), 3);
  EXPECT_EQ(e.blocks(), 0);
  const double uniform_exact = e.Score(UniformSteps(10), SamplerKind::kDdim).fd;
  const double uniform_learned = l.Score(UniformSteps(10), SamplerKind::kDdim).fd;
  EXPECT_LT(uniform_learned, 3 * uniform_exact + 0.05) << uniform_exact;
  // Skipped blocks are feasible, reported as block evaluations, and change the samples.
  StepPlan plan{{0, 250, 500, 750}, {{0}, {}, {1, 2}, {}}};
  const v1::Evaluation skipping = (*learned)->Evaluate(DiffusionCandidate(plan), {});
  ASSERT_EQ(skipping.status(), v1::OK) << skipping.error();
  EXPECT_EQ(skipping.metrics().at("block_evaluations"), 4 * 3 - 3);
  const v1::Evaluation full = (*learned)->Evaluate(DiffusionCandidate(UniformSteps(4)), {});
  EXPECT_EQ(full.metrics().at("block_evaluations"), 12);
  EXPECT_NE(skipping.objectives(0), full.objectives(0));
  EXPECT_EQ((*learned)->Render(DiffusionCandidate(plan), RenderFormat::kText),
            "{0, 250, 500, 750} skipping 0: {0}; 500: {1, 2}");
}

TEST(LearnedDenoiserTest, KeysFollowTheModelsContentNotItsPath) {
  TempDir dir;
  const v1::DiffusionSpec spec = TinyLearnedSpec(dir.Sub("a.model"));
  const v1::DenoiserModel model = WriteTinyModel(spec);
  ASSERT_TRUE(WriteDenoiserModel(model, dir.Sub("b.model")).ok());
  v1::DiffusionSpec moved = spec;
  moved.mutable_denoiser()->set_model(dir.Sub("b.model"));
  moved.mutable_denoiser()->set_training_steps(9);  // training fields change no key
  const v1::Candidate c = DiffusionCandidate({1, 2, 3, 4});
  auto a = CreateDiffusionProblem(spec);
  auto b = CreateDiffusionProblem(moved);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(FunctionalKey(**a, c), FunctionalKey(**b, c));
  v1::DiffusionSpec exact_spec = spec;
  exact_spec.clear_denoiser();
  EXPECT_NE(FunctionalKey(**a, c), FunctionalKey(**CreateDiffusionProblem(exact_spec), c));
  // Another model (another seed) at the same path: another key.
  v1::DiffusionSpec retrained = spec;
  retrained.mutable_denoiser()->set_seed(77);
  WriteTinyModel(retrained);
  EXPECT_NE(FunctionalKey(**CreateDiffusionProblem(spec), c), FunctionalKey(**a, c));
}

struct BadModel {
  std::string what;
  std::function<void(v1::DiffusionSpec&, const TempDir&)> edit;
  std::string message_prefix;
};

TEST(LearnedDenoiserTest, MissingOrMismatchedModelsAreRefusedNamingTheField) {
  TempDir dir;
  const v1::DiffusionSpec tiny = TinyLearnedSpec(dir.Sub("tiny.model"));
  const v1::DenoiserModel model = WriteTinyModel(tiny);
  auto write = [&](const std::string& name, const v1::DenoiserModel& m) {
    EXPECT_TRUE(WriteDenoiserModel(m, dir.Sub(name)).ok());
    return dir.Sub(name);
  };
  const std::vector<BadModel> cases = {
      {"no model path", [](auto& s, auto&) { s.mutable_denoiser()->clear_model(); },
       "diffusion.denoiser.model: required"},
      {"a missing file",
       [](auto& s, const TempDir& d) { s.mutable_denoiser()->set_model(d.Sub("absent.model")); },
       "diffusion.denoiser.model: '" + dir.Sub("absent.model") + "' cannot be read"},
      {"not a model",
       [](auto& s, const TempDir& d) {
         std::ofstream(d.Sub("text.model")) << "not a protobuf \xff\xff\xff";
         s.mutable_denoiser()->set_model(d.Sub("text.model"));
       },
       "diffusion.denoiser.model: '" + dir.Sub("text.model") + "' is not a denoiser model"},
      {"a truncated parameter list",
       [&](auto& s, auto&) {
         v1::DenoiserModel m = model;
         m.mutable_parameters()->RemoveLast();
         s.mutable_denoiser()->set_model(write("short.model", m));
       },
       "diffusion.denoiser.model: '" + dir.Sub("short.model") + "' is not a valid model"},
      {"a NaN weight",
       [&](auto& s, auto&) {
         v1::DenoiserModel m = model;
         m.set_parameters(7, std::nanf(""));
         s.mutable_denoiser()->set_model(write("nan.model", m));
       },
       "diffusion.denoiser.model: '" + dir.Sub("nan.model") +
           "' is not a valid model: a parameter is not finite"},
      {"a model of another dimension",
       [](auto& s, auto&) { s.mutable_mixture()->set_dimension(5); },
       "diffusion.denoiser.model: '" + dir.Sub("tiny.model") +
           "' has dimension 4; diffusion.mixture.dimension is 5"},
      {"another block count", [](auto& s, auto&) { s.mutable_denoiser()->set_blocks(4); },
       "diffusion.denoiser.blocks: 4, but the model '" + dir.Sub("tiny.model") + "' has 3"},
      {"another width", [](auto& s, auto&) { s.mutable_denoiser()->set_width(32); },
       "diffusion.denoiser.width: 32, but the model"},
      {"the default block count", [](auto& s, auto&) { s.mutable_denoiser()->clear_blocks(); },
       "diffusion.denoiser.blocks: 8, but the model"},
      {"another schedule", [](auto& s, auto&) { s.set_schedule(v1::DiffusionSpec::LINEAR); },
       "diffusion.denoiser.model: '" + dir.Sub("tiny.model") +
           "' was trained for the cosine schedule; diffusion.schedule is linear"},
      {"another mixture", [](auto& s, auto&) { s.mutable_mixture()->set_seed(3); },
       "diffusion.denoiser.model: '" + dir.Sub("tiny.model") +
           "' was trained on other data than diffusion.mixture"},
      {"blocks over the limit", [](auto& s, auto&) { s.mutable_denoiser()->set_blocks(33); },
       "diffusion.denoiser.blocks: 33 exceeds the limit 32"},
      {"layer drop out of range", [](auto& s, auto&) { s.mutable_denoiser()->set_layer_drop(1); },
       "diffusion.denoiser.layer_drop: 1 is not in [0, 0.9]"},
      {"a joint search without a learned denoiser",
       [](auto& s, auto&) {
         s.clear_denoiser();
         s.mutable_joint()->set_block_budget(8);
       },
       "diffusion.joint: the joint search needs a denoiser with blocks"},
      {"no block budget", [](auto& s, auto&) { s.mutable_joint(); },
       "diffusion.joint.block_budget: required"},
      {"a budget below one step", [](auto& s, auto&) { s.mutable_joint()->set_block_budget(2); },
       "diffusion.joint.block_budget: 2 is below one unskipped step, 3 blocks"},
      {"a budget above K steps", [](auto& s, auto&) { s.mutable_joint()->set_block_budget(13); },
       "diffusion.joint.block_budget: 13 exceeds steps * blocks = 12"},
  };
  for (const BadModel& c : cases) {
    v1::DiffusionSpec spec = tiny;
    c.edit(spec, dir);
    auto problem = CreateDiffusionProblem(spec);
    ASSERT_FALSE(problem.ok()) << c.what;
    EXPECT_EQ(problem.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
    EXPECT_THAT(std::string(problem.status().message()), StartsWith(c.message_prefix)) << c.what;
  }
  // Training validates the same fields (the model path is not needed).
  v1::DiffusionSpec wide = tiny;
  wide.mutable_denoiser()->set_width(513);
  EXPECT_THAT(std::string(TrainDenoiser(wide).status().message()),
              StartsWith("diffusion.denoiser.width: 513 exceeds the limit 512"));
  v1::DiffusionSpec big_batch = tiny;
  big_batch.mutable_denoiser()->set_width(512);
  big_batch.mutable_denoiser()->set_blocks(32);
  big_batch.mutable_denoiser()->set_batch(8192);
  EXPECT_THAT(std::string(TrainDenoiser(big_batch).status().message()),
              StartsWith("diffusion.denoiser."));
  v1::DiffusionSpec no_mixture = tiny;
  no_mixture.mutable_mixture()->set_dimension(0);
  EXPECT_THAT(std::string(TrainDenoiser(no_mixture).status().message()),
              StartsWith("diffusion.mixture.dimension: "));
}

TEST(LearnedDenoiserTest, AFifoADeviceOrAFolderAsTheModelIsRefusedAtOnce) {
  TempDir dir;
  const std::string fifo = dir.Sub("fifo.model");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::filesystem::create_symlink("/dev/zero", dir.Sub("zero.model"));
  std::filesystem::create_directory(dir.Sub("folder.model"));
  // One byte over the limit, sparse: refused by its size, nothing read.
  std::ofstream(dir.Sub("huge.model")).close();
  std::filesystem::resize_file(dir.Sub("huge.model"), kMaxModelFileBytes + 1);
  auto refusal = [&](const std::string& path) {
    return testing::Promptly(
        [&] { return ReadDenoiserModel(path, "diffusion.denoiser.model").status(); }, fifo);
  };
  const std::string field = "diffusion.denoiser.model: '";
  const absl::Status from_fifo = refusal(fifo);
  EXPECT_EQ(from_fifo.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(from_fifo.message(), field + fifo + "' is not a regular file (a FIFO)");
  EXPECT_EQ(refusal(dir.Sub("zero.model")).message(),
            field + dir.Sub("zero.model") + "' is not a regular file (a character device)");
  EXPECT_EQ(refusal(dir.Sub("folder.model")).message(),
            field + dir.Sub("folder.model") + "' is not a regular file (a directory)");
  EXPECT_EQ(refusal(dir.Sub("huge.model")).message(),
            field + dir.Sub("huge.model") + "' has 67108865 bytes; the limit is 67108864");
  // A spec naming the FIFO is refused the same way.
  const absl::Status spec = testing::Promptly(
      [&] { return CreateDiffusionProblem(TinyLearnedSpec(fifo)).status(); }, fifo);
  EXPECT_EQ(spec.message(), field + fifo + "' is not a regular file (a FIFO)");
}

TEST(LearnedDenoiserTest, WritingToAnUnwritablePathFails) {
  TempDir dir;
  const absl::Status status = WriteDenoiserModel(v1::DenoiserModel(), dir.Sub("no/such/dir/model"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), HasSubstr("cannot write"));
}

}  // namespace
}  // namespace evolv
