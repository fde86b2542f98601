// JobEngine: the whole logic of one job's coordinator, as a plain class (no actors), so it can be
// tested without an actor system. The coordinator actor only moves its tasks and results.
//
// The deterministic window: candidate k is asked only after results 0..k-W were told, results
// are told in index order, and cache decisions that feed the strategy are made at tell time, in
// index order. With an evaluation budget the job's history is then a pure function of
// (spec, seed, W) and of the cache rows present when it started, whatever the number of workers
// or the order in which results arrive.
//
// Cache modes (JobSpec.cache.mode) are CachePolicy objects (actors/cache_policy.h); the engine
// keeps the rows, the keys in flight and the counters. Candidates the problem refuses on
// structure (Problem::CheckFeasible) are told INFEASIBLE without touching the cache.
//
// Checkpoints: Checkpoint() writes one Store::Commit with the strategy snapshot, counters, the
// candidates in flight, the history rows and cache rows since the last checkpoint, and the job
// record. After a restart Create() restores it and re-issues the in-flight candidates.
//
// Not thread-safe: owned by one coordinator.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "actors/cache_policy.h"
#include "evolv/v1/checkpoint.pb.h"
#include "evolv/v1/job.pb.h"
#include "search/functional_hash.h"
#include "search/job_spec.h"
#include "search/problem.h"
#include "search/problem_registry.h"
#include "search/strategy.h"
#include "storage/store.h"

namespace evolv {

// One evaluation to run on a worker.
struct EvalTask {
  uint64_t index = 0;
  CacheKey key;
  uint32_t repeat = 0;
  uint64_t seed = 0;
  v1::Candidate candidate;
};

class JobEngine {
 public:
  // Builds the job's problem and strategy; when the store holds a checkpoint of `job.id()`,
  // continues from it. `store` must outlive the engine. InvalidArgument for a bad spec.
  // Candidates estimated above limits.max_evaluation_bytes are INFEASIBLE.
  static absl::StatusOr<std::unique_ptr<JobEngine>> Create(const v1::JobRecord& job, Store* store,
                                                           const ProblemRegistry& registry,
                                                           const JobLimits& limits = {});
  // The same with the job's problem and strategy already built (BuildJobParts or
  // ValidateAndBuild, search/job_spec.h); reads only the store.
  static absl::StatusOr<std::unique_ptr<JobEngine>> Create(const v1::JobRecord& job, Store* store,
                                                           JobParts parts);

  // Asks the strategy for candidates until the window is full or the budget is reached; returns
  // those that need a worker (cache hits are resolved without one).
  std::vector<EvalTask> Fill();
  // Records the result of `index` (from a worker), tells every result now in order, refills.
  std::vector<EvalTask> OnResult(uint64_t index, v1::Evaluation evaluation);

  // True once the budget is spent (or the strategy is done) and every asked result was told.
  bool Finished() const;
  // True when results or time since the last checkpoint exceed the given thresholds.
  bool CheckpointDue(uint64_t every_results, double every_seconds) const;
  // Commits a checkpoint with the job in `state`.
  absl::Status Checkpoint(v1::JobState state);

  v1::JobProgress Progress() const;
  const v1::JobRecord& record() const { return record_; }
  const Problem& problem() const { return *problem_; }
  const std::string& spec_bytes() const { return spec_bytes_; }
  const std::string& evaluator_version() const { return version_; }
  // ProblemFingerprint of the job's problem, sent with every evaluation request.
  const std::string& problem_fingerprint() const { return fingerprint_; }
  uint64_t told() const { return told_; }
  // Indices asked and not yet told.
  size_t in_flight() const { return window_.size(); }

 private:
  struct Slot {
    v1::Candidate candidate;
    CacheKey key;
    bool needs_worker = false;
    bool has_result = false;
    bool infeasible = false;  // refused by CheckFeasible; `result` says why
    v1::Evaluation result;    // the worker's result, or the INFEASIBLE evaluation
  };

  JobEngine(v1::JobRecord record, Store* store, std::unique_ptr<Problem> problem,
            std::unique_ptr<Strategy> strategy);
  absl::Status RestoreFromCheckpoint();
  bool MayAsk() const;
  double ElapsedSeconds() const;
  // Looks a key up in this job's working set, then in the store.
  const v1::CachedEvaluation* FindRow(const CacheKey& key);
  // Decides how slot `index` gets its result; returns a task when it needs a worker.
  std::optional<EvalTask> Plan(uint64_t index, Slot& slot);
  // Marks the slot as evaluated on a worker and builds its task.
  EvalTask Dispatch(uint64_t index, Slot& slot, uint32_t repeat);
  // Tells slot `index` to the strategy; false when it has no result yet and must be evaluated.
  bool TellOne(uint64_t index, Slot& slot);

  v1::JobRecord record_;
  Store* store_;
  std::unique_ptr<Problem> problem_;
  uint64_t max_evaluation_bytes_ = JobLimits{}.max_evaluation_bytes;
  std::unique_ptr<Strategy> strategy_;
  std::string spec_bytes_;
  std::string domain_;
  std::string version_;
  std::string canonical_spec_;
  std::string fingerprint_;
  v1::ObjectiveDisplay objective_display_;  // of the first objective, for progress reports
  v1::CacheMode mode_;
  std::unique_ptr<CachePolicy> policy_;
  uint32_t window_size_;

  uint64_t next_index_ = 0;  // next index to ask
  uint64_t told_ = 0;        // results 0..told_-1 told
  std::map<uint64_t, Slot> window_;
  bool restored_unplanned_ = false;  // window_ holds checkpointed candidates Fill must plan
  // Evaluations of a key sent to workers within the window and not yet told.
  std::unordered_map<CacheKey, uint32_t, CacheKeyHasher> planned_;

  // Cache rows read or written by this job; `dirty_` ones go out with the next checkpoint.
  std::unordered_map<CacheKey, v1::CachedEvaluation, CacheKeyHasher> rows_;
  std::vector<CacheKey> dirty_;
  std::vector<v1::HistoryEntry> unflushed_history_;

  v1::CacheCounters counters_;
  v1::Evaluation best_;
  bool has_best_ = false;
  double elapsed_before_ = 0;  // seconds run before this process resumed the job
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_checkpoint_;
  uint64_t told_at_start_ = 0;
  uint64_t told_at_checkpoint_ = 0;
};

// Milliseconds since the Unix epoch.
int64_t NowUnixMs();

}  // namespace evolv
