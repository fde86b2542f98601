#include "services/spec_io.h"

#include <gtest/gtest.h>

#include <fstream>

#include "evaluators/registry.h"
#include "evolv/test/toy.pb.h"
#include "evolv/v1/numerics.pb.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

TEST(SpecIoTest, ReadsTextFormatAndJsonAlike) {
  auto text = ParseJobSpec(R"(
      name: "log2 on [1, 2]"
      numerics { target: "log2" lower: 1 upper: 2 mode: FLOAT32 max_ops: 8 }
      strategy { regularized_evolution { population_size: 50 } }
      budget { max_evaluations: 1000 }
      seed: 3)",
                           "inline", BuiltinProblems());
  ASSERT_TRUE(text.ok()) << text.status();
  auto json = ParseJobSpec(R"({"name": "log2 on [1, 2]",
      "numerics": {"target": "log2", "lower": 1, "upper": 2, "mode": "FLOAT32", "maxOps": 8},
      "strategy": {"regularized_evolution": {"population_size": 50}},
      "budget": {"max_evaluations": 1000}, "seed": 3})",
                           "inline", BuiltinProblems());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(text->SerializeAsString(), json->SerializeAsString());
  v1::NumericsSpec numerics;
  ASSERT_TRUE(text->problem().UnpackTo(&numerics));
  EXPECT_EQ(numerics.mode(), v1::FLOAT32);
}

TEST(SpecIoTest, ShortFormIsTheAnyFormOfARegisteredDomain) {
  auto any_json = ParseJobSpec(R"({"problem": {"@type": "type.googleapis.com/evolv.v1.NumericsSpec",
      "target": "exp2", "max_ops": 4}, "seed": 2})",
                               "inline", BuiltinProblems());
  ASSERT_TRUE(any_json.ok()) << any_json.status();
  auto short_json = ParseJobSpec(R"({"numerics": {"target": "exp2", "max_ops": 4}, "seed": 2})",
                                 "inline", BuiltinProblems());
  ASSERT_TRUE(short_json.ok()) << short_json.status();
  auto any_text = ParseJobSpec(R"(problem { [type.googleapis.com/evolv.v1.NumericsSpec] {
      target: "exp2" max_ops: 4 } } seed: 2)",
                               "inline", BuiltinProblems());
  ASSERT_TRUE(any_text.ok()) << any_text.status();
  EXPECT_EQ(short_json->SerializeAsString(), any_json->SerializeAsString());
  EXPECT_EQ(any_text->SerializeAsString(), any_json->SerializeAsString());
  EXPECT_EQ(BuiltinProblems().DomainOf(*short_json), "numerics");

  // The short names are the registry's: the toy domain is one where it is registered, and an
  // unknown field elsewhere.
  auto toy = ParseJobSpec("toy { dims: 3 }\nseed: 2", "inline", testing::ToyRegistry());
  ASSERT_TRUE(toy.ok()) << toy.status();
  test::ToySpec toy_spec;
  ASSERT_TRUE(toy->problem().UnpackTo(&toy_spec));
  EXPECT_EQ(toy_spec.dims(), 3u);
  auto unknown = ParseJobSpec("toy { dims: 3 }\nseed: 2", "spec.txtpb", BuiltinProblems());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("spec.txtpb: malformed text-format job spec: line 1"),
            std::string::npos)
      << unknown.status();
}

TEST(SpecIoTest, MalformedTextNamesTheFileAndLine) {
  auto spec = ParseJobSpec("name: \"x\"\nnumerics { target: }\n", "spec.txtpb", BuiltinProblems());
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find("spec.txtpb: malformed text-format job spec: line 2"),
            std::string::npos)
      << spec.status();
}

TEST(SpecIoTest, UnreadableAndOversizedFilesAreRefused) {
  TempDir dir;
  auto missing = LoadJobSpec(dir.Sub("nope.json"), BuiltinProblems());
  EXPECT_NE(missing.status().message().find("cannot read the spec file"), std::string::npos);
  const std::string big = dir.Sub("big.json");
  std::ofstream(big) << std::string((1 << 20) + 1, ' ');
  auto oversized = LoadJobSpec(big, BuiltinProblems());
  EXPECT_NE(oversized.status().message().find("larger than 1 MiB"), std::string::npos);
}

}  // namespace
}  // namespace evolv
