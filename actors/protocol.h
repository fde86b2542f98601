// The messages between evolv's actors: every atom, and one typed interface per actor kind.
//
// Payloads that cross processes are serialized protobufs (std::string), so the same interfaces
// work for local actors and for remote ones over CAF's middleman without custom CAF type
// registration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
using submit_atom = caf::atom_constant<caf::atom("submit")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using prepared_atom = caf::atom_constant<caf::atom("prepared")>;
using evaluate_batch_atom = caf::atom_constant<caf::atom("evalbatch")>;
using dispatch_atom = caf::atom_constant<caf::atom("dispatch")>;
using tasks_atom = caf::atom_constant<caf::atom("tasks")>;
using results_atom = caf::atom_constant<caf::atom("results")>;
using suggest_atom = caf::atom_constant<caf::atom("suggest")>;
using complete_atom = caf::atom_constant<caf::atom("complete")>;

// A worker runs Problem::Evaluate; one evaluation at a time per actor.
using worker_actor = caf::typed_actor<
    // (evaluate, EvalRequest bytes) -> Evaluation bytes
    caf::replies_to<evaluate_atom, std::string>::with<std::string>,
    // (evaluate_batch, shared EvalRequest bytes, each task's own EvalRequest bytes...) ->
    // Evaluation bytes, one per task in order. A task's request is the shared fields (job,
    // spec, fingerprint, ...; parsed once per batch) with its own index, candidate, seed and
    // repeat; with no shared bytes, each task's bytes are a whole request. The tasks run one
    // after another, in one message each way (WorkerInfo.max_batch at most).
    caf::replies_to<evaluate_batch_atom, std::string,
                    std::vector<std::string>>::with<std::vector<std::string>>>;

// Whoever submits tasks with (tasks, ...) receives their results in batches:
// (results, tokens, Evaluation bytes), one Evaluation per token, in matching order.
using result_sink_actor =
    caf::typed_actor<caf::reacts_to<results_atom, std::vector<uint64_t>, std::vector<std::string>>>;

// The dispatcher queues evaluations per job and hands them to free worker slots. Workers are
// passed as caf::actor (a built-in type CAF serializes across nodes) and used as worker_actor.
using dispatcher_actor = caf::typed_actor<
    // (join, worker, WorkerInfo bytes): a worker offers its slots
    caf::reacts_to<join_atom, caf::actor, std::string>,
    // (heartbeat, worker): the worker is alive (updates its last-seen time)
    caf::reacts_to<heartbeat_atom, caf::actor>,
    // (evaluate, EvalRequest bytes) -> Evaluation bytes, once some worker has run it
    caf::replies_to<evaluate_atom, std::string>::with<std::string>,
    // (tasks, sink, job id, domain, required CUDA device, priority, shared EvalRequest bytes,
    // tokens, own bytes...): one job's tasks in one message; each task's request is the shared
    // bytes followed by its own (protobuf parses the two as one message). The required device is
    // Problem::RequiredCudaDevice ("" for any worker). The results go to `sink` (a
    // result_sink_actor) as (results, ...), several per message when they land together.
    caf::reacts_to<tasks_atom, caf::actor, std::string, std::string, std::string, int32_t,
                   std::string, std::vector<uint64_t>, std::vector<std::string>>,
    // (workers) -> serialized WorkerStatus messages, one per worker
    caf::replies_to<workers_atom>::with<std::vector<std::string>>,
    // (queue) -> evaluations waiting for a free worker slot, over all jobs
    caf::replies_to<queue_atom>::with<uint64_t>,
    // (tick): its own timer, for heartbeat checks
    caf::reacts_to<tick_atom>,
    // (dispatch): to itself, after the evaluations already in its mailbox are queued, so that
    // they are handed out together (in batches) rather than one by one as they arrive
    caf::reacts_to<dispatch_atom>>;

// The gatekeeper is what evolvd publishes on its cluster port: remote workers join through it
// with the cluster secret; it forwards accepted workers to the dispatcher.
using gatekeeper_actor = caf::typed_actor<
    // (join, worker, WorkerInfo bytes, secret) -> "" when accepted, else the reason
    caf::replies_to<join_atom, caf::actor, std::string, std::string>::with<std::string>,
    // (heartbeat, worker)
    caf::reacts_to<heartbeat_atom, caf::actor>>;

