// The messages between evolv's actors, one typed interface per actor kind.
//
// Payloads that cross processes are serialized protobufs (std::string), so the same interfaces
// work for local actors and for remote ones over CAF's middleman without custom CAF type
// registration.
#pragma once

#include <cstdint>
#include <string>

#include "caf/all.hpp"

namespace evolv {

using evaluate_atom = caf::atom_constant<caf::atom("evaluate")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using workers_atom = caf::atom_constant<caf::atom("workers")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using progress_atom = caf::atom_constant<caf::atom("progress")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
using queue_atom = caf::atom_constant<caf::atom("queue")>;

// A worker runs Problem::Evaluate; one evaluation at a time per actor.
using worker_actor = caf::typed_actor<
    // (evaluate, EvalRequest bytes) -> Evaluation bytes
    caf::replies_to<evaluate_atom, std::string>::with<std::string>>;

// The dispatcher queues evaluations per job and hands them to free worker slots. Workers are
// passed as caf::actor (a built-in type CAF serializes across nodes) and used as worker_actor.
using dispatcher_actor = caf::typed_actor<
    // (join, worker, WorkerInfo bytes): a worker offers its slots
    caf::reacts_to<join_atom, caf::actor, std::string>,
    // (heartbeat, worker): the worker is alive (updates its last-seen time)
    caf::reacts_to<heartbeat_atom, caf::actor>,
    // (evaluate, EvalRequest bytes) -> Evaluation bytes, once some worker has run it
    caf::replies_to<evaluate_atom, std::string>::with<std::string>,
    // (workers) -> serialized WorkerStatus messages, one per worker
    caf::replies_to<workers_atom>::with<std::vector<std::string>>,
    // (queue) -> evaluations waiting for a free worker slot, over all jobs
    caf::replies_to<queue_atom>::with<uint64_t>,
    // (tick): its own timer, for heartbeat checks
    caf::reacts_to<tick_atom>>;

// The gatekeeper is what evolvd publishes on its cluster port: remote workers join through it
// with the cluster secret; it forwards accepted workers to the dispatcher.
using gatekeeper_actor = caf::typed_actor<
    // (join, worker, WorkerInfo bytes, secret) -> "" when accepted, else the reason
    caf::replies_to<join_atom, caf::actor, std::string, std::string>::with<std::string>,
    // (heartbeat, worker)
    caf::reacts_to<heartbeat_atom, caf::actor>>;

// Coordinators and their listeners are dynamically typed actors:
//   coordinator accepts  (tick)                        timer: checkpoint, progress, time budget
//                        (stop) -> bool                checkpoint now and quit (job stays RUNNING)
//   listener receives    (progress, job_id, JobProgress bytes)
//                        (done, job_id, JobState as int32, error text)

}  // namespace evolv
