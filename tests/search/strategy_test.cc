#include <gtest/gtest.h>

#include <set>
#include <string>

#include "google/protobuf/unknown_field_set.h"
#include "search/job_spec.h"
#include "search/nsga2.h"
#include "search/pareto.h"
#include "search/random_search.h"
#include "search/regularized_evolution.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

using testing::ToyProblem;

// Runs ask/tell sequentially for n steps and returns the best first objective.
double RunSearch(Strategy& strategy, const Problem& problem, int n,
                 std::vector<v1::Candidate>* asked = nullptr) {
  double best = 1e300;
  for (int i = 0; i < n; ++i) {
    v1::Candidate c = strategy.Ask(i);
    if (asked) asked->push_back(c);
    const v1::Evaluation e = problem.Evaluate(c, {});
    best = std::min(best, e.objectives(0));
    strategy.Tell(i, c, e);
  }
  return best;
}

TEST(RegularizedEvolutionTest, ImprovesOnRandomSearch) {
  ToyProblem problem(4, 0, 0);
  v1::RegularizedEvolutionConfig config;
  config.set_population_size(20);
  config.set_tournament_size(5);
  RegularizedEvolution evolution(config, problem, 1);
  const double evolved = RunSearch(evolution, problem, 2000);
  // Random search over [-5, 5]^4 with 2000 samples rarely gets below ~1; evolution gets close to 0.
  EXPECT_LT(evolved, 0.05);
}

TEST(RegularizedEvolutionTest, AgingKeepsOnlyTheNewest) {
  ToyProblem problem(2, 0, 0);
  v1::RegularizedEvolutionConfig config;
  config.set_population_size(5);
  RegularizedEvolution evolution(config, problem, 1);
  RunSearch(evolution, problem, 12);
  const auto snapshot = evolution.Snapshot();
  ASSERT_EQ(snapshot.regularized_evolution().population_size(), 5);
  EXPECT_EQ(snapshot.regularized_evolution().population(0).index(), 7u);
  EXPECT_EQ(snapshot.regularized_evolution().population(4).index(), 11u);
}

TEST(RegularizedEvolutionTest, SnapshotRestoreContinuesIdentically) {
  ToyProblem problem(3, 0, 0);
  v1::RegularizedEvolutionConfig config;
  config.set_population_size(10);
  RegularizedEvolution a(config, problem, 9);
  RunSearch(a, problem, 50);
  RegularizedEvolution b(config, problem, 12345);
  ASSERT_TRUE(b.Restore(a.Snapshot()).ok());
  std::vector<v1::Candidate> from_a, from_b;
  RunSearch(a, problem, 50, &from_a);
  RunSearch(b, problem, 50, &from_b);
  for (size_t i = 0; i < from_a.size(); ++i) {
    EXPECT_EQ(from_a[i].SerializeAsString(), from_b[i].SerializeAsString()) << i;
  }
}

TEST(RegularizedEvolutionTest, RestoreRejectsAnotherStrategysSnapshot) {
  ToyProblem problem(3, 0, 0);
  RegularizedEvolution evolution({}, problem, 1);
  Nsga2 nsga({}, problem, 1);
  EXPECT_FALSE(evolution.Restore(nsga.Snapshot()).ok());
  EXPECT_FALSE(nsga.Restore(evolution.Snapshot()).ok());
}

TEST(RandomSearchTest, DrawsOnePerIndexWhateverTheResultsAndResumesFromItsCount) {
  ToyProblem problem(3, 0, 0);
  RandomSearch a(problem, 4);
  std::vector<v1::Candidate> from_a;
  RunSearch(a, problem, 60, &from_a);
  // Nothing told changes what it asks: the same seed without any results asks the same.
  RandomSearch unfed(problem, 4);
  std::set<std::string> distinct;
  for (int i = 0; i < 60; ++i) {
    const v1::Candidate c = unfed.Ask(i);
    EXPECT_EQ(c.SerializeAsString(), from_a[i].SerializeAsString()) << i;
    distinct.insert(c.SerializeAsString());
  }
  EXPECT_EQ(distinct.size(), 60u);
  // Another seed, other draws.
  RandomSearch other(problem, 5);
  EXPECT_NE(other.Ask(0).SerializeAsString(), from_a[0].SerializeAsString());
  // Restored from a snapshot after 30, it continues with draw 30.
  RandomSearch first_half(problem, 4);
  RunSearch(first_half, problem, 30);
  RandomSearch resumed(problem, 4);
  ASSERT_TRUE(resumed.Restore(first_half.Snapshot()).ok());
  EXPECT_EQ(resumed.Ask(30).SerializeAsString(), from_a[30].SerializeAsString());
  // Another strategy's snapshot is refused.
  v1::RegularizedEvolutionConfig config;
  RegularizedEvolution evolution(config, problem, 1);
  EXPECT_FALSE(resumed.Restore(evolution.Snapshot()).ok());
  EXPECT_FALSE(evolution.Restore(first_half.Snapshot()).ok());
}

