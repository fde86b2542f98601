// Worker actors: each runs Problem::Evaluate for one evaluation at a time, on a thread of its
// own (spawned detached), so heavy work never runs on CAF's cooperative scheduler.
//
// A worker builds a job's Problem from the spec in the first request of that job and keeps the
// last few; it holds no other state, so a lost worker loses nothing but its current evaluation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actors/protocol.h"
#include "evolv/v1/cluster.pb.h"
#include "search/problem_registry.h"

namespace evolv {

// Evaluates one EvalRequest: builds or reuses the job's problem, times Evaluate, stamps the
// worker id. Never throws; a bad request gives a FAILED evaluation with the reason.
class Evaluator {
 public:
  Evaluator(std::string worker_id, const ProblemRegistry& registry);
  v1::Evaluation Run(const v1::EvalRequest& request);

 private:
  std::string worker_id_;
  const ProblemRegistry& registry_;
  std::vector<std::pair<std::string, std::shared_ptr<Problem>>> problems_;  // most recent last
};

// Spawns `count` detached local workers and has them join `dispatcher`, each with one slot.
// Ids are "<prefix>-0", "<prefix>-1", ...
// Returns their handles (send them an exit message to stop them).
std::vector<worker_actor> SpawnLocalWorkers(caf::actor_system& system,
                                            const dispatcher_actor& dispatcher, int count,
                                            const ProblemRegistry& registry,
                                            const std::string& prefix = "local");

struct WorkerState {
  std::unique_ptr<Evaluator> evaluator;
};

// The behaviour of one worker actor (spawn it detached).
worker_actor::behavior_type WorkerBehavior(worker_actor::stateful_pointer<WorkerState> self,
                                           std::string worker_id, const ProblemRegistry* registry);

}  // namespace evolv
