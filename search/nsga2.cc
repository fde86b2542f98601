#include "search/nsga2.h"

#include <algorithm>
#include <numeric>

#include "search/pareto.h"
#include "search/regularized_evolution.h"

namespace evolv {
namespace {

std::vector<Objectives> ObjectivesOf(const std::vector<v1::Individual>& individuals) {
  std::vector<Objectives> points;
  points.reserve(individuals.size());
  for (const auto& individual : individuals) {
    const auto& evaluation = individual.evaluation();
    points.emplace_back(evaluation.objectives().begin(), evaluation.objectives().end());
  }
  return points;
}

}  // namespace

Nsga2::Nsga2(const v1::Nsga2Config& config, const Problem& problem, uint64_t seed)
    : problem_(problem),
      mu_(config.parents() ? config.parents() : 50),
      lambda_(config.children() ? config.children() : 100),
      crossover_prob_(config.crossover_prob() > 0 ? config.crossover_prob() : 0.2),
      rng_(seed) {
  seeds_ = problem.Seeds();
  if (seeds_.size() > mu_) seeds_.resize(mu_);
}

const v1::Individual& Nsga2::BinaryTournament() {
  const size_t a = rng_.Below(parents_.size());
  const size_t b = rng_.Below(parents_.size());
  if (rank_[a] != rank_[b]) return parents_[rank_[a] < rank_[b] ? a : b];
  return parents_[crowding_[b] > crowding_[a] ? b : a];
}

v1::Candidate Nsga2::Ask(uint64_t index) {
  (void)index;
  ++asked_;
  if (asked_ <= seeds_.size()) return seeds_[asked_ - 1];
  if (asked_ <= mu_ || parents_.empty()) return problem_.Random(rng_);
  const v1::Individual& first = BinaryTournament();
  v1::Candidate child = Heritable(first.candidate(), first.evaluation());
  if (rng_.Bernoulli(crossover_prob_)) {
    const v1::Individual& second = BinaryTournament();
    auto crossed =
        problem_.Crossover(child, Heritable(second.candidate(), second.evaluation()), rng_);
    if (crossed) child = std::move(*crossed);
  }
  return problem_.Mutate(child, rng_);
}

void Nsga2::Tell(uint64_t index, const v1::Candidate& candidate, const v1::Evaluation& evaluation) {
  v1::Individual individual;
  individual.set_index(index);
  *individual.mutable_candidate() = candidate;
  *individual.mutable_evaluation() = evaluation;
  offspring_.push_back(std::move(individual));
  const size_t generation = parents_.empty() ? mu_ : lambda_;
  if (offspring_.size() >= generation) Survive();
}

void Nsga2::Survive() {
  std::vector<v1::Individual> pool = std::move(parents_);
  pool.reserve(pool.size() + offspring_.size());
  for (auto& individual : offspring_) pool.push_back(std::move(individual));
  offspring_.clear();
  const std::vector<Objectives> points = ObjectivesOf(pool);
  std::vector<v1::Individual> survivors;
  survivors.reserve(std::min<size_t>(mu_, pool.size()));
  // The survivors' own fronts: the pool's fronts they came from, in the order they were taken.
  // (Every member of a later front is dominated by one of the front before it, which survives
  // whole, and no member of a front dominates another: sorting the survivors again would give
  // these fronts.)
  std::vector<std::vector<size_t>> fronts;
  for (const auto& front : NondominatedSort(points)) {
    std::vector<size_t>& taken = fronts.emplace_back();
    if (survivors.size() + front.size() <= mu_) {
      for (size_t i : front) {
        taken.push_back(survivors.size());
        survivors.push_back(std::move(pool[i]));
      }
      if (survivors.size() == mu_) break;
      continue;
    }
    const std::vector<double> crowding = CrowdingDistance(points, front);
    std::vector<size_t> order(front.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return crowding[a] > crowding[b]; });
    for (size_t k = 0; survivors.size() < mu_; ++k) {
      taken.push_back(survivors.size());
      survivors.push_back(std::move(pool[front[order[k]]]));
    }
    break;
  }
  parents_ = std::move(survivors);
  RankFronts(ObjectivesOf(parents_), fronts);
}

void Nsga2::RankParents() {
  const std::vector<Objectives> points = ObjectivesOf(parents_);
  RankFronts(points, NondominatedSort(points));
}

void Nsga2::RankFronts(const std::vector<Objectives>& points,
                       const std::vector<std::vector<size_t>>& fronts) {
  rank_.assign(parents_.size(), 0);
  crowding_.assign(parents_.size(), 0.0);
  for (size_t r = 0; r < fronts.size(); ++r) {
    const std::vector<double> crowding = CrowdingDistance(points, fronts[r]);
    for (size_t k = 0; k < fronts[r].size(); ++k) {
      rank_[fronts[r][k]] = r;
      crowding_[fronts[r][k]] = crowding[k];
    }
  }
}

v1::StrategySnapshot Nsga2::Snapshot() const {
  v1::StrategySnapshot snapshot;
  *snapshot.mutable_rng() = rng_.Save();
  auto* state = snapshot.mutable_nsga2();
  state->set_asked(asked_);
  for (const auto& individual : parents_) *state->add_parents() = individual;
  for (const auto& individual : offspring_) *state->add_offspring() = individual;
  return snapshot;
}

absl::Status Nsga2::Restore(const v1::StrategySnapshot& snapshot) {
  if (!snapshot.has_nsga2()) {
    return absl::InvalidArgumentError("strategy snapshot is not of NSGA-II");
  }
  Rng rng;
  if (!rng.Restore(snapshot.rng())) {
    return absl::InvalidArgumentError("strategy snapshot: malformed RNG state");
  }
  rng_ = rng;
  const auto& state = snapshot.nsga2();
  asked_ = state.asked();
  parents_.assign(state.parents().begin(), state.parents().end());
  offspring_.assign(state.offspring().begin(), state.offspring().end());
  RankParents();
  return absl::OkStatus();
}

}  // namespace evolv