TEST(RandomSearchTest, AJobSpecNamesIt) {
  ToyProblem problem(2, 0, 0);
  v1::JobSpec spec;
  spec.mutable_strategy()->mutable_random();
  auto strategy = CreateStrategy(spec, problem);
  ASSERT_TRUE(strategy.ok()) << strategy.status();
  EXPECT_TRUE((*strategy)->Snapshot().has_random());
}

TEST(Nsga2Test, KeepsParentsAndApproachesTheFront) {
  ToyProblem problem(2, 0, 0);
  v1::Nsga2Config config;
  config.set_parents(20);
  config.set_children(20);
  Nsga2 nsga(config, problem, 3);
  RunSearch(nsga, problem, 2000);
  ASSERT_EQ(nsga.parents().size(), 20u);
  // The true front of (distance to (1,1), L1 norm) runs from (0, 2) to (2, 0) along x in [0,1]^2:
  // distance = 2 (1 - norm/2)^2 at best. Survivors should be close to it.
  for (const auto& p : nsga.parents()) {
    const double distance = p.evaluation().objectives(0);
    const double norm = p.evaluation().objectives(1);
    const double ideal = norm <= 2 ? 2 * (1 - norm / 2) * (1 - norm / 2) : 0.0;
    EXPECT_LT(distance - ideal, 0.2) << distance << " " << norm;
  }
  // And they spread along it rather than collapse to one point.
  std::vector<Objectives> points;
  for (const auto& p : nsga.parents()) {
    points.push_back({p.evaluation().objectives(0), p.evaluation().objectives(1)});
  }
  EXPECT_GE(ParetoFront(points).size(), 10u);
}

TEST(Nsga2Test, SnapshotRestoreContinuesIdentically) {
  ToyProblem problem(3, 0, 0);
  v1::Nsga2Config config;
  config.set_parents(8);
  config.set_children(6);
  Nsga2 a(config, problem, 9);
  RunSearch(a, problem, 37);  // mid-generation: offspring pool not empty
  Nsga2 b(config, problem, 1);
  ASSERT_TRUE(b.Restore(a.Snapshot()).ok());
  std::vector<v1::Candidate> from_a, from_b;
  RunSearch(a, problem, 40, &from_a);
  RunSearch(b, problem, 40, &from_b);
  for (size_t i = 0; i < from_a.size(); ++i) {
    EXPECT_EQ(from_a[i].SerializeAsString(), from_b[i].SerializeAsString()) << i;
  }
}

TEST(JobSpecTest, RejectsBadGenericFieldsNamingThem) {
  const auto& registry = testing::ToyRegistry();
  v1::JobSpec spec;
  spec.mutable_problem()->PackFrom(test::ToySpec());
  spec.mutable_budget()->set_max_evaluations(10);
  EXPECT_TRUE(ValidateJobSpec(spec, registry).ok());

  v1::JobSpec zero = spec;
  zero.mutable_budget()->set_max_evaluations(0);
  EXPECT_EQ(ValidateJobSpec(zero, registry).message(),
            "budget: zero budget; set budget.max_evaluations or budget.max_seconds");

  v1::JobSpec window = spec;
  window.set_window(5000);
  EXPECT_EQ(ValidateJobSpec(window, registry).message(), "window: 5000 exceeds the limit 4096");

  v1::JobSpec tournament = spec;
  tournament.mutable_strategy()->mutable_regularized_evolution()->set_population_size(5);
  tournament.mutable_strategy()->mutable_regularized_evolution()->set_tournament_size(6);
  EXPECT_EQ(ValidateJobSpec(tournament, registry).message(),
            "strategy.regularized_evolution.tournament_size: must not exceed population_size 5");

  v1::JobSpec none;
  none.mutable_budget()->set_max_evaluations(10);
  EXPECT_EQ(ValidateJobSpec(none, registry).code(), absl::StatusCode::kInvalidArgument);

  for (int mode : {99, -1}) {
    v1::JobSpec bad_mode = spec;
    bad_mode.mutable_cache()->set_mode(static_cast<v1::CacheMode>(mode));
    EXPECT_EQ(ValidateJobSpec(bad_mode, registry).message(),
              "cache.mode: unknown mode " + std::to_string(mode) +
                  " (CACHE, AGGREGATE, COUNTERFACTUAL or OFF)");
  }

  // The toy problem has no arms: a bandit strategy cannot drive it.
  v1::JobSpec bandit = spec;
  bandit.mutable_strategy()->mutable_bandit();
  const absl::Status refused = ValidateJobSpec(bandit, registry);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("strategy.bandit:"), std::string::npos) << refused;
}

