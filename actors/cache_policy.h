// The rules of one cache mode (JobSpec.cache.mode), separate from the engine's bookkeeping so
// each mode can be read and tested as a table of cases.
//
// The engine asks a policy twice per candidate:
//   Plan  at ask time: evaluate it on a worker, reuse the key's stored row, or follow an
//         evaluation of the same key already in flight in the window.
//   Tell  at tell time (index order): what the strategy is told, how the result counts (hit or
//         miss, and for COUNTERFACTUAL the difference from the stored row), and which row the
//         key should hold afterwards.
// Rows only ever hold OK evaluations: a FAILED result (a lost worker, a timeout, an evaluator
// error) is told to the strategy but never stored or served, so a later candidate with that key
// is evaluated again.
//
// Modes:
//   CACHE           reuse a stored row; a key in flight is followed, not evaluated twice.
//   AGGREGATE       evaluate a key up to `repeats` times (seeds differ per repeat); the row is
//                   the mean over its OK repeats (objectives and metrics alike) and is what the
//                   strategy is told; afterwards the mean is reused.
//   COUNTERFACTUAL  evaluate every candidate; a stored row is a "hit" that caching would have
//                   served, and a collision when it differs from the fresh evaluation beyond the
//                   domain's contract (Problem::CompareHit).
//   OFF             never read or write rows.
//
// Policies are stateless and thread-compatible; they only read what they are given.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "evolv/v1/checkpoint.pb.h"
#include "evolv/v1/job.pb.h"
#include "search/problem.h"

namespace evolv {

enum class PlanAction {
  kEvaluate,  // send to a worker
  kReuse,     // take the stored row now
  kFollow,    // an evaluation of this key is in flight: take its row at tell time
};

struct PlanDecision {
  PlanAction action = PlanAction::kEvaluate;
  uint32_t repeat = 0;  // AGGREGATE: which repeat this evaluation is
};

// What a slot brings to its tell.
struct TellInput {
  // The key's row as it stands when this slot is told (earlier slots' rows included); OK rows
  // only. Null when the key has none.
  const v1::CachedEvaluation* row = nullptr;
  // The worker's result when the slot was evaluated, else null.
  const v1::Evaluation* fresh = nullptr;
};

struct TellOutcome {
  // False when the slot has no result yet and must be evaluated after all (it followed a twin
  // whose evaluation failed, so no row exists); the other fields are then unset.
  bool ready = true;
  v1::Evaluation told;
  bool hit = false;
  bool miss = false;
  bool collision = false;
  double difference = 0;  // COUNTERFACTUAL hits: the CompareHit difference
  // The key's new row: the fields evaluation and repeats are set; the engine stamps the rest.
  std::optional<v1::CachedEvaluation> row;
};

class CachePolicy {
 public:
  virtual ~CachePolicy() = default;
  // `row`: the key's stored OK row or null; `in_flight`: evaluations of the key planned in the
  // window and not yet told.
  virtual PlanDecision Plan(const v1::CachedEvaluation* row, uint32_t in_flight) const = 0;
  virtual TellOutcome Tell(const TellInput& input) const = 0;
};

// The policy for `mode` (UNSPECIFIED means CACHE). `problem` supplies the COUNTERFACTUAL
// contract and must outlive the policy; `aggregate_repeats` >= 1.
std::unique_ptr<CachePolicy> MakeCachePolicy(v1::CacheMode mode, uint32_t aggregate_repeats,
                                             const Problem& problem);

// The mean of an OK row over `row.repeats()` repeats and one more OK evaluation: objectives and
// metrics averaged (a metric missing on one side is taken from the other); the rest (refined
// candidate, timing, worker) of the first repeat.
v1::CachedEvaluation AddRepeat(const v1::CachedEvaluation* row, const v1::Evaluation& fresh);

}  // namespace evolv
