#include "search/top_k_evolution.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "search/nsga2.h"
#include "search/regularized_evolution.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

using testing::ToyProblem;

// Choose `k` of `n` items (a ToyVector of ascending item numbers); minimize the sum of the
// chosen items, so the optimum is {0, ..., k-1}. The seed is the worst subset. Counts the calls
// of each operator; MutateGenes and Crossover always change something, so in a large space
// nothing is redrawn and the counts are the generation's composition.
class SubsetProblem : public Problem, public EvolvableSpace {
 public:
  SubsetProblem(int n, int k) : n_(n), k_(k) {}

  std::string Domain() const override { return "subset"; }
  std::string CanonicalSpec() const override { return "subset"; }
  std::string EvaluatorVersion() const override { return "subset/1"; }
  std::vector<std::string> ObjectiveNames() const override { return {"sum"}; }

  static std::vector<int> Items(const v1::Candidate& c) {
    const test::ToyVector v = ToyProblem::VectorOf(c);
    return std::vector<int>(v.x().begin(), v.x().end());
  }
  static v1::Candidate Of(std::vector<int> items) {
    std::sort(items.begin(), items.end());
    test::ToyVector v;
    for (int i : items) v.add_x(i);
    return PackCandidate(v);
  }
  int Unused(const std::vector<int>& items, Rng& rng) const {
    for (;;) {
      const int t = static_cast<int>(rng.Below(n_));
      if (std::find(items.begin(), items.end(), t) == items.end()) return t;
    }
  }

  v1::Candidate Random(Rng& rng) const override {
    ++random_calls;
    std::vector<int> items;
    while (static_cast<int>(items.size()) < k_) items.push_back(Unused(items, rng));
    return Of(items);
  }
  v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const override {
    return MutateGenes(parent, 1.0 / k_, {}, rng);
  }
  // Not a real crossover: a's items but its largest replaced by one neither parent has, so that
  // children are new and the counts stay exact.
  std::optional<v1::Candidate> Crossover(const v1::Candidate& a, const v1::Candidate& b,
                                         Rng& rng) const override {
    ++crossover_calls;
    std::vector<int> x = Items(a), y = Items(b);
    std::vector<int> both = x;
    both.insert(both.end(), y.begin(), y.end());
    x.back() = Unused(both, rng);
    return Of(x);
  }
  ProbeBytes Probe(const v1::Candidate& c) const override {
    std::string bytes;
    for (int i : Items(c)) bytes += std::to_string(i) + ",";
    return bytes;
  }
  v1::Evaluation Evaluate(const v1::Candidate& c, const EvalContext&) const override {
    v1::Evaluation e;
    e.set_status(v1::OK);
    double sum = 0;
    for (int i : Items(c)) sum += i;
    e.add_objectives(sum);
    return e;
  }
  std::string Render(const v1::Candidate& c, RenderFormat) const override { return Probe(c); }
  std::string Report(const std::vector<v1::HistoryEntry>&) const override { return ""; }
  const EvolvableSpace* AsEvolvableSpace() const override { return this; }

  std::vector<v1::Candidate> Seeds() const override {
    std::vector<int> worst;
    for (int i = 0; i < k_; ++i) worst.push_back(n_ - 1 - i);
    return {Of(worst)};
  }
  v1::Candidate MutateGenes(const v1::Candidate& parent, double rate, const GenerationInfo& g,
                            Rng& rng) const override {
    rates.push_back(rate);
    generations.push_back(g.generation);
    std::vector<int> items = Items(parent);
    bool changed = false;
    for (int& item : items) {
      if (rng.Bernoulli(rate)) {
        item = Unused(items, rng);
        changed = true;
      }
    }
    if (!changed) items[rng.Below(items.size())] = Unused(items, rng);
    return Of(items);
  }

  mutable int random_calls = 0;
  mutable int crossover_calls = 0;
  mutable std::vector<double> rates;
  mutable std::vector<uint64_t> generations;

 private:
  int n_, k_;
};

// Asks and tells n candidates in order; returns them.
std::vector<v1::Candidate> AskAndTell(Strategy& strategy, const Problem& problem, int n,
                                      uint64_t first = 0) {
  std::vector<v1::Candidate> asked;
  for (uint64_t i = first; i < first + n; ++i) {
    v1::Candidate c = strategy.Ask(i);
    strategy.Tell(i, c, problem.Evaluate(c, {}));
    asked.push_back(std::move(c));
  }
  return asked;
}

