// The Strategy interface: a domain-free ask/tell search (like Optuna, Nevergrad, Vizier).
//
// The coordinator asks for candidate k, has it evaluated (or found in the cache), and tells the
// result back; results are told strictly in index order, and candidate k is asked only after
// results 0..k-W were told (W = the job's window). Under that discipline a strategy's choices are
// a pure function of (spec, seed, W), which Snapshot/Restore preserve across restarts.
//
// Not thread-safe: owned and driven by one coordinator.
#pragma once

#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "evolv/v1/checkpoint.pb.h"
#include "evolv/v1/job.pb.h"
#include "search/problem.h"
#include "search/rng.h"

namespace evolv {

class Strategy {
 public:
  virtual ~Strategy() = default;

  // The next candidate to evaluate; `index` is its history index (0, 1, 2, ...).
  virtual v1::Candidate Ask(uint64_t index) = 0;
  // The result for candidate `index`; called in index order, once per asked index.
  virtual void Tell(uint64_t index, const v1::Candidate& candidate,
                    const v1::Evaluation& evaluation) = 0;
  // True when the strategy itself has nothing more to ask (most never finish on their own; the
  // job's budget stops them).
  virtual bool Done() const { return false; }
  // The search's own measure of progress after `told` results, for people (e.g. "instance
  // 120/5000"); empty when evaluations are the measure.
  virtual std::string ProgressNote(uint64_t told) const {
    (void)told;
    return "";
  }
  // For a search with a natural end (Done() turns true after a fixed number of results, e.g.
  // every instance of a bandit's sequence): that number of results; 0 when only the job's
  // budget ends the search. A job may then leave its budget unset (ValidateJobSpec).
  virtual uint64_t NaturalEvaluations() const { return 0; }
  // For a search with a natural end: its own units of work after `told` results (name, done,
  // total, best_is_incidental; per_second is the engine's to fill); nullopt otherwise.
  virtual std::optional<v1::WorkUnits> Units(uint64_t told) const {
    (void)told;
    return std::nullopt;
  }

  virtual v1::StrategySnapshot Snapshot() const = 0;
  // Fails with InvalidArgument when the snapshot is of another strategy or malformed.
  virtual absl::Status Restore(const v1::StrategySnapshot& snapshot) = 0;
};

// Limits that whoever runs jobs sets (evolvd --max-strategy-memory), beside those of the spec's
// fields (docs/limits.md).
struct JobLimits {
  // The most memory a strategy's state may be estimated to take before it is built. Only the
  // bandit's state grows past a few hundred MB within the fields' limits (trials x policies x
  // bins x arms); the evolutionary strategies hold at most 100,000 candidates.
  uint64_t max_strategy_bytes = uint64_t{4} << 30;
  // The most memory one evaluation may be estimated to take on a worker
  // (Problem::EvaluationBytes): candidates above it are INFEASIBLE, a spec with a seed above it
  // is refused.
  uint64_t max_evaluation_bytes = uint64_t{8} << 30;
};

// Builds the strategy a job spec names, over `problem` (which must outlive it), seeded from the
// spec's seed. InvalidArgument (naming the field) for an unknown or out-of-range configuration,
// or one whose state is estimated past limits.max_strategy_bytes (nothing is allocated then).
// A spec that names none gets the bandit for a bandit-sequence problem, top-k evolution for a
// problem with an evolvable space, the Gaussian-process search (search/gp_search.h) for a box of
// parameters with one objective, and NSGA-II otherwise.
absl::StatusOr<std::unique_ptr<Strategy>> CreateStrategy(const v1::JobSpec& spec,
                                                         const Problem& problem,
                                                         const JobLimits& limits = {});

// Validates the spec's strategy block without building anything.
absl::Status ValidateStrategy(const v1::StrategySpec& spec);

// Strict "a is better than b" for minimized objectives: non-OK is worst, then lexicographic.
bool LexicographicallyBetter(const v1::Evaluation& a, const v1::Evaluation& b);

}  // namespace evolv
