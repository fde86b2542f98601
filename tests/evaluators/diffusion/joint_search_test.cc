// The joint search of steps and skipped blocks: the plan operators keep the budget and the skip
// bound, and the top-k evolution's later stage opens skipping gradually on a learned denoiser.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "evaluators/diffusion/diffusion_problem.h"
#include "evaluators/diffusion/step_plan.h"
#include "search/top_k_evolution.h"
#include "tests/evaluators/diffusion/tiny_model.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using testing::TinyJointConfig;
using testing::TinyLearnedSpec;
using testing::WriteTinyModel;

// Checks the invariants every plan keeps; returns a description of the first broken one.
std::string Broken(const StepPlan& plan, const PlanLimits& limits, int skip_limit) {
  const int k = static_cast<int>(plan.steps.size());
  if (k < limits.min_steps || k > limits.max_steps) return "step count " + std::to_string(k);
  if (plan.skipped.size() != plan.steps.size()) return "skipped sets do not match the steps";
  for (int i = 0; i < k; ++i) {
    if (plan.steps[i] < 0 || plan.steps[i] >= kDiffusionTimeSteps) return "step out of range";
    if (i > 0 && plan.steps[i] <= plan.steps[i - 1]) return "steps not distinct ascending";
    const std::vector<int>& s = plan.skipped[i];
    if (static_cast<int>(s.size()) > skip_limit) return "a step skips more than the limit";
    for (size_t j = 0; j < s.size(); ++j) {
      if (s[j] < 0 || s[j] >= limits.blocks) return "block out of range";
      if (j > 0 && s[j] <= s[j - 1]) return "blocks not distinct ascending";
    }
  }
  if (BlockEvaluations(plan, limits.blocks) > limits.budget) return "over the budget";
  return "";
}

TEST(StepPlanTest, SkipLimitRoundsTheShareToWholeBlocks) {
  EXPECT_EQ(SkipLimit(0, 8), 0);
  EXPECT_EQ(SkipLimit(0.02, 8), 0);
  EXPECT_EQ(SkipLimit(0.06, 8), 0);
  EXPECT_EQ(SkipLimit(0.0625, 8), 1);
  EXPECT_EQ(SkipLimit(0.1, 8), 1);  // AutoDiffusion's cap lets one block of 8 go
  EXPECT_EQ(SkipLimit(0.1875, 8), 2);
  EXPECT_EQ(SkipLimit(0.25, 8), 2);
  EXPECT_EQ(SkipLimit(1.0, 8), 8);
  EXPECT_EQ(SkipLimit(0.5, 0), 0);
}

TEST(StepPlanTest, OperatorsKeepTheBudgetTheStepCountAndTheSkipLimit) {
  const PlanLimits limits{8, 1, 10, 48};  // 60 % of 10 unskipped steps of 8 blocks
  Rng rng(17);
  for (int skip_limit : {0, 1, 2}) {
    std::vector<StepPlan> pool;
    for (int i = 0; i < 20; ++i) {
      pool.push_back(RandomPlan(limits, skip_limit, rng));
      ASSERT_EQ(Broken(pool.back(), limits, skip_limit), "");
    }
    // Steps only: the whole steps that fit, 6.
    if (skip_limit == 0) {
      EXPECT_EQ(pool[0].steps.size(), 6u);
    }
    for (int round = 0; round < 300; ++round) {
      const StepPlan& a = pool[rng.Below(pool.size())];
      const StepPlan& b = pool[rng.Below(pool.size())];
      StepPlan mutant = MutatePlan(a, limits, skip_limit, 0.25, rng);
      ASSERT_EQ(Broken(mutant, limits, skip_limit), "") << "mutant, limit " << skip_limit;
      StepPlan child = CrossPlans(a, b, limits, rng);
      ASSERT_EQ(Broken(child, limits, skip_limit), "") << "child, limit " << skip_limit;
      // A child's steps and their skipped blocks come from a parent.
      for (size_t i = 0; i < child.steps.size(); ++i) {
        bool found = false;
        for (const StepPlan* p : {&a, &b}) {
          const auto at = std::find(p->steps.begin(), p->steps.end(), child.steps[i]);
          if (at != p->steps.end() && p->skipped[at - p->steps.begin()] == child.skipped[i]) {
            found = true;
          }
        }
        EXPECT_TRUE(found) << child.steps[i];
      }
      pool[rng.Below(pool.size())] = rng.Bernoulli(0.5) ? std::move(mutant) : std::move(child);
    }
    // Skipping 2 blocks per step pays for more steps than the 6 unskipped ones; skipping 1
    // cannot (a seventh step needs 8 blocks skipped over 7 steps).
    const bool longer =
        std::any_of(pool.begin(), pool.end(), [](const StepPlan& p) { return p.steps.size() > 6; });
    EXPECT_EQ(longer, skip_limit == 2) << skip_limit;
  }
}

TEST(StepPlanTest, CrossoverKeepsAParentsStepCountWithinTheBudget) {
  // AutoDiffusion's crossover can duplicate steps and leave fewer than K; here the child has the
  // step count of one parent whenever the budget holds it.
  const PlanLimits limits{4, 1, 10, 40};
  Rng rng(3);
  const StepPlan a{{10, 20, 40, 90}, {{}, {1}, {}, {0, 2}}};
  const StepPlan b{{20, 30, 50, 60, 70}, {{}, {}, {3}, {}, {}}};
  std::set<size_t> sizes;
  for (int i = 0; i < 200; ++i) {
    const StepPlan child = CrossPlans(a, b, limits, rng);
    sizes.insert(child.steps.size());
    ASSERT_EQ(Broken(child, limits, 2), "");
  }
  EXPECT_EQ(sizes, (std::set<size_t>{4, 5}));
}

