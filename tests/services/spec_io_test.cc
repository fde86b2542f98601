#include "services/spec_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "evaluators/registry.h"
#include "evolv/test/toy.pb.h"
#include "evolv/v1/numerics.pb.h"
#include "tests/support/promptly.h"
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

TEST(SpecIoTest, AJsonTrailingCommaIsRefusedNamingWhereItIs) {
  const std::string object =
      "{\"name\": \"x\",\n \"numerics\": {\"target\": \"exp2\",},\n \"seed\": 2}";
  auto spec = ParseJobSpec(object, "spec.json", BuiltinProblems());
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(spec.status().message()),
            "spec.json: malformed JSON job spec: line 2, column 31: trailing comma before '}'");
  auto in_list = ParseJobSpec(R"({"strategy": {"bandit": {"policies": ["chebcb", ]}}})",
                              "spec.json", BuiltinProblems());
  ASSERT_FALSE(in_list.ok());
  EXPECT_NE(in_list.status().message().find("trailing comma before ']'"), std::string::npos)
      << in_list.status();
  auto last = ParseJobSpec("{\"seed\": 2,\n}\n", "spec.json", BuiltinProblems());
  ASSERT_FALSE(last.ok());
  EXPECT_NE(last.status().message().find("line 1, column 11"), std::string::npos) << last.status();
  // A comma inside a string is text, not JSON syntax.
  auto quoted = ParseJobSpec(R"({"name": "a,}", "seed": 2})", "spec.json", BuiltinProblems());
  ASSERT_TRUE(quoted.ok()) << quoted.status();
  EXPECT_EQ(quoted->name(), "a,}");
}

TEST(SpecIoTest, UnreadableAndOversizedFilesAreRefused) {
  TempDir dir;
  auto missing = LoadJobSpec(dir.Sub("nope.json"), BuiltinProblems());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(),
            dir.Sub("nope.json") + ": cannot open for reading (No such file or directory)");
  const std::string big = dir.Sub("big.json");
  std::ofstream(big) << std::string((1 << 20) + 1, ' ');
  auto oversized = LoadJobSpec(big, BuiltinProblems());
  EXPECT_EQ(oversized.status().message(), big + ": spec file of 1048577 bytes, larger than 1 MiB");
}

TEST(SpecIoTest, AFifoOrADeviceAsTheSpecFileIsRefusedBeforeAnyRead) {
  TempDir dir;
  const std::string fifo = dir.Sub("spec.json");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::filesystem::create_symlink("/dev/zero", dir.Sub("zero.json"));
  const absl::Status from_fifo =
      testing::Promptly([&] { return LoadJobSpec(fifo, BuiltinProblems()).status(); }, fifo);
  EXPECT_EQ(from_fifo.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(from_fifo.message(), fifo + ": not a regular file (a FIFO)");
  const absl::Status from_zero = testing::Promptly(
      [&] { return LoadJobSpec(dir.Sub("zero.json"), BuiltinProblems()).status(); });
  EXPECT_EQ(from_zero.message(),
            dir.Sub("zero.json") + ": not a regular file (a character device)");
  // A sparse file of 1 TiB is refused by its size, unread.
  std::ofstream(dir.Sub("sparse.json")).close();
  std::filesystem::resize_file(dir.Sub("sparse.json"), uint64_t{1} << 40);
  const absl::Status sparse = testing::Promptly(
      [&] { return LoadJobSpec(dir.Sub("sparse.json"), BuiltinProblems()).status(); });
  EXPECT_EQ(sparse.message(),
            dir.Sub("sparse.json") + ": spec file of 1099511627776 bytes, larger than 1 MiB");
}

}  // namespace
}  // namespace evolv