TEST(TopKEvolutionTest, GenerationsHaveThePapersComposition) {
  SubsetProblem problem(1000, 6);
  TopKEvolution evolution(v1::TopKEvolutionConfig(), problem, 3);
  const std::vector<v1::Candidate> first = AskAndTell(evolution, problem, 50);
  // Generation 0: the seed, 25 random, 24 mutants of the seed at p = 0.1.
  EXPECT_EQ(SubsetProblem::Items(first[0]), SubsetProblem::Items(problem.Seeds()[0]));
  EXPECT_EQ(problem.random_calls, 25);
  ASSERT_EQ(problem.rates.size(), 24u);
  EXPECT_TRUE(
      std::all_of(problem.rates.begin(), problem.rates.end(), [](double r) { return r == 0.1; }));
  EXPECT_EQ(problem.crossover_calls, 0);
  // Generation 1: 25 mutants of the elite at p = 0.25, 15 crossovers, 10 random.
  problem.rates.clear();
  problem.generations.clear();
  AskAndTell(evolution, problem, 50, 50);
  ASSERT_EQ(problem.rates.size(), 25u);
  EXPECT_TRUE(
      std::all_of(problem.rates.begin(), problem.rates.end(), [](double r) { return r == 0.25; }));
  EXPECT_TRUE(std::all_of(problem.generations.begin(), problem.generations.end(),
                          [](uint64_t g) { return g == 1; }));
  EXPECT_EQ(problem.crossover_calls, 15);
  EXPECT_EQ(problem.random_calls, 35);
  EXPECT_EQ(evolution.elite().size(), 10u);
}

TEST(TopKEvolutionTest, EliteIsTheBestSoFarInOrder) {
  SubsetProblem problem(200, 3);
  TopKEvolution evolution(v1::TopKEvolutionConfig(), problem, 5);
  std::vector<std::pair<double, uint64_t>> told;
  for (uint64_t i = 0; i < 300; ++i) {
    const v1::Candidate c = evolution.Ask(i);
    const v1::Evaluation e = problem.Evaluate(c, {});
    told.push_back({e.objectives(0), i});
    evolution.Tell(i, c, e);
  }
  std::sort(told.begin(), told.end());  // by value, then by index: ties keep the earlier
  ASSERT_EQ(evolution.elite().size(), 10u);
  for (size_t r = 0; r < 10; ++r) {
    EXPECT_EQ(evolution.elite()[r].index(), told[r].second) << r;
  }
  // And the search works: 300 evaluations get near the optimum 0 + 1 + 2 from the worst seed.
  EXPECT_LE(told[0].first, 12);
}

TEST(TopKEvolutionTest, FailedResultsNeverEnterTheElite) {
  SubsetProblem problem(100, 3);
  TopKEvolution evolution(v1::TopKEvolutionConfig(), problem, 1);
  for (uint64_t i = 0; i < 20; ++i) {
    const v1::Candidate c = evolution.Ask(i);
    v1::Evaluation e = problem.Evaluate(c, {});
    if (i % 2 == 0) {
      e.set_status(v1::FAILED);
      e.set_objectives(0, -1);  // would be the best if it counted
    }
    evolution.Tell(i, c, e);
  }
  ASSERT_EQ(evolution.elite().size(), 10u);
  for (const auto& member : evolution.elite()) EXPECT_EQ(member.index() % 2, 1u);
}

TEST(TopKEvolutionTest, SeenCandidatesAreRedrawnUntilTheSpaceIsExhausted) {
  SubsetProblem problem(6, 2);  // 15 subsets
  TopKEvolution evolution(v1::TopKEvolutionConfig(), problem, 2);
  std::set<std::string> probes;
  for (uint64_t i = 0; i < 15; ++i) {
    const v1::Candidate c = evolution.Ask(i);
    EXPECT_TRUE(probes.insert(problem.Probe(c)).second) << "candidate " << i << " repeated";
    evolution.Tell(i, c, problem.Evaluate(c, {}));
  }
  // Exhausted: the strategy still answers (a repeat, which the cache serves).
  const v1::Candidate extra = evolution.Ask(15);
  EXPECT_EQ(probes.count(problem.Probe(extra)), 1u);
}

