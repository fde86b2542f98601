// NSGA-II (Deb et al. 2002) in ask/tell form, for multi-objective searches such as (error, cost).
//
// The first `parents` asks are the problem's seeds (EvolvableSpace::Seeds, where the problem has
// them; at most `parents`), then Problem::Random individuals. Every told result joins an offspring
// pool; when the pool holds `children` results (or, for the first generation, `parents`
// results), parents and offspring are merged and the best `parents` by (non-dominated front,
// crowding distance) survive. A child is asked by binary tournament on (front, crowding) among
// the current parents, crossover with probability `crossover_prob` where the domain has one,
// then mutation. Before the first generation has survived, asks are Random.
#pragma once

#include <vector>

#include "search/pareto.h"
#include "search/strategy.h"

namespace evolv {

class Nsga2 : public Strategy {
 public:
  Nsga2(const v1::Nsga2Config& config, const Problem& problem, uint64_t seed);

  v1::Candidate Ask(uint64_t index) override;
  void Tell(uint64_t index, const v1::Candidate& candidate,
            const v1::Evaluation& evaluation) override;
  v1::StrategySnapshot Snapshot() const override;
  absl::Status Restore(const v1::StrategySnapshot& snapshot) override;

  const std::vector<v1::Individual>& parents() const { return parents_; }

 private:
  void Survive();
  void RankParents();
  // Sets rank_ and crowding_ from the parents' objectives (`points`, in parents_' order) and
  // fronts (indices into parents_, as NondominatedSort gives them).
  void RankFronts(const std::vector<Objectives>& points,
                  const std::vector<std::vector<size_t>>& fronts);
  const v1::Individual& BinaryTournament();

  const Problem& problem_;
  uint32_t mu_;
  uint32_t lambda_;
  double crossover_prob_;
  Rng rng_;
  std::vector<v1::Candidate> seeds_;  // the problem's, at most mu_; a pure function of the problem
  uint64_t asked_ = 0;
  std::vector<v1::Individual> parents_;
  std::vector<v1::Individual> offspring_;
  // Derived from parents_ (recomputed on Survive and Restore): front index and crowding.
  std::vector<size_t> rank_;
  std::vector<double> crowding_;
};

}  // namespace evolv
