// Top-k evolution (Li et al., ICCV 2023): a generational search around an elite of
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
// Later stages (`stages`, after the first stage's `generations`) keep the elite and may change
// the numbers of mutants and crossovers; each opens an allowance, a share of its space the problem
// may use as the search goes on (GenerationInfo::allowance; e.g. the share of a network's blocks
// a candidate may skip): 0 at the stage's start, `allowance_step` from the first
// generation of the stage whose start sees the same best result as the start before (the best
// stopped changing) or from the stage's generation `open_by`, whichever is first, then
// `allowance_step` more per generation up to `allowance_cap`. Mutants and random candidates are
// drawn with the generation's allowance (EvolvableSpace::MutateGenes and RandomAt).
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
#include <optional>
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
  uint32_t stage = 0;             // 0 is the first stage (TopKEvolutionConfig.stages are 1...)
  uint64_t stage_generation = 0;  // generation within the stage, 0 is its first
  double allowance = 0;           // the stage's allowance, in [0, allowance_cap]; 0 in stage 0
};

// The capability a Problem implements to give the top-k evolution its domain-specific parts
// (returned by Problem::AsEvolvableSpace, so search/ needs no knowledge of the domain); the
// first generation starts from Problem::Seeds. Every method is const and thread-safe.
class EvolvableSpace {
 public:
  virtual ~EvolvableSpace() = default;
  // A child of `parent` in which each gene is replaced with probability `rate` (so possibly
  // none). `generation` lets a problem open parts of its space as the search goes on (e.g.
  // the growing share of skipped blocks in that paper's joint search).
  virtual v1::Candidate MutateGenes(const v1::Candidate& parent, double rate,
                                    const GenerationInfo& generation, Rng& rng) const = 0;
  // A random candidate for `generation` (e.g. one that uses its allowance); nullopt (the default)
  // for Problem::Random's.
  virtual std::optional<v1::Candidate> RandomAt(const GenerationInfo& generation, Rng& rng) const {
    (void)generation;
    (void)rng;
    return std::nullopt;
  }
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
  // True after the generations of every stage were asked, when the config sets them all (the
  // last stage's `generations` > 0, or `generations` > 0 without later stages).
  bool Done() const override;
  // "generation g[/G]", then ", stage s, allowance a" with later stages.
  std::string ProgressNote(uint64_t told) const override;
  v1::StrategySnapshot Snapshot() const override;
  absl::Status Restore(const v1::StrategySnapshot& snapshot) override;

  // The best results told so far, best first (at most top_k).
  const std::vector<v1::Individual>& elite() const { return elite_; }
  // Where the candidate asked last stands (its generation, stage and allowance).
  const GenerationInfo& last_asked() const { return last_asked_; }

 private:
  enum class Origin { kSeed, kRandom, kSeedMutant, kMutant, kCrossover };

  struct Stage {
    uint64_t first = 0;        // its first generation
    uint64_t generations = 0;  // 0: open-ended (the last stage only)
    uint32_t mutants = 0;
    uint32_t crossovers = 0;
    double allowance_step = 0;
    double allowance_cap = 0;
    uint32_t open_by = 0;
  };

  size_t StageOf(uint64_t generation) const;
  GenerationInfo InfoAt(uint64_t generation) const;
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
  double mutate_prob_;
  uint32_t initial_random_;
  double initial_mutate_prob_;
  std::vector<Stage> stages_;  // the first is the config's own
  Rng rng_;

  uint64_t asked_ = 0;
  std::vector<v1::Individual> elite_;
  std::unordered_set<uint64_t> seen_;
  uint32_t stalled_ = 0;
  uint64_t best_index_ = UINT64_MAX;  // history index of the best at the last generation start
  // The generation at which the allowance opened; it holds in that generation's stage only.
  std::optional<uint64_t> opened_at_;
  GenerationInfo last_asked_;
};

}  // namespace evolv
