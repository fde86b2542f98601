// The coordinator: one actor per running job. It drives a JobEngine — asks, cache decisions and
// tells happen in its handlers — sends the evaluations that need a worker to the dispatcher,
// checkpoints every `checkpoint_every_results` results or `checkpoint_every_seconds` seconds,
// and reports progress to a listener. It never blocks: evaluation runs on workers.
//
// Messages (see actors/protocol.h): (tick) timer; (stop) -> bool: checkpoint with the job still
// RUNNING, reply, quit. When the job ends it commits a final checkpoint (SUCCEEDED, or FAILED
// when storage fails), sends (done, job_id, state, error) to the listener and quits.
#pragma once

#include <memory>

#include "actors/job_engine.h"
#include "actors/protocol.h"

namespace evolv {

struct CoordinatorOptions {
  uint64_t checkpoint_every_results = 200;
  double checkpoint_every_seconds = 5.0;
  double progress_every_seconds = 0.25;
};

caf::actor SpawnCoordinator(caf::actor_system& system, std::shared_ptr<JobEngine> engine,
                            dispatcher_actor dispatcher, caf::actor listener,
                            CoordinatorOptions options = {});

}  // namespace evolv
