// Regularized evolution (Real et al.; as in AutoML-Zero): the population is a ring buffer of
// the last `population_size` told individuals; a parent is the best of `tournament_size`
// individuals sampled with replacement; the child is a mutation of it with probability
// `mutate_prob` (else a copy); each told child replaces the oldest individual (aging).
// The first `population_size` asks are the problem's seeds (Problem::Seeds, at most
// `population_size`), then Problem::Random individuals.
//
// "Best" is lexicographic over the objectives (see LexicographicallyBetter). When an evaluation
// carries a refined candidate (e.g. fitted constants), the refined one joins the population.
#pragma once

#include <deque>
#include <vector>

#include "search/strategy.h"

namespace evolv {

class RegularizedEvolution : public Strategy {
 public:
  RegularizedEvolution(const v1::RegularizedEvolutionConfig& config, const Problem& problem,
                       uint64_t seed);

  v1::Candidate Ask(uint64_t index) override;
  void Tell(uint64_t index, const v1::Candidate& candidate,
            const v1::Evaluation& evaluation) override;
  v1::StrategySnapshot Snapshot() const override;
  absl::Status Restore(const v1::StrategySnapshot& snapshot) override;

  size_t population_size() const { return population_.size(); }

 private:
  const v1::Individual& Tournament();

  const Problem& problem_;
  uint32_t capacity_;
  uint32_t tournament_size_;
  double mutate_prob_;
  Rng rng_;
  std::vector<v1::Candidate> seeds_;  // the problem's, at most capacity_
  uint64_t asked_ = 0;
  std::deque<v1::Individual> population_;  // oldest first
};

// The candidate an individual passes on: the refined one when the evaluation has it.
const v1::Candidate& Heritable(const v1::Candidate& candidate, const v1::Evaluation& evaluation);

}  // namespace evolv