TEST(JobSpecTest, RefusesStringsThatAreNotUtf8NamingTheField) {
  const auto& registry = testing::ToyRegistry();
  v1::JobSpec spec;
  spec.mutable_problem()->PackFrom(test::ToySpec());
  spec.mutable_budget()->set_max_evaluations(10);
  spec.set_name("caf\xc3\xa9 \xf0\x9f\x98\x80");  // valid: two- and four-byte forms
  EXPECT_TRUE(ValidateJobSpec(spec, registry).ok());

  for (const char* bad : {"\xff", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    v1::JobSpec named = spec;
    named.set_name(bad);
    const absl::Status refused = ValidateJobSpec(named, registry);
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(refused.message(), "name: not valid UTF-8");
  }
  v1::JobSpec bandit = spec;
  bandit.mutable_strategy()->mutable_bandit()->add_policies("tsallis_inf");
  bandit.mutable_strategy()->mutable_bandit()->add_policies("\xfe");
  EXPECT_EQ(ValidateJobSpec(bandit, registry).message(),
            "strategy.bandit.policies: not valid UTF-8");

  // Inside the problem's Any the packed bytes are checked by field, whatever the packed type
  // (here a JobSpec, whose field 1 is the string name).
  v1::JobSpec packed = spec;
  packed.mutable_problem()->set_type_url("type.googleapis.com/evolv.v1.JobSpec");
  packed.mutable_problem()->set_value(std::string("\x0a\x02\xc3\x28", 4));
  EXPECT_EQ(ValidateJobSpec(packed, registry).message(), "problem.name: not valid UTF-8");
}

TEST(JobSpecTest, RefusesUnknownFieldsNamingWhere) {
  const auto& registry = testing::ToyRegistry();
  v1::JobSpec spec;
  spec.mutable_problem()->PackFrom(test::ToySpec());
  spec.mutable_budget()->set_max_evaluations(10);
  const std::string padding(100000, 'x');

  v1::JobSpec top = spec;
  top.GetReflection()->MutableUnknownFields(&top)->AddLengthDelimited(99, padding);
  const absl::Status refused = ValidateJobSpec(top, registry);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.message(),
            "spec: unknown field 99 (not in evolv.v1.JobSpec as this evolvd knows it)");

  v1::JobSpec nested = spec;
  v1::Budget* budget = nested.mutable_budget();
  budget->GetReflection()->MutableUnknownFields(budget)->AddVarint(7, 1);
  EXPECT_EQ(ValidateJobSpec(nested, registry).message(),
            "budget: unknown field 7 (not in evolv.v1.Budget as this evolvd knows it)");

  // In the problem's packed bytes: ToySpec's fields 1..5, then field 99 (a 100 KB string).
  v1::JobSpec packed = spec;
  google::protobuf::UnknownFieldSet extra;
  extra.AddLengthDelimited(99, padding);
  std::string value = packed.problem().value();
  extra.SerializeToString(&value);
  value = packed.problem().value() + value;
  packed.mutable_problem()->set_value(value);
  EXPECT_EQ(ValidateJobSpec(packed, registry).message(),
            "problem: unknown field 99 (not in evolv.test.ToySpec as this evolvd knows it)");
}

TEST(JobSpecTest, IdIsStableAndSeedSensitive) {
  v1::JobSpec spec;
  spec.set_seed(1);
  spec.mutable_budget()->set_max_evaluations(10);
  v1::JobSpec other = spec;
  other.set_seed(2);
  EXPECT_EQ(JobIdFor(spec), JobIdFor(spec));
  EXPECT_NE(JobIdFor(spec), JobIdFor(other));
  EXPECT_EQ(JobIdFor(spec).size(), 17u);
}

}  // namespace
}  // namespace evolv
