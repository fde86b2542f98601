// Counterfactual replay of a search, to measure a domain's functional cache offline: what the
// engine's COUNTERFACTUAL mode counts, without an engine, a store or workers.
//
// ReplaySearch drives NSGA-II over `problem` for `candidates` asks (batched by generation, told
// the fresh evaluation of every candidate, as an uncached search would be), evaluates every
// candidate with the seed the engine would use (EvaluationSeed of its FunctionalKey), and compares
// each evaluation with the first evaluation of its key (the row a cache would serve), by the
// problem's CompareHit and by the numerics contract's parts (status, cost, instructions,
// objective 0). Deterministic for given (problem, options); evaluations run on `threads` threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "search/problem.h"

namespace evolv::numerics::testing {

struct ReplayOptions {
  uint64_t candidates = 3000;
  uint64_t seed = 1;
  uint32_t parents = 50;
  uint32_t children = 100;
  int threads = 2;
  size_t keep = 8;  // disagreements kept, the largest first
  // For beyond_tolerance, independent of the problem's CompareHit (so any key, old ones included,
  // can be measured against one contract).
  double objective0_tolerance = 1e-3;
};

// One cache hit that CompareHit rejects, for diagnosis.
struct ReplayDisagreement {
  double difference = 0;     // CompareHit's
  uint64_t first_index = 0;  // the candidate whose evaluation is the key's row
  uint64_t index = 0;        // the later candidate with the same key
  v1::Candidate first, candidate;
  v1::Evaluation cached, fresh;
};

struct ReplayStats {
  uint64_t candidates = 0;
  uint64_t keys = 0;  // distinct functional keys
  uint64_t hits = 0;  // candidates whose key was seen before
  // Hits by how the candidate relates to the row's (both compacted): the same program, the same
  // instructions with other constants, or another program computing the same function.
  uint64_t hits_identical = 0;
  uint64_t hits_same_structure = 0;
  uint64_t hits_functional = 0;
  // CompareHit rejections among the same-structure and the functional hits.
  uint64_t beyond_same_structure = 0;
  uint64_t beyond_functional = 0;
  // Hits whose status, metric "cost" or metric "instructions" differ, or whose objective 0 differs
  // by more than options.objective0_tolerance.
  uint64_t beyond_tolerance = 0;
  double objective0_tolerance = 0;  // the tolerance beyond_tolerance used
  // Hits whose fresh evaluation differs from the row, by CompareHit.
  uint64_t beyond_contract = 0;
  double max_difference = 0;  // the largest CompareHit difference over all hits
  // Hits differing in: status; metrics "cost" or "instructions"; objective 0 at all (bit for
  // bit); the largest |difference| of objective 0 among hits with equal status, cost and count.
  uint64_t status_differs = 0;
  uint64_t cost_differs = 0;
  uint64_t instructions_differ = 0;
  uint64_t objective0_differs = 0;
  double max_objective0_gap = 0;
  // gap_above[k]: such hits whose objective-0 gap exceeds 10^-k (k = 0..15; 16 counts any gap).
  uint64_t gap_above[17] = {};
  std::vector<ReplayDisagreement> disagreements;  // the `keep` largest CompareHit rejections
  double seconds = 0;
  // xxh64 of the candidates' serialized bytes in ask order: pins the search's history.
  uint64_t candidates_digest = 0;
  // The replayed history (candidate and fresh evaluation), in index order.
  std::vector<v1::HistoryEntry> history;

  double hit_rate() const { return candidates ? static_cast<double>(hits) / candidates : 0; }
  // A few lines for people.
  std::string Summary() const;
};

ReplayStats ReplaySearch(const Problem& problem, const ReplayOptions& options);

}  // namespace evolv::numerics::testing
