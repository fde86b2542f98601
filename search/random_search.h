// Random search: the problem's seeds (Problem::Seeds) first, then independent draws of
// Problem::Random. Candidate k is drawn from a stream of its own (the strategy's seed and k), so
// what it asks does not depend on the results told or on their order, and a snapshot needs
// only the count asked.
#pragma once

#include <vector>

#include "search/strategy.h"

namespace evolv {

class RandomSearch : public Strategy {
 public:
  RandomSearch(const Problem& problem, uint64_t seed);

  v1::Candidate Ask(uint64_t index) override;
  void Tell(uint64_t index, const v1::Candidate& candidate,
            const v1::Evaluation& evaluation) override;
  v1::StrategySnapshot Snapshot() const override;
  absl::Status Restore(const v1::StrategySnapshot& snapshot) override;

 private:
  const Problem& problem_;
  uint64_t seed_;
  std::vector<v1::Candidate> seeds_;  // the problem's
  uint64_t asked_ = 0;
};

}  // namespace evolv