TEST(TopKEvolutionTest, SnapshotRestoreContinuesIdentically) {
  SubsetProblem problem(500, 5);
  v1::TopKEvolutionConfig config;
  config.set_population(20);
  config.set_top_k(4);
  config.set_mutants(8);
  config.set_crossovers(6);
  config.set_initial_random(10);
  TopKEvolution a(config, problem, 9);
  AskAndTell(a, problem, 37);  // mid-generation
  TopKEvolution b(config, problem, 12345);
  ASSERT_TRUE(b.Restore(a.Snapshot()).ok());
  const auto from_a = AskAndTell(a, problem, 60, 37);
  const auto from_b = AskAndTell(b, problem, 60, 37);
  for (size_t i = 0; i < from_a.size(); ++i) {
    EXPECT_EQ(problem.Probe(from_a[i]), problem.Probe(from_b[i])) << i;
  }
  EXPECT_EQ(a.Snapshot().SerializeAsString(), b.Snapshot().SerializeAsString());

  v1::StrategySnapshot other;
  other.mutable_nsga2();
  EXPECT_FALSE(b.Restore(other).ok());
}

TEST(TopKEvolutionTest, DoneAfterTheConfiguredGenerations) {
  SubsetProblem problem(100, 3);
  v1::TopKEvolutionConfig config;
  config.set_population(10);
  config.set_top_k(3);
  config.set_mutants(5);
  config.set_crossovers(3);
  config.set_initial_random(4);
  config.set_generations(2);
  TopKEvolution evolution(config, problem, 4);
  AskAndTell(evolution, problem, 19);
  EXPECT_FALSE(evolution.Done());
  EXPECT_EQ(evolution.ProgressNote(19), "generation 1/2");
  AskAndTell(evolution, problem, 1, 19);
  EXPECT_TRUE(evolution.Done());
}

TEST(TopKEvolutionTest, WorksForAProblemWithoutAnEvolvableSpace) {
  ToyProblem problem(3, 0, 0);
  TopKEvolution evolution(v1::TopKEvolutionConfig(), problem, 1);
  double best = 1e300;
  for (uint64_t i = 0; i < 1000; ++i) {
    const v1::Candidate c = evolution.Ask(i);
    const v1::Evaluation e = problem.Evaluate(c, {});
    best = std::min(best, e.objectives(0));
    evolution.Tell(i, c, e);
  }
  EXPECT_LT(best, 0.5);
}

// Two stages: 2 generations of 10, then 5 whose allowance grows by 0.05 up to 0.12, opening
// once the best stops changing or at the stage's generation 3.
v1::TopKEvolutionConfig TwoStages() {
  v1::TopKEvolutionConfig config;
  config.set_population(10);
  config.set_top_k(3);
  config.set_mutants(5);
  config.set_crossovers(3);
  config.set_initial_random(4);
  config.set_generations(2);
  v1::TopKEvolutionStage* later = config.add_stages();
  later->set_generations(5);
  later->set_allowance_step(0.05);
  later->set_allowance_cap(0.12);
  later->set_open_by(3);
  return config;
}

// Asks and tells 70 candidates (7 generations of 10), each told with `objective(index)`;
// returns the allowance of each generation.
std::vector<double> AllowancePerGeneration(TopKEvolution& evolution,
                                           const std::function<double(uint64_t)>& objective) {
  std::vector<double> allowances;
  for (uint64_t i = 0; i < 70; ++i) {
    const v1::Candidate c = evolution.Ask(i);
    if (i % 10 == 0) allowances.push_back(evolution.last_asked().allowance);
    EXPECT_EQ(evolution.last_asked().stage, i < 20 ? 0u : 1u) << i;
    v1::Evaluation e;
    e.set_status(v1::OK);
    e.add_objectives(objective(i));
    evolution.Tell(i, c, e);
  }
  return allowances;
}

