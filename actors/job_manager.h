// The job manager: one actor per evolvd, the registry of its jobs. It creates, restores, pauses,
// resumes and cancels jobs, runs one coordinator (actors/coordinator.h) per RUNNING job with
// itself as the coordinator's listener, keeps every job's latest record in memory, and fans
// progress out to watchers.
//
// Lifecycle of a job:  SubmitJob -> RUNNING --(coordinator done)--> SUCCEEDED | FAILED_STATE
//                      RUNNING --pause--> PAUSED --resume--> RUNNING
//                      RUNNING | PAUSED --cancel--> CANCELLED
// Pause and cancel first stop the coordinator, which checkpoints; then the record's state is
// rewritten. A request that fails changes nothing in the store.
//
// On spawn every job in the store is loaded; those RUNNING resume from their checkpoints, PAUSED
// ones stay paused. (shutdown) checkpoints every running job (the state stays RUNNING, so the
// next start resumes it) and stops the coordinators.
//
// Messages (dynamically typed; every request is answered with (int32 absl::StatusCode,
// std::string error message, std::string payload bytes)):
//   (submit, JobSpec bytes)              -> JobRecord bytes of the new job
//   (get, job_id)                        -> JobRecord bytes
//   (list)                               -> ListJobsResponse bytes (every job, creation order)
//   (pause | resume | cancel, job_id)    -> JobRecord bytes after the change
//   (watch, job_id, watcher)             -> JobRecord bytes; while the job runs, `watcher` then
//       receives (progress, job_id, JobProgress bytes) and finally
//       (done, job_id, JobState as int32, error) when the job ends, is paused or cancelled.
//   (shutdown)                           -> (OK, "", "") once every job is checkpointed
// JobManagerClient wraps these in blocking calls.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "actors/coordinator.h"
#include "actors/protocol.h"
#include "evolv/v1/job.pb.h"
#include "evolv/v1/service.pb.h"
#include "search/problem_registry.h"
#include "storage/store.h"

namespace evolv {

using submit_atom = caf::atom_constant<caf::atom("submit")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

struct JobManagerOptions {
  CoordinatorOptions coordinator;
};

// `store` and `registry` must outlive the actor.
caf::actor SpawnJobManager(caf::actor_system& system, Store* store, const ProblemRegistry& registry,
                           dispatcher_actor dispatcher, JobManagerOptions options = {});

// A new job id: "j" + 16 hex digits from the clock and a process-wide counter. Unique within a
// store (the manager also checks the store before using one).
std::string NewJobId();

// Blocking calls to a job manager, safe to use from any thread (each call uses its own
// scoped actor). Errors: the manager's status, or Unavailable when it does not answer.
class JobManagerClient {
 public:
  JobManagerClient(caf::actor_system& system, caf::actor manager)
      : system_(system), manager_(std::move(manager)) {}

  absl::StatusOr<v1::JobRecord> Submit(const v1::JobSpec& spec);
  absl::StatusOr<v1::JobRecord> Get(const std::string& job_id);
  absl::StatusOr<std::vector<v1::JobRecord>> List();
  absl::StatusOr<v1::JobRecord> Pause(const std::string& job_id);
  absl::StatusOr<v1::JobRecord> Resume(const std::string& job_id);
  absl::StatusOr<v1::JobRecord> Cancel(const std::string& job_id);
  // Calls `on_event` with the job's current state, then with each progress report, until the job
  // stops running or `keep_going` returns false (polled every 200 ms). OK, or NotFound.
  absl::Status Watch(const std::string& job_id,
                     const std::function<void(const v1::JobEvent&)>& on_event,
                     const std::function<bool()>& keep_going);
  // Checkpoints every running job; returns once they are stopped.
  absl::Status Shutdown();

 private:
  template <class... Ts>
  absl::StatusOr<std::string> Call(Ts&&... xs);

  caf::actor_system& system_;
  caf::actor manager_;
};

}  // namespace evolv
