#include "tests/evaluators/numerics/cache_replay.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "evaluators/numerics/program.h"
#include "search/functional_hash.h"
#include "search/nsga2.h"

namespace evolv::numerics::testing {
namespace {

double Metric(const v1::Evaluation& ev, const std::string& name) {
  auto it = ev.metrics().find(name);
  return it == ev.metrics().end() ? NAN : it->second;
}

// Evaluates batch[i] into out[i] on `threads` threads.
void EvaluateBatch(const Problem& problem, const std::vector<v1::Candidate>& batch,
                   const std::vector<CacheKey>& keys, std::vector<v1::Evaluation>& out,
                   int threads) {
  out.assign(batch.size(), v1::Evaluation());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < batch.size(); i = next++) {
      out[i] = problem.Evaluate(batch[i], EvalContext{EvaluationSeed(keys[i], 0), 0});
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

}  // namespace

std::string ReplayStats::Summary() const {
  std::string out = absl::StrFormat(
      "%llu candidates, %llu keys, %llu hits (hit rate %.1f%%)\n"
      "hits: %llu identical programs, %llu same instructions (%llu beyond), %llu other programs "
      "(%llu beyond)\n"
      "beyond CompareHit: %llu (%.2f%% of hits), largest CompareHit difference %.3g; beyond "
      "equal status, cost, instructions and objective 0 within %g: %llu (%.2f%% of hits)\n"
      "hits differing in status %llu, cost %llu, instructions %llu, objective 0 at all %llu; "
      "largest objective-0 gap (same status, cost, instructions) %.3g\n"
      "candidates digest %016llx, %.1f s\n",
      static_cast<unsigned long long>(candidates), static_cast<unsigned long long>(keys),
      static_cast<unsigned long long>(hits), 100 * hit_rate(),
      static_cast<unsigned long long>(hits_identical),
      static_cast<unsigned long long>(hits_same_structure),
      static_cast<unsigned long long>(beyond_same_structure),
      static_cast<unsigned long long>(hits_functional),
      static_cast<unsigned long long>(beyond_functional),
      static_cast<unsigned long long>(beyond_contract), hits ? 100.0 * beyond_contract / hits : 0.0,
      max_difference, objective0_tolerance, static_cast<unsigned long long>(beyond_tolerance),
      hits ? 100.0 * beyond_tolerance / hits : 0.0, static_cast<unsigned long long>(status_differs),
      static_cast<unsigned long long>(cost_differs),
      static_cast<unsigned long long>(instructions_differ),
      static_cast<unsigned long long>(objective0_differs), max_objective0_gap,
      static_cast<unsigned long long>(candidates_digest), seconds);
  if (gap_above[16] > 0) {
    absl::StrAppend(&out, "objective-0 gaps (same status, cost, instructions) above 10^-k:");
    for (int e = 0; e < 16; ++e) {
      if (gap_above[e] > 0) absl::StrAppend(&out, " k=", e, ":", gap_above[e]);
    }
    absl::StrAppend(&out, " any:", gap_above[16], "\n");
  }
  return out;
}

ReplayStats ReplaySearch(const Problem& problem, const ReplayOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  v1::Nsga2Config config;
  config.set_parents(options.parents);
  config.set_children(options.children);
  Nsga2 strategy(config, problem, options.seed);

  struct Row {
    uint64_t index;
    v1::Candidate candidate;
    v1::Evaluation evaluation;
  };
  std::map<CacheKey, Row> rows;
  ReplayStats stats;
  std::string serialized;
  uint64_t index = 0;
  while (index < options.candidates) {
    // One generation at a time: NSGA-II asks nothing that depends on this batch's results.
    const uint64_t size = std::min<uint64_t>(index == 0 ? options.parents : options.children,
                                             options.candidates - index);
    std::vector<v1::Candidate> batch;
    std::vector<CacheKey> keys;
    for (uint64_t k = 0; k < size; ++k) {
      batch.push_back(strategy.Ask(index + k));
      keys.push_back(FunctionalKey(problem, batch.back()));
    }
    std::vector<v1::Evaluation> evaluations;
    EvaluateBatch(problem, batch, keys, evaluations, options.threads);
    for (uint64_t k = 0; k < size; ++k) {
      const v1::Evaluation& fresh = evaluations[k];
      auto [it, inserted] = rows.try_emplace(keys[k], Row{index + k, batch[k], fresh});
      if (!inserted) {
        const v1::Evaluation& cached = it->second.evaluation;
        ++stats.hits;
        const Problem::HitDifference d = problem.CompareHit(cached, fresh);
        auto pa = FromCandidate(it->second.candidate), pb = FromCandidate(batch[k]);
        int relation = 2;
        if (pa.ok() && pb.ok()) {
          const Program ca = Compact(*pa), cb = Compact(*pb);
          relation = ca == cb ? 0 : ca.instructions == cb.instructions ? 1 : 2;
        }
        stats.hits_identical += relation == 0;
        stats.hits_same_structure += relation == 1;
        stats.hits_functional += relation == 2;
        stats.beyond_same_structure += relation == 1 && !d.within;
        stats.beyond_functional += relation == 2 && !d.within;
        stats.max_difference = std::max(stats.max_difference, d.difference);
        if (!d.within) {
          ++stats.beyond_contract;
          auto& worst = stats.disagreements;
          worst.push_back({d.difference, it->second.index, index + k, it->second.candidate,
                           batch[k], cached, fresh});
          std::stable_sort(worst.begin(), worst.end(), [](const auto& a, const auto& b) {
            return a.difference > b.difference;
          });
          if (worst.size() > options.keep) worst.pop_back();
        }
        const bool same_status = cached.status() == fresh.status();
        const bool same_cost = Metric(cached, "cost") == Metric(fresh, "cost");
        const bool same_count = Metric(cached, "instructions") == Metric(fresh, "instructions");
        stats.status_differs += !same_status;
        stats.cost_differs += !same_cost;
        stats.instructions_differ += !same_count;
        const double a = cached.objectives_size() ? cached.objectives(0) : NAN;
        const double b = fresh.objectives_size() ? fresh.objectives(0) : NAN;
        const double gap = a == b || (std::isnan(a) && std::isnan(b)) ? 0
                           : std::isinf(a) || std::isinf(b)           ? INFINITY
                                                                      : std::fabs(a - b);
        stats.beyond_tolerance +=
            !same_status || !same_cost || !same_count || !(gap <= options.objective0_tolerance);
        if (a != b && !(std::isnan(a) && std::isnan(b))) {
          ++stats.objective0_differs;
          if (same_status && same_cost && same_count) {
            stats.max_objective0_gap = std::max(stats.max_objective0_gap, gap);
            for (int e = 0; e <= 16; ++e) stats.gap_above[e] += e == 16 || gap > std::pow(10.0, -e);
          }
        }
      }
      strategy.Tell(index + k, batch[k], fresh);
      serialized += batch[k].SerializeAsString();
      v1::HistoryEntry entry;
      entry.set_index(index + k);
      *entry.mutable_candidate() = batch[k];
      *entry.mutable_evaluation() = fresh;
      entry.set_key(keys[k].Bytes());
      stats.history.push_back(std::move(entry));
    }
    index += size;
  }
  stats.candidates = index;
  stats.objective0_tolerance = options.objective0_tolerance;
  stats.keys = rows.size();
  stats.candidates_digest = XXH64(serialized.data(), serialized.size(), 0);
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace evolv::numerics::testing
