// What the diffusion benchmarks share: one search (a job with top-k evolution run to its budget
// through JobEngine, in order on one thread, on a store in a temporary directory), independent
// tasks on two threads, medians with their spread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "actors/job_engine.h"
#include "evaluators/registry.h"
#include "evaluators/diffusion/diffusion_problem.h"
#include "evolv/v1/diffusion.pb.h"
#include "search/strategy.h"
#include "tests/support/temp_dir.h"

namespace evolv {

// The best OK history row (lexicographically, as the engine ranks results); exits on any error.
inline v1::HistoryEntry RunTopKSearch(const v1::DiffusionSpec& diffusion,
                                      const v1::TopKEvolutionConfig& config, uint64_t evaluations,
                                      uint64_t seed) {
  v1::JobRecord record;
  record.set_id("diffusion-bench");
  record.set_state(v1::RUNNING);
  auto* spec = record.mutable_spec();
  spec->mutable_problem()->PackFrom(diffusion);
  *spec->mutable_strategy()->mutable_top_k_evolution() = config;
  spec->mutable_budget()->set_max_evaluations(evaluations);
  spec->set_seed(seed);
  spec->set_window(8);
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(record, store->get(), BuiltinProblems());
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    std::exit(1);
  }
  std::vector<EvalTask> pending = (*engine)->Fill();
  while (!pending.empty()) {
    const EvalTask task = pending.front();
    pending.erase(pending.begin());
    auto more = (*engine)->OnResult(
        task.index, (*engine)->problem().Evaluate(task.candidate, {task.seed, task.repeat}));
    pending.insert(pending.end(), more.begin(), more.end());
  }
  if (absl::Status status = (*engine)->Checkpoint(v1::SUCCEEDED); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());  // the history is written here
    std::exit(1);
  }
  auto history = (*store)->ReadHistory(record.id());
  if (!history.ok() || history->empty()) {
    std::fprintf(stderr, "no history: %s\n", history.status().ToString().c_str());
    std::exit(1);
  }
  v1::HistoryEntry best;
  bool any = false;
  for (const auto& entry : *history) {
    if (entry.evaluation().status() != v1::OK) continue;
    if (!any || LexicographicallyBetter(entry.evaluation(), best.evaluation())) best = entry;
    any = true;
  }
  return best;
}

// Runs `tasks` on up to two threads.
inline void RunAll(const std::vector<std::function<void()>>& tasks) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < tasks.size();) tasks[i]();
  };
  const unsigned n = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
}

struct Spread {
  double median, lo, hi;
};

inline Spread Of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v.front(), v.back()};
}

inline std::string Show(const Spread& s) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.4f (%.4f..%.4f)", s.median, s.lo, s.hi);
  return buffer;
}

// The diffusion problem of `spec`; exits on an error.
inline std::unique_ptr<DiffusionProblem> Create(const v1::DiffusionSpec& spec) {
  auto created = CreateDiffusionProblem(spec);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    std::exit(1);
  }
  return std::unique_ptr<DiffusionProblem>(static_cast<DiffusionProblem*>(created->release()));
}

}  // namespace evolv
