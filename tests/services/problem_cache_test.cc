#include "services/evolvd/problem_cache.h"

#include <gtest/gtest.h>

#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

using testing::ToyJob;
using testing::ToyJobOptions;
using testing::ToyRegistry;

v1::JobSpec ToySpec(int dims) {
  ToyJobOptions options;
  options.dims = dims;
  return ToyJob(options).spec();
}

const Problem* Get(ProblemCache& cache, const v1::JobSpec& spec) {
  auto problem = cache.Get(spec);
  EXPECT_TRUE(problem.ok()) << problem.status();
  return problem.ok() ? problem->get() : nullptr;
}

TEST(ProblemCacheTest, JobsWithTheSameProblemShareOneInstance) {
  ProblemCache cache(ToyRegistry(), 4);
  v1::JobSpec a = ToySpec(3);
  v1::JobSpec b = ToySpec(3);
  b.set_name("another job");  // only the problem part is the key
  b.set_seed(99);
  EXPECT_EQ(Get(cache, a), Get(cache, b));
  EXPECT_NE(Get(cache, a), Get(cache, ToySpec(4)));
  EXPECT_EQ(cache.size(), 2u);
}

// The toy domain in a registry of its own that counts how often a problem is built.
struct CountingRegistry {
  CountingRegistry() {
    absl::Status status = registry.Register<test::ToySpec>(
        "toy",
        [this](const test::ToySpec& s) -> absl::StatusOr<std::unique_ptr<Problem>> {
          ++builds;
          return std::make_unique<testing::ToyProblem>(s.dims() ? s.dims() : 4, 0, 0);
        },
        test::ToySpec());
    EXPECT_TRUE(status.ok()) << status;
    builds = 0;  // registration builds its example once
  }
  ProblemRegistry registry;
  int builds = 0;
};

TEST(ProblemCacheTest, DiscardsByLruPolicy) {
  CountingRegistry counting;
  ProblemCache cache(counting.registry, 2);
  Get(cache, ToySpec(1));
  Get(cache, ToySpec(2));
  EXPECT_EQ(counting.builds, 2);
  Get(cache, ToySpec(1));  // a hit; 1 is now the most recently used
  EXPECT_EQ(counting.builds, 2);
  Get(cache, ToySpec(3));  // full: evicts 2, the least recently used
  EXPECT_EQ(counting.builds, 3);
  EXPECT_EQ(cache.size(), 2u);
  Get(cache, ToySpec(1));  // still held
  EXPECT_EQ(counting.builds, 3);
  Get(cache, ToySpec(2));  // built again, evicting 3
  EXPECT_EQ(counting.builds, 4);
  Get(cache, ToySpec(3));
  EXPECT_EQ(counting.builds, 5);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ProblemCacheTest, AnEvictedProblemStaysValidForItsHolder) {
  ProblemCache cache(ToyRegistry(), 1);
  auto held = cache.Get(ToySpec(1));
  ASSERT_TRUE(held.ok());
  auto other = cache.Get(ToySpec(2));  // evicts 1
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ((*held)->ObjectiveNames().size(), 2u);  // still usable
  auto rebuilt = cache.Get(ToySpec(1));
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_NE(rebuilt->get(), held->get());  // a fresh build: the cache had dropped it
}

TEST(ProblemCacheTest, TheSameProblemPackedDifferentlyIsOneKey) {
  // protobuf's JSON parser writes fields set to their default into an Any; the binary
  // serializer leaves them out. Both are the same problem.
  v1::JobSpec packed = ToySpec(3);
  v1::JobSpec verbose = packed;
  std::string value = verbose.problem().value();
  value += std::string("\x11\0\0\0\0\0\0\0\0", 9);  // noise = 0.0, written explicitly
  verbose.mutable_problem()->set_value(value);
  ASSERT_NE(packed.problem().SerializeAsString(), verbose.problem().SerializeAsString());
  EXPECT_EQ(ProblemBytes(packed), ProblemBytes(verbose));
  EXPECT_NE(ProblemBytes(packed), ProblemBytes(ToySpec(4)));

  ProblemCache cache(ToyRegistry(), 4);
  EXPECT_EQ(Get(cache, packed), Get(cache, verbose));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ProblemCacheTest, AnUnbuildableSpecIsAnErrorAndNotCached) {
  ProblemCache cache(ToyRegistry(), 2);
  v1::JobSpec spec;
  spec.mutable_problem()->PackFrom(v1::Budget());  // no domain has this spec type
  auto problem = cache.Get(spec);
  EXPECT_EQ(problem.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.size(), 0u);
  v1::ProblemDescription description = cache.Describe(spec);
  EXPECT_EQ(description.domain(), "");
  EXPECT_EQ(description.objective_names_size(), 0);
}

TEST(ProblemCacheTest, DescribesTheDomainAndObjectivesFromTheRegistryAndProblem) {
  ProblemCache cache(ToyRegistry());
  v1::ProblemDescription description = cache.Describe(ToySpec(2));
  EXPECT_EQ(description.domain(), "toy");
  ASSERT_EQ(description.objective_names_size(), 2);
  EXPECT_EQ(description.objective_names(0), "distance");
  EXPECT_EQ(description.objective_names(1), "norm");
  // And how to show each, as the problem describes it.
  ASSERT_EQ(description.objectives_size(), 2);
  EXPECT_EQ(description.objectives(0).name(), "distance");
  EXPECT_EQ(description.objectives(0).label(), "squared distance");
  EXPECT_EQ(description.objectives(1).label(), "L1 norm");
}

}  // namespace
}  // namespace evolv
