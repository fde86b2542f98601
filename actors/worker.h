// Worker actors: each runs Problem::Evaluate for one evaluation at a time, on a thread of its
// own (spawned detached), so heavy work never runs on CAF's cooperative scheduler.
//
// A worker builds a job's Problem from the spec in the first request of that job and keeps the
// last few; it holds no other state, so a lost worker loses nothing but its current evaluation.
//
// Same problem as the coordinator: its result is stored under the coordinator's functional key,
// so before evaluating, a worker compares the ProblemFingerprint (search/functional_hash.h) of the
// problem it built with the one in the request. They differ when the worker runs another build
// (another EvaluatorVersion) or when a file the spec names relative to the working directory (a
// model file, a data file) has other content on the worker's machine, which a CanonicalSpec that
// hashes the content, or the problem's InputsDigest, reveals. On a mismatch the worker does not
// evaluate: it returns a FAILED evaluation (never cached) whose error says what differs, and logs
// a warning once per job. A request without a fingerprint (an older coordinator) is evaluated
// unchecked. The worker keeps the problem it built for the job: restart it after fixing its files.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actors/protocol.h"
#include "evolv/v1/cluster.pb.h"
#include "search/problem_registry.h"

namespace evolv {

// The device a worker evaluates on: its CUDA device index (EvalContext::cuda_device; -1 for
// none) and the label each of its evaluations carries (Evaluation.device).
struct WorkerDevice {
  int cuda_index = -1;
  std::string label = "cpu";
};

// Evaluates one EvalRequest: builds or reuses the job's problem, checks its fingerprint against
// the request's, times Evaluate, stamps the worker id. Never throws; a bad request gives a FAILED
// evaluation with the reason, and a problem that differs from the coordinator's a FAILED
// evaluation (with the worker id) whose error begins "the worker's problem differs from the
// coordinator's: " and names the evaluator versions (when they differ) or the fingerprints.
// Not thread-safe: one per worker thread.
class Evaluator {
 public:
  // With `allow_commands` false, requests of a domain that runs user commands
  // (ProblemRegistry::RunsCommands) are refused with a FAILED evaluation, never evaluated.
  Evaluator(std::string worker_id, const ProblemRegistry& registry, bool allow_commands = false,
            WorkerDevice device = {});
  v1::Evaluation Run(const v1::EvalRequest& request);
  // Whether RunBatch evaluates a message's tasks together: on a worker with a CUDA device, where
  // a domain may run them in one launch (Problem::EvaluateBatch).
  bool Batches() const { return device_.cuda_index >= 0; }
  // The tasks of one message: `shared` holds their job's fields, own[i] task i's (index,
  // candidate, seed, repeat). Evaluated together by Problem::EvaluateBatch, each timed as an
  // even share of the batch's time; results in order, each as Run would give it.
  std::vector<v1::Evaluation> RunBatch(const v1::EvalRequest& shared,
                                       const std::vector<v1::EvalRequest>& own);

 private:
  struct BuiltProblem {
    std::string job_id;
    std::shared_ptr<Problem> problem;
    std::string fingerprint;       // ProblemFingerprint(*problem)
    bool mismatch_logged = false;  // the warning for this job was logged
  };

  std::string worker_id_;
  const ProblemRegistry& registry_;
  bool allow_commands_;
  WorkerDevice device_;
  std::vector<BuiltProblem> problems_;  // most recent last

  // The problem of `request`'s job, built on its first request; nullptr, with *refused set to
  // the FAILED evaluation to answer, when it cannot be built or differs from the coordinator's.
  const Problem* ProblemFor(const v1::EvalRequest& request, v1::Evaluation* refused);
  // The context of `request`'s evaluation on this worker.
  EvalContext ContextOf(const v1::EvalRequest& request) const;
  // Stamps an evaluation that ran here with its time, this worker and its device.
  void Stamp(v1::Evaluation* evaluation, double seconds) const;
};

// The most evaluations a worker offers to take in one message (WorkerInfo.max_batch).
inline constexpr uint32_t kWorkerMaxBatch = 64;

// Spawns `count` detached local workers and has them join `dispatcher`, each with one slot;
// with `allow_commands` they run user commands (WorkerInfo.allows_commands).
// Ids are "<prefix>-0", "<prefix>-1", ...
// Returns their handles (send them an exit message to stop them).
std::vector<worker_actor> SpawnLocalWorkers(caf::actor_system& system,
                                            const dispatcher_actor& dispatcher, int count,
                                            const ProblemRegistry& registry,
                                            const std::string& prefix = "local",
                                            bool allow_commands = false);

struct WorkerState {
  std::unique_ptr<Evaluator> evaluator;
};

// The behaviour of one worker actor (spawn it detached); `allow_commands` and `device` as for
// Evaluator.
worker_actor::behavior_type WorkerBehavior(worker_actor::stateful_pointer<WorkerState> self,
                                           std::string worker_id, const ProblemRegistry* registry,
                                           bool allow_commands, WorkerDevice device);

}  // namespace evolv
