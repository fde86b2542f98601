// The dispatcher: one per process. It queues evaluations per job, hands them to free worker
// slots, and returns each result to whoever asked.
//
// Fair share: among jobs with queued work, the next task goes to the job with the least
// (tasks served / weight), weight = 1 + max(priority, 0), so a job of priority 3 gets four times
// the evaluations of a job of priority 0 while both have work queued.
// Capabilities: a task goes only to a worker whose WorkerInfo.domains is empty or names the
// task's domain.
// Failures: a worker that terminates or disconnects is monitored; its tasks in flight are put
// back at the head of their job's queue and run elsewhere. A task whose worker fails
// `max_attempts` times is answered with a FAILED evaluation naming the reason.
#pragma once

#include <cstdint>

#include "actors/protocol.h"

namespace evolv {

struct DispatcherOptions {
  uint32_t max_attempts = 3;
};

dispatcher_actor SpawnDispatcher(caf::actor_system& system, DispatcherOptions options = {});

}  // namespace evolv
