// Drives a JobEngine without actors, as the coordinator would, for engine-level tests.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "actors/job_engine.h"

namespace evolv::testing {

// Runs `engine` to its end, evaluating its tasks in an order scrambled by `shuffle_seed` (0: in
// order), checkpointing every `checkpoint_every` results and once at the end.
inline void DriveToEnd(JobEngine& engine, uint64_t shuffle_seed,
                       uint64_t checkpoint_every = 1000000) {
  std::vector<EvalTask> pending = engine.Fill();
  std::mt19937_64 shuffle(shuffle_seed);
  while (!pending.empty()) {
    const size_t pick = shuffle_seed ? shuffle() % pending.size() : 0;
    EvalTask task = pending[pick];
    pending.erase(pending.begin() + pick);
    auto more = engine.OnResult(
        task.index, engine.problem().Evaluate(task.candidate, {task.seed, task.repeat}));
    pending.insert(pending.end(), more.begin(), more.end());
    if (engine.CheckpointDue(checkpoint_every, 1e9)) {
      ASSERT_TRUE(engine.Checkpoint(v1::RUNNING).ok());
    }
  }
  ASSERT_TRUE(engine.Finished());
  ASSERT_TRUE(engine.Checkpoint(v1::SUCCEEDED).ok());
}

// One string per history row of `job`: its candidate and objectives, in index order.
inline std::vector<std::string> HistoryFingerprint(Store& store, const std::string& job) {
  std::vector<std::string> rows;
  auto history = store.ReadHistory(job);
  EXPECT_TRUE(history.ok()) << history.status();
  if (!history.ok()) return rows;
  for (const auto& e : *history) {
    std::string row = e.candidate().SerializeAsString();
    for (double o : e.evaluation().objectives()) row += "|" + std::to_string(o);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace evolv::testing
