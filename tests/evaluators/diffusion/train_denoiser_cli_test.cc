// Process-level tests of `evolv train-denoiser` and of `evolv run` on a learned-denoiser spec:
// the real binary, real files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "evaluators/diffusion/learned_denoiser.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

class TrainDenoiserCliTest : public ::testing::Test {
 protected:
  // A job spec with the tiny mixture and a 3-block denoiser at `model`; `extra` is spliced into
  // the diffusion object.
  std::string WriteSpec(const std::string& name, const std::string& model,
                        const std::string& extra = "") {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << R"({
      "name": "tiny learned",
      "diffusion": {
        "mixture": {"dimension": 4, "components": 3, "seed": 2},
        "steps": 4, "samples": 100,
        "denoiser": {"model": ")"
                        << model << R"(", "blocks": 3, "width": 16, "training_steps": 200,
                     "batch": 64, "seed": 5})"
                        << extra << R"(
      },
      "strategy": {"top_k_evolution": {"population": 12, "top_k": 4, "mutants": 6,
        "crossovers": 3, "initial_random": 5, "generations": 2,
        "stages": [{"generations": 3, "crossovers": 4, "allowance_step": 0.2,
                    "allowance_cap": 0.34, "open_by": 1}]}},
      "budget": {"max_evaluations": 60},
      "seed": 3,
      "window": 4
    })";
    return path;
  }

  Outcome Run(std::vector<std::string> args) {
    args.insert(args.begin(), EVOLV_BINARY);
    const std::string tag = std::to_string(runs_++);
    Subprocess process(args, dir_.Sub("out" + tag), dir_.Sub("err" + tag));
    const auto code = process.Wait(120s);
    EXPECT_TRUE(code.has_value()) << "evolv did not finish";
    return {code.value_or(-1), process.Stdout(), process.Stderr()};
  }

  TempDir dir_;
  int runs_ = 0;
};

TEST_F(TrainDenoiserCliTest, TrainsTheSpecsModelThenRunsAJointJobOnIt) {
  const std::string model = dir_.Sub("tiny.model");
  const std::string spec = WriteSpec("spec.json", model, R"(, "joint": {"block_budget": 9})");
  const Outcome trained = Run({"train-denoiser", spec});
  ASSERT_EQ(trained.code, 0) << trained.err;
  EXPECT_THAT(trained.out, HasSubstr("wrote " + model));
  EXPECT_THAT(trained.out, HasSubstr("3 blocks x 16"));
  EXPECT_THAT(trained.err, HasSubstr("step 200/200"));
  auto read = ReadDenoiserModel(model, "model");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->training().training_steps(), 200u);

  const Outcome run =
      Run({"run", spec, "--data-dir", dir_.Sub("data"), "--workers", "2", "--no-progress"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("denoiser: learned residual MLP, 3 blocks of width 16"));
  EXPECT_THAT(run.out, HasSubstr("joint search: at most 9 block evaluations per sample"));
  EXPECT_THAT(run.out, HasSubstr("searched (result"));

  // --out writes elsewhere, the same bytes (training is deterministic).
  const Outcome elsewhere = Run({"train-denoiser", spec, "--out", dir_.Sub("copy.model")});
  ASSERT_EQ(elsewhere.code, 0) << elsewhere.err;
  auto slurp = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(slurp(dir_.Sub("copy.model")), slurp(model));
}

TEST_F(TrainDenoiserCliTest, BadUsageAndBadSpecsExitWithTwoNamingTheField) {
  EXPECT_EQ(Run({"train-denoiser"}).code, 2);
  const Outcome missing_file = Run({"train-denoiser", dir_.Sub("absent.json")});
  EXPECT_EQ(missing_file.code, 2);

  const std::string bad = WriteSpec("bad.json", dir_.Sub("m.model"), R"(, "joint": {})");
  std::string text;
  {
    std::ifstream in(bad);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("\"width\": 16"), 11, "\"width\": 600");
  std::ofstream(dir_.Sub("wide.json")) << text;
  const Outcome wide = Run({"train-denoiser", dir_.Sub("wide.json")});
  EXPECT_EQ(wide.code, 2);
  EXPECT_THAT(wide.err, HasSubstr("diffusion.denoiser.width: 600 exceeds the limit 512"));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("m.model")));

  // A spec naming a model that does not exist: evolv run refuses it before storing anything.
  const Outcome run = Run({"run", WriteSpec("run.json", dir_.Sub("never.model")), "--data-dir",
                           dir_.Sub("data"), "--no-progress"});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("diffusion.denoiser.model: '" + dir_.Sub("never.model") +
                                 "' cannot be read"));

  // A job without the model path and no --out: nothing to write.
  std::ofstream(dir_.Sub("exact.json"))
      << R"({"diffusion": {"mixture": {"dimension": 4}, "steps": 4},
             "budget": {"max_evaluations": 10}})";
  const Outcome no_path = Run({"train-denoiser", dir_.Sub("exact.json")});
  EXPECT_EQ(no_path.code, 2);
  EXPECT_THAT(no_path.err, HasSubstr("give --out MODEL or diffusion.denoiser.model"));
}

}  // namespace
}  // namespace evolv