TEST(TopKEvolutionTest, ALaterStageOpensItsAllowanceOnceTheBestStopsChanging) {
  SubsetProblem problem(1000, 6);
  // Every result ties the first, which stays the best: the start of the stage's generation 1
  // sees the same best as the one before, so the allowance opens there.
  TopKEvolution stalled(TwoStages(), problem, 1);
  const std::vector<double> a = AllowancePerGeneration(stalled, [](uint64_t) { return 1.0; });
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a[0], 0);
  EXPECT_EQ(a[2], 0);
  EXPECT_DOUBLE_EQ(a[3], 0.05);
  EXPECT_DOUBLE_EQ(a[4], 0.10);
  EXPECT_DOUBLE_EQ(a[5], 0.12);  // capped
  EXPECT_DOUBLE_EQ(a[6], 0.12);
  EXPECT_TRUE(stalled.Done());
  EXPECT_EQ(stalled.ProgressNote(50), "generation 5/7, stage 1, allowance 0.12");
  // Every result beats the ones before: the best keeps changing, and the allowance opens at
  // the stage's generation open_by = 3.
  TopKEvolution improving(TwoStages(), problem, 1);
  const std::vector<double> b =
      AllowancePerGeneration(improving, [](uint64_t i) { return -static_cast<double>(i); });
  EXPECT_EQ(b[4], 0);
  EXPECT_DOUBLE_EQ(b[5], 0.05);
  EXPECT_DOUBLE_EQ(b[6], 0.10);
  // A stage with allowance_cap 0 never opens one.
  v1::TopKEvolutionConfig closed = TwoStages();
  closed.mutable_stages(0)->set_allowance_cap(0);
  TopKEvolution steps_only(closed, problem, 1);
  for (double allowance : AllowancePerGeneration(steps_only, [](uint64_t) { return 1.0; })) {
    EXPECT_EQ(allowance, 0);
  }
}

TEST(TopKEvolutionTest, ALaterStageHasItsOwnComposition) {
  SubsetProblem problem(1000, 6);
  TopKEvolution evolution(TwoStages(), problem, 3);
  AskAndTell(evolution, problem, 20);  // the first stage
  problem.crossover_calls = 0;
  problem.random_calls = 0;
  problem.rates.clear();
  AskAndTell(evolution, problem, 10, 20);
  // 5 mutants (the first stage's), the default 10 crossovers shrunk to the 5 left, no random.
  EXPECT_EQ(problem.rates.size(), 5u);
  EXPECT_EQ(problem.crossover_calls, 5);
  EXPECT_EQ(problem.random_calls, 0);
}

TEST(TopKEvolutionTest, SnapshotRestoreInALaterStageKeepsTheAllowance) {
  SubsetProblem problem(500, 5);
  TopKEvolution a(TwoStages(), problem, 9);
  AllowancePerGeneration(a, [](uint64_t) { return 1.0; });  // runs all 7 generations
  TopKEvolution fresh(TwoStages(), problem, 9);
  for (uint64_t i = 0; i < 45; ++i) {  // into generation 4, the allowance open
    const v1::Candidate c = fresh.Ask(i);
    v1::Evaluation e;
    e.set_status(v1::OK);
    e.add_objectives(1.0);
    fresh.Tell(i, c, e);
  }
  TopKEvolution restored(TwoStages(), problem, 12345);
  ASSERT_TRUE(restored.Restore(fresh.Snapshot()).ok());
  EXPECT_EQ(restored.ProgressNote(45), fresh.ProgressNote(45));
  EXPECT_EQ(restored.ProgressNote(45), "generation 4/7, stage 1, allowance 0.10");
  const auto from_fresh = AskAndTell(fresh, problem, 25, 45);
  const auto from_restored = AskAndTell(restored, problem, 25, 45);
  for (size_t i = 0; i < from_fresh.size(); ++i) {
    EXPECT_EQ(problem.Probe(from_fresh[i]), problem.Probe(from_restored[i])) << i;
  }
  EXPECT_EQ(fresh.last_asked().allowance, restored.last_asked().allowance);
  EXPECT_EQ(fresh.Snapshot().SerializeAsString(), restored.Snapshot().SerializeAsString());
}