TEST(StepPlanTest, SkippedBlocksMutateByAssignment) {
  // AutoDiffusion's code wrote `cand['skip_layers'][i][j] == new_c`: a step that skips blocks
  // never changed them. Here they do, and the step count of the parent stays where the budget
  // is full (no step can be added or dropped at rate 0 for the count moves).
  const PlanLimits limits{8, 4, 4, 28};
  const StepPlan parent{{0, 250, 500, 750}, {{0}, {1}, {2}, {3}}};
  Rng rng(5);
  int changed = 0;
  for (int i = 0; i < 200; ++i) {
    const StepPlan child = MutatePlan(parent, limits, 1, 0.3, rng);
    ASSERT_EQ(Broken(child, limits, 1), "");
    if (child.steps == parent.steps && child.skipped != parent.skipped) ++changed;
  }
  EXPECT_GT(changed, 20);
}

TEST(JointSearchTest, TheJointStageRespectsTheBudgetAndTheGrowingSkipBound) {
  TempDir dir;
  v1::DiffusionSpec spec = TinyLearnedSpec(dir.Sub("tiny.model"));
  spec.mutable_joint()->set_block_budget(9);
  WriteTinyModel(spec);
  auto created = CreateDiffusionProblem(spec);
  ASSERT_TRUE(created.ok()) << created.status();
  const auto& problem = static_cast<const DiffusionProblem&>(**created);
  EXPECT_EQ(problem.first_steps(), 3);
  const std::vector<v1::Candidate> seeds = problem.Seeds();
  ASSERT_EQ(seeds.size(), 1u);
  EXPECT_EQ(problem.Render(seeds[0], RenderFormat::kText), "{0, 334, 668}");

  TopKEvolution evolution(TinyJointConfig(), problem, 21);
  int skipping = 0, longer = 0;
  double largest_allowance = 0;
  for (uint64_t i = 0; i < 8 * 12; ++i) {
    const v1::Candidate c = evolution.Ask(i);
    const GenerationInfo info = evolution.last_asked();
    ASSERT_FALSE(problem.CheckFeasible(c).has_value())
        << problem.CheckFeasible(c)->error() << " at " << i;
    const StepPlan plan = *problem.PlanOf(c);
    EXPECT_LE(BlockEvaluations(plan, 3), 9);
    const int bound = SkipLimit(info.allowance, 3);
    for (const auto& blocks : plan.skipped) EXPECT_LE(static_cast<int>(blocks.size()), bound) << i;
    if (info.stage == 0) {
      EXPECT_EQ(info.allowance, 0);
      EXPECT_EQ(plan.steps.size(), 3u) << i;
    }
    if (info.stage == 1 && info.stage_generation >= 2) {
      EXPECT_GT(info.allowance, 0) << i;
    }
    largest_allowance = std::max(largest_allowance, info.allowance);
    skipping += BlockEvaluations(plan, 3) < 3 * static_cast<int64_t>(plan.steps.size());
    longer += plan.steps.size() > 3;
    const v1::Evaluation e = problem.Evaluate(c, {});
    ASSERT_EQ(e.status(), v1::OK) << e.error();
    EXPECT_LE(e.metrics().at("block_evaluations"), 9);
    evolution.Tell(i, c, e);
  }
  EXPECT_DOUBLE_EQ(largest_allowance, 0.34);
  EXPECT_GT(skipping, 10);
  EXPECT_GT(longer, 3);  // a fourth step paid for by skipped blocks
  EXPECT_TRUE(evolution.Done());
}

TEST(JointSearchTest, OverBudgetCandidatesAreInfeasibleNamingTheField) {
  TempDir dir;
  v1::DiffusionSpec spec = TinyLearnedSpec(dir.Sub("tiny.model"));
  spec.mutable_joint()->set_block_budget(9);
  WriteTinyModel(spec);
  auto problem = CreateDiffusionProblem(spec);
  ASSERT_TRUE(problem.ok()) << problem.status();
  const auto e = (*problem)->CheckFeasible(DiffusionCandidate(UniformSteps(4)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status(), v1::INFEASIBLE);
  EXPECT_EQ(e->error(),
            "diffusion.joint.block_budget: the schedule evaluates 12 blocks per sample; the "
            "budget is 9");
  EXPECT_FALSE(
      (*problem)
          ->CheckFeasible(DiffusionCandidate(StepPlan{{0, 250, 500, 750}, {{0}, {1}, {2}, {}}}))
          .has_value());
  const auto five = (*problem)->CheckFeasible(DiffusionCandidate({1, 2, 3, 4, 5}));
  ASSERT_TRUE(five.has_value());
  EXPECT_EQ(five->error(), "diffusion.steps: has 5 steps; the joint search allows 1..4");
  const std::string report = (*problem)->Report({});
  EXPECT_THAT(report, ::testing::HasSubstr("joint search: at most 9 block evaluations"));
  EXPECT_THAT(report, ::testing::HasSubstr("uniform, 3 steps (budget)"));
}

}  // namespace
}  // namespace evolv
