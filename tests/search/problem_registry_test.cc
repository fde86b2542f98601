#include "search/problem_registry.h"

#include <gtest/gtest.h>

#include "evolv/test/arms.pb.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

// The toy problem with a canonical spec of the test's choosing.
class ToyWithSpec : public testing::ToyProblem {
 public:
  ToyWithSpec(std::string canonical, std::string name = "toy")
      : ToyProblem(2, 0, 0), canonical_(std::move(canonical)), name_(std::move(name)) {}
  std::string CanonicalSpec() const override { return canonical_; }
  std::string Domain() const override { return name_; }

 private:
  std::string canonical_;
  std::string name_;
};

TypedProblemFactory<test::ToySpec> Factory(std::string canonical, std::string name = "toy") {
  return [canonical, name](const test::ToySpec&) -> absl::StatusOr<std::unique_ptr<Problem>> {
    return std::make_unique<ToyWithSpec>(canonical, name);
  };
}

TEST(ProblemRegistryTest, AnEmptyCanonicalSpecIsRefusedAtRegistration) {
  ProblemRegistry registry;
  const absl::Status status = registry.Register<test::ToySpec>("toy", Factory(""), {});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("empty canonical spec"), std::string::npos) << status;
  EXPECT_TRUE(registry.Domains().empty());
}

TEST(ProblemRegistryTest, TwoDomainsWithOneNameOrOneSpecTypeAreRefused) {
  ProblemRegistry registry;
  ASSERT_TRUE(registry.Register<test::ToySpec>("toy", Factory("a"), {}).ok());
  // Same name, another spec type.
  const absl::Status same_name = registry.Register<test::ArmChoice>(
      "toy",
      [](const test::ArmChoice&) -> absl::StatusOr<std::unique_ptr<Problem>> {
        return std::make_unique<ToyWithSpec>("b");
      },
      {});
  EXPECT_EQ(same_name.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(same_name.message().find("registered twice"), std::string::npos) << same_name;
  // Another name, the same spec type.
  const absl::Status same_type =
      registry.Register<test::ToySpec>("other", Factory("c", "other"), {});
  EXPECT_EQ(same_type.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(same_type.message().find("share the spec type"), std::string::npos) << same_type;
  EXPECT_EQ(registry.Domains(), std::vector<std::string>{"toy"});
}

TEST(ProblemRegistryTest, AProblemMustCallItselfByItsRegisteredName) {
  ProblemRegistry registry;
  const absl::Status status = registry.Register<test::ToySpec>("toy", Factory("a", "else"), {});
  EXPECT_NE(status.message().find("calls itself 'else'"), std::string::npos) << status;
}

TEST(ProblemRegistryTest, SpecsAreRoutedByTheirTypeAndUnknownTypesNamed) {
  ProblemRegistry registry;
  ASSERT_TRUE(testing::RegisterToyDomain(registry).ok());
  v1::JobSpec spec;
  auto none = registry.Create(spec);
  EXPECT_NE(none.status().message().find("problem: the spec names no problem domain (one of: toy)"),
            std::string::npos)
      << none.status();
  spec.mutable_problem()->PackFrom(test::ToySpec());
  ASSERT_TRUE(registry.Create(spec).ok());
  EXPECT_EQ(registry.DomainOf(spec), "toy");
  EXPECT_EQ(registry.SpecTypeOf("toy"), "evolv.test.ToySpec");
  spec.mutable_problem()->set_type_url("type.googleapis.com/evolv.test.Nope");
  auto unknown = registry.Create(spec);
  EXPECT_NE(unknown.status().message().find("unknown problem type 'evolv.test.Nope'"),
            std::string::npos)
      << unknown.status();
  EXPECT_EQ(registry.DomainOf(spec), "");
}

TEST(ProblemRegistryTest, ADomainThisMachineCannotRunIsRegisteredAndListedAsUnavailable) {
  ProblemRegistry registry;
  // The factory refuses specs without data (as a domain does when its dataset is not installed)
  // and builds the problem for the others.
  auto factory = [](const test::ToySpec& spec) -> absl::StatusOr<std::unique_ptr<Problem>> {
    if (spec.dims() == 0) return absl::FailedPreconditionError("toy.data: not installed");
    return std::make_unique<ToyWithSpec>("a");
  };
  ASSERT_TRUE(registry.Register<test::ToySpec>("toy", factory, {}).ok());
  ASSERT_EQ(registry.Unavailable().count("toy"), 1u);
  EXPECT_EQ(registry.Unavailable().at("toy"), "toy.data: not installed");
  EXPECT_EQ(registry.Domains(), std::vector<std::string>{"toy"});
  v1::JobSpec spec;
  spec.mutable_problem()->PackFrom(test::ToySpec());
  EXPECT_EQ(registry.Create(spec).status().code(), absl::StatusCode::kFailedPrecondition);
  test::ToySpec with_data;
  with_data.set_dims(2);
  spec.mutable_problem()->PackFrom(with_data);
  EXPECT_TRUE(registry.Create(spec).ok());
  // Any other refusal of the example is still a startup error.
  ProblemRegistry strict;
  auto broken = [](const test::ToySpec&) -> absl::StatusOr<std::unique_ptr<Problem>> {
    return absl::InvalidArgumentError("toy.x: bad");
  };
  EXPECT_EQ(strict.Register<test::ToySpec>("toy", broken, {}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace evolv
