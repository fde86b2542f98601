#include "search/random_search.h"

namespace evolv {

RandomSearch::RandomSearch(const Problem& problem, uint64_t seed)
    : problem_(problem), seed_(seed), seeds_(problem.Seeds()) {}

v1::Candidate RandomSearch::Ask(uint64_t index) {
  (void)index;
  const uint64_t k = asked_++;
  if (k < seeds_.size()) return seeds_[k];
  Rng rng(Mix64(seed_ ^ Mix64(k)));
  return problem_.Random(rng);
}

void RandomSearch::Tell(uint64_t index, const v1::Candidate& candidate,
                        const v1::Evaluation& evaluation) {
  (void)index;
  (void)candidate;
  (void)evaluation;
}

v1::StrategySnapshot RandomSearch::Snapshot() const {
  v1::StrategySnapshot snapshot;
  *snapshot.mutable_rng() = Rng(seed_).Save();
  snapshot.mutable_random()->set_asked(asked_);
  return snapshot;
}

absl::Status RandomSearch::Restore(const v1::StrategySnapshot& snapshot) {
  if (!snapshot.has_random()) {
    return absl::InvalidArgumentError("strategy snapshot is not of random search");
  }
  asked_ = snapshot.random().asked();
  return absl::OkStatus();
}

}  // namespace evolv
