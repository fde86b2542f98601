#include "actors/cache_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

v1::Evaluation Ok(double objective, double metric = 0) {
  v1::Evaluation e;
  e.set_status(v1::OK);
  e.add_objectives(objective);
  (*e.mutable_metrics())["m"] = metric;
  return e;
}

v1::Evaluation Failed() {
  v1::Evaluation e;
  e.set_status(v1::FAILED);
  e.set_error("worker lost");
  e.add_objectives(INFINITY);
  return e;
}

v1::CachedEvaluation Row(double objective, uint32_t repeats, double metric = 0) {
  v1::CachedEvaluation row;
  *row.mutable_evaluation() = Ok(objective, metric);
  row.set_repeats(repeats);
  return row;
}

struct PlanCase {
  v1::CacheMode mode;
  bool has_row;
  uint32_t row_repeats;
  uint32_t in_flight;
  PlanAction action;
  uint32_t repeat;
};

TEST(CachePolicyTest, PlanPerModeAndState) {
  const testing::ToyProblem problem(2, 0, 0);
  const std::vector<PlanCase> cases = {
      // mode, row?, row repeats, in flight -> action, repeat
      {v1::CACHE, false, 0, 0, PlanAction::kEvaluate, 0},
      {v1::CACHE, true, 1, 0, PlanAction::kReuse, 0},
      {v1::CACHE, false, 0, 1, PlanAction::kFollow, 0},
      {v1::AGGREGATE, false, 0, 0, PlanAction::kEvaluate, 0},
      {v1::AGGREGATE, true, 1, 1, PlanAction::kEvaluate, 2},
      {v1::AGGREGATE, true, 3, 0, PlanAction::kReuse, 0},
      {v1::AGGREGATE, false, 0, 3, PlanAction::kFollow, 0},
      {v1::COUNTERFACTUAL, true, 1, 0, PlanAction::kEvaluate, 0},
      {v1::COUNTERFACTUAL, false, 0, 2, PlanAction::kEvaluate, 0},
      {v1::OFF, true, 1, 0, PlanAction::kEvaluate, 0},
  };
  for (const PlanCase& c : cases) {
    const auto policy = MakeCachePolicy(c.mode, 3, problem);
    const v1::CachedEvaluation row = Row(1.0, c.row_repeats);
    const PlanDecision d = policy->Plan(c.has_row ? &row : nullptr, c.in_flight);
    const std::string where = v1::CacheMode_Name(c.mode) + " row=" + std::to_string(c.has_row) +
                              " in_flight=" + std::to_string(c.in_flight);
    EXPECT_EQ(d.action, c.action) << where;
    EXPECT_EQ(d.repeat, c.repeat) << where;
  }
}

struct TellCase {
  std::string name;
  v1::CacheMode mode;
  bool has_row;
  const v1::Evaluation* fresh;  // null: the slot was not evaluated
  bool ready;
  v1::EvaluationStatus told_status;
  double told_objective;  // checked when told_status is OK
  bool hit, miss, collision;
  bool writes_row;
  double row_objective;  // checked when writes_row
  uint32_t row_repeats;
};

