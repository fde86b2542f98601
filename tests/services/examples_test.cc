// Every spec in examples/ parses with the built-in domains and passes validation, so the
// README's commands do not start with a typo. Specs that name a model file evolv trains first
// (`evolv train-denoiser`) may only fail on that file, and only while it is missing.
#include <gtest/gtest.h>

#include <filesystem>

#include "evaluators/registry.h"
#include "search/job_spec.h"
#include "services/spec_io.h"

namespace evolv {
namespace {

TEST(ExamplesTest, EveryExampleParsesAndValidates) {
  const std::filesystem::path examples = std::filesystem::path(EVOLV_SOURCE_DIR) / "examples";
  const ProblemRegistry& registry = BuiltinProblems();
  int checked = 0;
  // Model paths in the examples are relative to the repository root.
  std::filesystem::current_path(EVOLV_SOURCE_DIR);
  for (const auto& entry : std::filesystem::directory_iterator(examples)) {
    const std::string path = entry.path().string();
    // Specs only: JSON and text-format files (a study's objective script sits beside them).
    const std::string extension = entry.path().extension().string();
    if (extension != ".json" && extension != ".txtpb") continue;
    auto spec = LoadJobSpec(path, registry);
    ASSERT_TRUE(spec.ok()) << path << ": " << spec.status();
    const absl::Status valid = ValidateJobSpec(*spec, registry);
    ++checked;
    if (valid.ok()) continue;
    const std::string message(valid.message());
    EXPECT_NE(message.find("diffusion.denoiser.model: '"), std::string::npos) << path << ": " << valid;
    EXPECT_NE(message.find("cannot be"), std::string::npos) << path << ": " << valid;
  }
  EXPECT_GE(checked, 9);
}

}  // namespace
}  // namespace evolv
