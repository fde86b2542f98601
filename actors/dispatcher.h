// The dispatcher: one per process. It queues evaluations per job, hands them to free worker
// slots, and returns each result to whoever asked.
//
// Fair share: among jobs with queued work, the next task goes to the job with the least
// (tasks served / weight), weight = 1 + max(priority, 0), so a job of priority 3 gets four times
// the evaluations of a job of priority 0 while both have work queued. A new job starts level with
// the least-served one.
// Capabilities: a task goes only to a worker whose WorkerInfo.domains is empty or names the
// task's domain.
// Backpressure: at most `max_queued` tasks wait per job; beyond that a request is answered at
// once with a FAILED evaluation ("queue full"). Coordinators never exceed their window, so this
// only trips on misbehaving clients.
// Failures: every worker is monitored (CAF monitors; remote workers also send heartbeats). When a
// worker goes down, disconnects, or misses heartbeats for `stale_after_seconds`, its tasks in
// flight go back to the head of their job's queue at once, and late answers from it are ignored.
// A task that fails or exceeds `task_timeout_seconds` is retried up to `max_attempts` times in
// all, then answered with a FAILED evaluation naming the reason; nothing is dropped silently.
#pragma once

#include <cstdint>

#include "actors/protocol.h"

namespace evolv {

struct DispatcherOptions {
  uint32_t max_attempts = 3;
  double task_timeout_seconds = 600;
  double stale_after_seconds = 15;
  size_t max_queued = 100000;
};

dispatcher_actor SpawnDispatcher(caf::actor_system& system, DispatcherOptions options = {});

}  // namespace evolv