TEST(CachePolicyTest, TellPerModeAndResult) {
  const testing::ToyProblem problem(2, 0, 0);
  const v1::Evaluation ok2 = Ok(2.0, 20), ok4 = Ok(4.0, 40), failed = Failed();
  const v1::CachedEvaluation row = Row(2.0, 1, 20);  // the key's row: objective 2, one repeat
  const std::vector<TellCase> cases = {
      // name, mode, row?, fresh -> ready, told status/objective, hit, miss, collision,
      // writes row (objective, repeats)
      {"cache miss stores", v1::CACHE, false, &ok2, true, v1::OK, 2, false, true, false, true, 2,
       1},
      {"cache failure is told, never stored", v1::CACHE, false, &failed, true, v1::FAILED, 0,
       false, true, false, false, 0, 0},
      {"cache hit", v1::CACHE, true, nullptr, true, v1::OK, 2, true, false, false, false, 0, 0},
      {"follower of a failed twin is evaluated", v1::CACHE, false, nullptr, false, v1::OK, 0,
       false, false, false, false, 0, 0},
      {"aggregate first repeat", v1::AGGREGATE, false, &ok2, true, v1::OK, 2, false, true, false,
       true, 2, 1},
      {"aggregate second repeat is the mean", v1::AGGREGATE, true, &ok4, true, v1::OK, 3, false,
       true, false, true, 3, 2},
      {"aggregate failed repeat keeps the mean", v1::AGGREGATE, true, &failed, true, v1::OK, 2,
       false, true, false, false, 0, 0},
      {"aggregate failed first repeat", v1::AGGREGATE, false, &failed, true, v1::FAILED, 0, false,
       true, false, false, 0, 0},
      {"aggregate reuse", v1::AGGREGATE, true, nullptr, true, v1::OK, 2, true, false, false,
       false, 0, 0},
      {"counterfactual equal hit", v1::COUNTERFACTUAL, true, &ok2, true, v1::OK, 2, true, false,
       false, false, 0, 0},
      {"counterfactual collision", v1::COUNTERFACTUAL, true, &ok4, true, v1::OK, 4, true, false,
       true, false, 0, 0},
      {"counterfactual failure differs from the row", v1::COUNTERFACTUAL, true, &failed, true,
       v1::FAILED, 0, true, false, true, false, 0, 0},
      {"counterfactual miss stores", v1::COUNTERFACTUAL, false, &ok4, true, v1::OK, 4, false,
       true, false, true, 4, 1},
      {"off never stores", v1::OFF, false, &ok2, true, v1::OK, 2, false, true, false, false, 0, 0},
  };
  for (const TellCase& c : cases) {
    const auto policy = MakeCachePolicy(c.mode, 3, problem);
    TellInput in;
    in.row = c.has_row ? &row : nullptr;
    in.fresh = c.fresh;
    const TellOutcome out = policy->Tell(in);
    EXPECT_EQ(out.ready, c.ready) << c.name;
    if (!c.ready) continue;
    EXPECT_EQ(out.told.status(), c.told_status) << c.name;
    if (c.told_status == v1::OK) {
      EXPECT_DOUBLE_EQ(out.told.objectives(0), c.told_objective) << c.name;
    }
    EXPECT_EQ(out.hit, c.hit) << c.name;
    EXPECT_EQ(out.miss, c.miss) << c.name;
    EXPECT_EQ(out.collision, c.collision) << c.name;
    EXPECT_EQ(out.row.has_value(), c.writes_row) << c.name;
    if (c.writes_row && out.row) {
      EXPECT_EQ(out.row->evaluation().status(), v1::OK) << c.name;
      EXPECT_DOUBLE_EQ(out.row->evaluation().objectives(0), c.row_objective) << c.name;
      EXPECT_EQ(out.row->repeats(), c.row_repeats) << c.name;
    }
  }
}

TEST(CachePolicyTest, AggregateRowAveragesMetricsWithObjectives) {
  const v1::CachedEvaluation two = Row(2.0, 1, 20);
  const v1::CachedEvaluation mean = AddRepeat(&two, Ok(4.0, 40));
  EXPECT_DOUBLE_EQ(mean.evaluation().objectives(0), 3.0);
  EXPECT_DOUBLE_EQ(mean.evaluation().metrics().at("m"), 30.0);
  const v1::CachedEvaluation three = AddRepeat(&mean, Ok(6.0, 60));
  EXPECT_DOUBLE_EQ(three.evaluation().objectives(0), 4.0);
  EXPECT_DOUBLE_EQ(three.evaluation().metrics().at("m"), 40.0);
  EXPECT_EQ(three.repeats(), 3u);
}

TEST(CachePolicyTest, CounterfactualReportsTheDifference) {
  const testing::ToyProblem problem(2, 0, 0);
  const auto policy = MakeCachePolicy(v1::COUNTERFACTUAL, 3, problem);
  const v1::CachedEvaluation row = Row(2.0, 1);
  const v1::Evaluation fresh = Ok(3.0);
  TellInput in;
  in.row = &row;
  in.fresh = &fresh;
  const TellOutcome out = policy->Tell(in);
  EXPECT_TRUE(out.collision);
  EXPECT_NEAR(out.difference, 1.0 / 3.0, 1e-12);  // relative gap, the default contract
}

}  // namespace
}  // namespace evolv