// Whoever a coordinator reports to (the job manager, LocalRuntime's caller), and a job's
// watchers.
using job_listener_actor = caf::typed_actor<
    // (progress, job_id, JobProgress bytes)
    caf::reacts_to<progress_atom, std::string, std::string>,
    // (done, job_id, JobState as int32, error text): the job ended (SUCCEEDED or FAILED_STATE;
    // to watchers also PAUSED or CANCELLED)
    caf::reacts_to<done_atom, std::string, int32_t, std::string>>;

// A coordinator runs one job (actors/coordinator.h).
using coordinator_actor = caf::typed_actor<
    // (tick): its own timer: checkpoint, progress, time budget
    caf::reacts_to<tick_atom>,
    // (results, candidate indices, Evaluation bytes): from the dispatcher (result_sink_actor)
    caf::reacts_to<results_atom, std::vector<uint64_t>, std::vector<std::string>>,
    // (stop, JobState as int32 target) -> JobRecord bytes as committed: checkpoints with the job
    // in `target` (RUNNING, PAUSED or CANCELLED; one store write), replies, quits. An error reply
    // means the checkpoint failed and the job keeps running, or that it had ended (then the
    // listener has had (done, ...) first).
    caf::replies_to<stop_atom, int32_t>::with<std::string>,
    // A job its clients evaluate (Problem::EvaluatedByClients); answered like the job manager's
    // requests, (absl::StatusCode as int32, error message, payload bytes):
    // (suggest, SuggestTrialsRequest bytes) -> SuggestTrialsResponse bytes
    caf::replies_to<suggest_atom, std::string>::with<int32_t, std::string, std::string>,
    // (complete, CompleteTrialRequest bytes) -> CompleteTrialResponse bytes
    caf::replies_to<complete_atom, std::string>::with<int32_t, std::string, std::string>>;

// The job manager (actors/job_manager.h). Every request is answered with
// (absl::StatusCode as int32, error message, payload bytes); the payload is empty on error.
using job_manager_actor = job_listener_actor::extend<
    // (submit, JobSpec bytes, deadline) -> JobRecord bytes of the new job. The deadline (Unix
    // ms, 0 for none) of this and of pause, resume and cancel: a request that reaches it before
    // being applied answers DeadlineExceeded and changes nothing
    caf::replies_to<submit_atom, std::string, int64_t>::with<int32_t, std::string, std::string>,
    // (get, job_id) -> JobRecord bytes
    caf::replies_to<get_atom, std::string>::with<int32_t, std::string, std::string>,
    // (list) -> ListJobsResponse bytes: every job, in creation order
    caf::replies_to<list_atom>::with<int32_t, std::string, std::string>,
    // (pause | resume | cancel, job_id, deadline) -> JobRecord bytes after the change
    caf::replies_to<pause_atom, std::string, int64_t>::with<int32_t, std::string, std::string>,
    caf::replies_to<resume_atom, std::string, int64_t>::with<int32_t, std::string, std::string>,
    caf::replies_to<cancel_atom, std::string, int64_t>::with<int32_t, std::string, std::string>,
    // (prepared, token, timed_out): to itself, when a job's parts built off its thread are ready
    // (timed_out false) or their time is up (true)
    caf::reacts_to<prepared_atom, uint64_t, bool>,
    // (tick): to itself, every JobManagerOptions::store_probe_interval while jobs are paused for
    // the store: asks the store whether it accepts writes again and resumes them when it does
    caf::reacts_to<tick_atom>,
    // (watch, job_id, watcher) -> JobRecord bytes; while the job runs, `watcher` then receives
    // its progress and finally (done, ...) when it ends, is paused or is cancelled
    caf::replies_to<watch_atom, std::string, job_listener_actor>::with<int32_t, std::string,
                                                                       std::string>,
    // (shutdown) -> once every running job is stopped: OK when each was checkpointed (still
    // RUNNING), else the first failure (that job resumes from its last checkpoint)
    caf::replies_to<shutdown_atom>::with<int32_t, std::string, std::string>,
    // (suggest | complete, request bytes) -> as the job's coordinator answers them; a job not
    // running here answers with its state (an ended job suggests no trials)
    caf::replies_to<suggest_atom, std::string>::with<int32_t, std::string, std::string>,
    caf::replies_to<complete_atom, std::string>::with<int32_t, std::string, std::string>>;

// The text of an error reply made with caf::make_error(code, text), else CAF's rendering of it.
inline std::string ErrorText(caf::actor_system& system, const caf::error& error) {
  const caf::message& context = error.context();
  if (context.match_elements<std::string>()) return context.get_as<std::string>(0);
  return system.render(error);
}

}  // namespace evolv
