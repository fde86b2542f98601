// The coordinator: one actor per running job. It drives a JobEngine — asks, cache decisions and
// tells happen in its handlers — sends the evaluations that need a worker to the dispatcher,
// checkpoints every `checkpoint_every_results` results or `checkpoint_every_seconds` seconds,
// and reports progress to a listener. It never blocks: evaluation runs on workers.
//
// A job its clients evaluate (Problem::EvaluatedByClients, a study with `clients`) sends nothing
// to the dispatcher: the coordinator keeps the engine's tasks as trials, leases them to the
// clients that ask (suggest: lowest index first, until a deadline; its tick returns the expired
// ones) and tells the engine each completion (complete) like a worker's result
// (docs/adr/0024-studies-evaluated-by-clients.md).
//
// Interface: coordinator_actor (actors/protocol.h). (stop, target) commits a checkpoint with the
// job in `target` (RUNNING to be resumed later, PAUSED, CANCELLED), replies with the record it
// wrote and quits; when that checkpoint fails it replies with an error and keeps running. When
// the job reaches its budget it commits a final checkpoint with the job SUCCEEDED, sends
// (done, job_id, SUCCEEDED, "") to the listener and quits. When a checkpoint fails it sends
// (done, job_id, FAILED_STATE, reason) instead, without writing: the listener records the
// failure (JobLifecycle::Fail). A checkpoint the store refuses (ResourceExhausted or Unavailable:
// a full disk, an I/O error) is not a failure: it sends (done, job_id, PAUSED, "store write
// failed: ...; resumes when the store accepts writes") and quits; the store still holds the
// job's last checkpoint, RUNNING, and the results since are asked again when it resumes.
#pragma once

#include <memory>

#include "actors/job_engine.h"
#include "actors/protocol.h"

namespace evolv {

struct CoordinatorOptions {
  uint64_t checkpoint_every_results = 1000;
  double checkpoint_every_seconds = 5.0;
  double progress_every_seconds = 0.25;
};

// The coordinator owns `engine` from now on: nothing else may call it while the actor lives.
// Each coordinator runs on a thread of its own (a detached actor, named "evolv.job"): its
// handlers (a strategy's step, a checkpoint of a thousand results) take milliseconds, and on
// CAF's shared scheduler threads they delayed the dispatcher and other jobs while the job's state
// moved between cores (docs/adr/0022-checkpoint-cadence.md, "Third look").
coordinator_actor SpawnCoordinator(caf::actor_system& system, std::shared_ptr<JobEngine> engine,
                                   dispatcher_actor dispatcher, job_listener_actor listener,
                                   CoordinatorOptions options = {});

}  // namespace evolv
