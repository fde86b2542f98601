// The numerics cache contract on replayed searches (cache_replay.h): every cache hit must serve
// what evaluating the candidate gives, within CompareHit's tolerance, and programs written
// differently must still share keys.
#include <gtest/gtest.h>

#include "evaluators/numerics/numerics_problem.h"
#include "tests/evaluators/numerics/cache_replay.h"

namespace evolv::numerics::testing {
namespace {

ReplayStats Replay(v1::ArithmeticMode mode, uint64_t candidates) {
  v1::NumericsSpec spec = NumericsExampleSpec();  // exp2 on [0, 1], max_ops 10
  spec.set_mode(mode);
  auto problem = CreateNumericsProblem(spec);
  EXPECT_TRUE(problem.ok()) << problem.status();
  ReplayOptions options;
  options.candidates = candidates;
  return ReplaySearch(**problem, options);
}

std::string Describe(const ReplayStats& stats) {
  std::string out = stats.Summary();
  for (const ReplayDisagreement& d : stats.disagreements) {
    out += "#" + std::to_string(d.first_index) + " vs #" + std::to_string(d.index) + ": " +
           d.cached.ShortDebugString() + " / " + d.fresh.ShortDebugString() + "\n";
  }
  return out;
}

TEST(CacheContractTest, RealHitsServeWhatEvaluationGives) {
  const ReplayStats stats = Replay(v1::REAL, 1500);
  EXPECT_EQ(stats.beyond_contract, 0u) << Describe(stats);
  EXPECT_EQ(stats.cost_differs + stats.instructions_differ + stats.status_differs, 0u);
  EXPECT_GT(stats.hits_functional, 20u) << stats.Summary();  // not only copies share keys
}

TEST(CacheContractTest, Float32HitsServeWhatEvaluationGives) {
  const ReplayStats stats = Replay(v1::FLOAT32, 1200);
  EXPECT_EQ(stats.beyond_contract, 0u) << Describe(stats);
  EXPECT_EQ(stats.cost_differs + stats.instructions_differ + stats.status_differs, 0u);
  EXPECT_GT(stats.hits_functional, 5u) << stats.Summary();
}

}  // namespace
}  // namespace evolv::numerics::testing
