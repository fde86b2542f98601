#include "services/spec_io.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

TEST(SpecIoTest, ReadsTextFormatAndJsonAlike) {
  auto text = ParseJobSpec(R"(
      name: "log2 on [1, 2]"
      numerics { target: "log2" lower: 1 upper: 2 mode: FLOAT32 max_ops: 8 }
      strategy { regularized_evolution { population_size: 50 } }
      budget { max_evaluations: 1000 }
      seed: 3)",
                           "inline");
  ASSERT_TRUE(text.ok()) << text.status();
  auto json = ParseJobSpec(R"({"name": "log2 on [1, 2]",
      "numerics": {"target": "log2", "lower": 1, "upper": 2, "mode": "FLOAT32", "maxOps": 8},
      "strategy": {"regularized_evolution": {"population_size": 50}},
      "budget": {"max_evaluations": 1000}, "seed": 3})",
                           "inline");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(text->SerializeAsString(), json->SerializeAsString());
  EXPECT_EQ(text->numerics().mode(), v1::FLOAT32);
}

TEST(SpecIoTest, MalformedTextNamesTheFileAndLine) {
  auto spec = ParseJobSpec("name: \"x\"\nnumerics { target: }\n", "spec.txtpb");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find("spec.txtpb: malformed text-format job spec: line 2"),
            std::string::npos)
      << spec.status();
}

TEST(SpecIoTest, UnreadableAndOversizedFilesAreRefused) {
  TempDir dir;
  auto missing = LoadJobSpec(dir.Sub("nope.json"));
  EXPECT_NE(missing.status().message().find("cannot read the spec file"), std::string::npos);
  const std::string big = dir.Sub("big.json");
  std::ofstream(big) << std::string((1 << 20) + 1, ' ');
  auto oversized = LoadJobSpec(big);
  EXPECT_NE(oversized.status().message().find("larger than 1 MiB"), std::string::npos);
}

}  // namespace
}  // namespace evolv
