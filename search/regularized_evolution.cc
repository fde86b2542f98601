#include "search/regularized_evolution.h"

namespace evolv {

const v1::Candidate& Heritable(const v1::Candidate& candidate, const v1::Evaluation& evaluation) {
  return evaluation.has_refined() ? evaluation.refined() : candidate;
}

RegularizedEvolution::RegularizedEvolution(const v1::RegularizedEvolutionConfig& config,
                                           const Problem& problem, uint64_t seed)
    : problem_(problem),
      capacity_(config.population_size() ? config.population_size() : 100),
      tournament_size_(config.tournament_size() ? config.tournament_size() : 10),
      mutate_prob_(config.mutate_prob() > 0 ? config.mutate_prob() : 0.9),
      rng_(seed),
      seeds_(problem.Seeds()) {
  if (seeds_.size() > capacity_) seeds_.resize(capacity_);
}

const v1::Individual& RegularizedEvolution::Tournament() {
  const v1::Individual* best = nullptr;
  for (uint32_t i = 0; i < tournament_size_; ++i) {
    const v1::Individual& contender = population_[rng_.Below(population_.size())];
    if (best == nullptr || LexicographicallyBetter(contender.evaluation(), best->evaluation())) {
      best = &contender;
    }
  }
  return *best;
}

v1::Candidate RegularizedEvolution::Ask(uint64_t index) {
  (void)index;
  ++asked_;
  if (asked_ <= seeds_.size()) return seeds_[asked_ - 1];
  if (asked_ <= capacity_ || population_.empty()) return problem_.Random(rng_);
  const v1::Individual& parent = Tournament();
  const v1::Candidate& genes = Heritable(parent.candidate(), parent.evaluation());
  if (rng_.Bernoulli(mutate_prob_)) return problem_.Mutate(genes, rng_);
  return genes;
}

void RegularizedEvolution::Tell(uint64_t index, const v1::Candidate& candidate,
                                const v1::Evaluation& evaluation) {
  v1::Individual individual;
  individual.set_index(index);
  *individual.mutable_candidate() = candidate;
  *individual.mutable_evaluation() = evaluation;
  population_.push_back(std::move(individual));
  while (population_.size() > capacity_) population_.pop_front();
}

v1::StrategySnapshot RegularizedEvolution::Snapshot() const {
  v1::StrategySnapshot snapshot;
  *snapshot.mutable_rng() = rng_.Save();
  auto* state = snapshot.mutable_regularized_evolution();
  state->set_asked(asked_);
  for (const auto& individual : population_) *state->add_population() = individual;
  return snapshot;
}

absl::Status RegularizedEvolution::Restore(const v1::StrategySnapshot& snapshot) {
  if (!snapshot.has_regularized_evolution()) {
    return absl::InvalidArgumentError("strategy snapshot is not of regularized evolution");
  }
  Rng rng;
  if (!rng.Restore(snapshot.rng())) {
    return absl::InvalidArgumentError("strategy snapshot: malformed RNG state");
  }
  rng_ = rng;
  const auto& state = snapshot.regularized_evolution();
  asked_ = state.asked();
  population_.assign(state.population().begin(), state.population().end());
  return absl::OkStatus();
}

}  // namespace evolv