TEST(TopKEvolutionTest, RejectsBadStagesNamingTheField) {
  v1::TopKEvolutionConfig first = TwoStages();
  first.set_generations(0);
  EXPECT_EQ(ValidateTopKEvolutionConfig(first).message(),
            "strategy.top_k_evolution.generations: must be > 0 when later stages follow");
  v1::TopKEvolutionConfig open_ended = TwoStages();
  open_ended.mutable_stages(0)->set_generations(0);
  EXPECT_TRUE(ValidateTopKEvolutionConfig(open_ended).ok());
  *open_ended.add_stages() = open_ended.stages(0);
  EXPECT_EQ(ValidateTopKEvolutionConfig(open_ended).message(),
            "strategy.top_k_evolution.stages[0].generations: must be > 0 except in the last "
            "stage");
  v1::TopKEvolutionConfig crowded = TwoStages();
  crowded.mutable_stages(0)->set_crossovers(6);
  EXPECT_EQ(ValidateTopKEvolutionConfig(crowded).message(),
            "strategy.top_k_evolution.stages[0].crossovers: mutants + crossovers (11) exceed "
            "population 10");
  v1::TopKEvolutionConfig step = TwoStages();
  step.mutable_stages(0)->set_allowance_step(0);
  EXPECT_EQ(ValidateTopKEvolutionConfig(step).message(),
            "strategy.top_k_evolution.stages[0].allowance_step: must be in (0, 1]");
  v1::TopKEvolutionConfig cap = TwoStages();
  cap.mutable_stages(0)->set_allowance_cap(1.5);
  EXPECT_EQ(ValidateTopKEvolutionConfig(cap).message(),
            "strategy.top_k_evolution.stages[0].allowance_cap: must be in [0, 1]");
  v1::TopKEvolutionConfig many = TwoStages();
  for (int i = 0; i < 16; ++i) *many.add_stages() = many.stages(0);
  EXPECT_EQ(ValidateTopKEvolutionConfig(many).code(), absl::StatusCode::kInvalidArgument);
}

TEST(TopKEvolutionTest, RejectsBadConfigsNamingTheField) {
  v1::TopKEvolutionConfig top_k;
  top_k.set_top_k(60);
  EXPECT_EQ(ValidateTopKEvolutionConfig(top_k).message(),
            "strategy.top_k_evolution.top_k: must not exceed population 50");
  v1::TopKEvolutionConfig split;
  split.set_population(30);
  EXPECT_EQ(ValidateTopKEvolutionConfig(split).message(),
            "strategy.top_k_evolution.mutants: mutants + crossovers (40) exceed population 30");
  v1::TopKEvolutionConfig rate;
  rate.set_mutate_prob(1.5);
  EXPECT_EQ(ValidateTopKEvolutionConfig(rate).message(),
            "strategy.top_k_evolution.mutate_prob: must be in [0, 1]");
  v1::TopKEvolutionConfig population;
  population.set_population(200000);
  EXPECT_EQ(ValidateTopKEvolutionConfig(population).code(), absl::StatusCode::kInvalidArgument);
  v1::StrategySpec spec;
  spec.mutable_top_k_evolution()->set_top_k(60);
  EXPECT_EQ(ValidateStrategy(spec).message(),
            "strategy.top_k_evolution.top_k: must not exceed population 50");
}

// NSGA-II starts from the problem's seeds (Problem::Seeds): its first asks are the seeds, then
// random individuals.
TEST(Nsga2SeedsTest, FirstAsksAreTheProblemsSeedsThenRandom) {
  SubsetProblem problem(1000, 6);
  v1::Nsga2Config config;
  config.set_parents(4);
  config.set_children(4);
  Nsga2 nsga2(config, problem, 5);
  const std::vector<v1::Candidate> asked = AskAndTell(nsga2, problem, 4);
  EXPECT_EQ(SubsetProblem::Items(asked[0]), SubsetProblem::Items(problem.Seeds()[0]));
  EXPECT_EQ(problem.random_calls, 3);
}

// Regularized evolution too: the seeds, then random individuals up to its population.
TEST(RegularizedEvolutionSeedsTest, FirstAsksAreTheProblemsSeedsThenRandom) {
  SubsetProblem problem(1000, 6);
  v1::RegularizedEvolutionConfig config;
  config.set_population_size(4);
  RegularizedEvolution evolution(config, problem, 5);
  const std::vector<v1::Candidate> asked = AskAndTell(evolution, problem, 4);
  EXPECT_EQ(SubsetProblem::Items(asked[0]), SubsetProblem::Items(problem.Seeds()[0]));
  EXPECT_EQ(problem.random_calls, 3);
}

}  // namespace
}  // namespace evolv
