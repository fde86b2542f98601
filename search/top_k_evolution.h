// Top-k evolution (AutoDiffusion, Li et al. ICCV 2023): a generational search around an elite of
// the best `top_k` results told so far.
//
// Candidates are asked in generations of `population`:
//   generation 0: the problem's seeds (EvolvableSpace::Seeds, e.g. a standard baseline), then
//     `initial_random` Problem::Random candidates, then mutants of the seeds (round-robin, each
//     gene changed with probability `initial_mutate_prob`) up to `population` (random ones when
//     the problem has no seeds);
//   generation g >= 1: `mutants` mutants of uniformly drawn elite members (per gene probability
//     `mutate_prob`), `crossovers` Problem::Crossover children of two distinct elite members (a
//     mutant where the problem has no crossover), then random candidates.
// A candidate whose probe (Problem::Probe) was already asked is redrawn, up to 64 times with the
// same operator and 64 more at random; after that it is asked anyway (a tiny space is
// exhausted), and the cache answers it.
//
// The elite is taken from the results told when a candidate is asked: under the engine's window
// the tail of generation g may still be in flight while generation g + 1 starts, and the run is
// still a pure function of (spec, seed, W). Elite order is LexicographicallyBetter (FAILED and
// INFEASIBLE results never enter it), ties keep the earlier result; when an evaluation carries a
// refined candidate, the refined one is what the elite passes on.
//
// Without EvolvableSpace (Problem::AsEvolvableSpace() == nullptr) mutants are Problem::Mutate
// children and generation 0 is random beyond nothing: the strategy works for any problem.
//
// Not thread-safe (owned by one coordinator).
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "evolv/v1/checkpoint.pb.h"
#include "evolv/v1/strategy.pb.h"
#include "search/problem.h"
#include "search/strategy.h"

namespace evolv {

// Where a generational search stands when it asks for a child.
struct GenerationInfo {
  uint64_t generation = 0;  // 0 is the first
  // Consecutive generation starts at which the best result was the one of the start before.
  uint32_t stalled = 0;
};

// The capability a Problem implements to give the top-k evolution its domain-specific parts
// (returned by Problem::AsEvolvableSpace, so search/ needs no knowledge of the domain). Every
// method is const and thread-safe.
class EvolvableSpace {
 public:
  virtual ~EvolvableSpace() = default;
  // Hand-made candidates the first generation starts from (e.g. a standard baseline); may be
  // empty.
  virtual std::vector<v1::Candidate> Seeds() const = 0;
  // A child of `parent` in which each gene is replaced with probability `rate` (so possibly
  // none). `generation` lets a problem open parts of its space as the search goes on (e.g.
  // AutoDiffusion's growing share of skipped blocks).
  virtual v1::Candidate MutateGenes(const v1::Candidate& parent, double rate,
                                    const GenerationInfo& generation, Rng& rng) const = 0;
};

// InvalidArgument naming the field ("strategy.top_k_evolution.top_k: ...") for an out-of-range
// configuration.
absl::Status ValidateTopKEvolutionConfig(const v1::TopKEvolutionConfig& config);

class TopKEvolution : public Strategy {
 public:
  // `config` must be valid (ValidateTopKEvolutionConfig); `problem` must outlive the strategy.
  TopKEvolution(const v1::TopKEvolutionConfig& config, const Problem& problem, uint64_t seed);

  v1::Candidate Ask(uint64_t index) override;
  void Tell(uint64_t index, const v1::Candidate& candidate,
            const v1::Evaluation& evaluation) override;
  // True after `generations` generations were asked, when the config sets them.
  bool Done() const override;
  // "generation g[/G]".
  std::string ProgressNote(uint64_t told) const override;
  v1::StrategySnapshot Snapshot() const override;
  absl::Status Restore(const v1::StrategySnapshot& snapshot) override;

  // The best results told so far, best first (at most top_k).
  const std::vector<v1::Individual>& elite() const { return elite_; }

 private:
  enum class Origin { kSeed, kRandom, kSeedMutant, kMutant, kCrossover };

  Origin OriginOf(uint64_t generation, uint64_t position) const;
  v1::Candidate Draw(Origin origin, uint64_t position, const GenerationInfo& info);
  v1::Candidate MutantOf(const v1::Candidate& parent, double rate, const GenerationInfo& info);
  // Records `candidate` as asked; false when its probe was asked before.
  bool MarkSeen(const v1::Candidate& candidate);

  const Problem& problem_;
  const EvolvableSpace* space_;
  std::vector<v1::Candidate> seeds_;
  uint32_t population_;
  uint32_t top_k_;
  uint32_t mutants_;
  uint32_t crossovers_;
  double mutate_prob_;
  uint32_t initial_random_;
  double initial_mutate_prob_;
  uint32_t generations_;
  Rng rng_;

  uint64_t asked_ = 0;
  std::vector<v1::Individual> elite_;
  std::unordered_set<uint64_t> seen_;
  uint32_t stalled_ = 0;
  uint64_t best_index_ = UINT64_MAX;  // history index of the best at the last generation start
};

}  // namespace evolv
