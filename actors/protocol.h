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

// A worker runs Problem::Evaluate; one evaluation at a time per actor.
using worker_actor = caf::typed_actor<
    // (evaluate, EvalRequest bytes) -> Evaluation bytes
    caf::replies_to<evaluate_atom, std::string>::with<std::string>>;

// The dispatcher queues evaluations per job and hands them to free worker slots.
using dispatcher_actor = caf::typed_actor<
    // (join, worker, WorkerInfo bytes): a worker offers its slots
    caf::reacts_to<join_atom, worker_actor, std::string>,
    // (evaluate, EvalRequest bytes) -> Evaluation bytes, once some worker has run it
    caf::replies_to<evaluate_atom, std::string>::with<std::string>,
    // (workers) -> serialized WorkerStatus messages, one per worker
    caf::replies_to<workers_atom>::with<std::vector<std::string>>>;

// Coordinators and their listeners are dynamically typed actors:
//   coordinator accepts  (tick)                        timer: checkpoint, progress, time budget
//                        (stop) -> bool                checkpoint now and quit (job stays RUNNING)
//   listener receives    (progress, job_id, JobProgress bytes)
//                        (done, job_id, JobState as int32, error text)

}  // namespace evolv
