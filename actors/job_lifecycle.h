// JobLifecycle: the states of evolv's jobs and the one place that changes them, as a plain class
// (no actors) used by evolvd's job manager (actors/job_manager.h) and by `evolv run`.
//
// States and transitions; any other is refused with FailedPrecondition naming the job's state:
//   Create                                   -> RUNNING
//   RUNNING --Pause-->  PAUSED --Resume-->      RUNNING
//   RUNNING | PAUSED --Cancel-->                CANCELLED
//   RUNNING --Finish--> SUCCEEDED,   RUNNING --Fail--> FAILED_STATE
// SUCCEEDED, FAILED_STATE and CANCELLED are final. Pausing a PAUSED job and resuming a RUNNING
// one change nothing and write nothing.
//
// One store write per state change. A change made here is stamped (updated_unix_ms) and written
// with exactly one Store::PutJob; when that write fails, the job's record here stays as it was
// and the write's error is returned. A change that a running job's engine writes instead
// (JobEngine::Checkpoint commits the record in the checkpoint's batch: pause, cancel and
// shutdown stop a coordinator that way, and a job's success is its final checkpoint) is checked
// first with CheckTransition and recorded afterwards with Adopt or Finish, which write nothing.
//
// Job ids, one scheme for every job: JobIdAt(spec, 0) = JobIdFor(spec) (search/job_spec.h), then
// JobIdAt(spec, n) for n = 1, 2, ... A new job takes the first of these no job has; `evolv run
// SPEC` runs the job JobIdFor(spec), existing or new, so the same command resumes it.
//
// Not thread-safe: owned by one job manager actor, or by `evolv run`'s thread. `store` and
// `registry` must outlive it. Nothing else may write job records while it is in use, other than
// the engines of jobs it has checked transitions for.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "evolv/v1/job.pb.h"
#include "search/problem_registry.h"
#include "storage/store.h"

namespace evolv {

// A state as people read it, in messages, the CLI and metrics: the enum's name without the
// "_STATE" suffix protobuf's scoping forced on one value (FAILED_STATE reads FAILED).
std::string JobStateName(v1::JobState state);
// The state JobStateName calls `name`, in any letter case ("running", "Failed"), or the enum's
// own spelling of it ("FAILED_STATE"); nullopt for anything else, JOB_STATE_UNSPECIFIED included.
std::optional<v1::JobState> ParseJobStateName(std::string_view name);
// Every state's JobStateName, in enum order: "PENDING, RUNNING, PAUSED, SUCCEEDED, FAILED,
// CANCELLED" (for messages that list the valid states).
std::string JobStateNames();

// Candidate n (n >= 0) for the id of a job with `spec`: "j" + 16 hex digits. n = 0 gives
// JobIdFor(spec); n > 0 gives the xxh3 hash, seeded with n, of JobIdFor(spec).
std::string JobIdAt(const v1::JobSpec& spec, uint32_t n);

class JobLifecycle {
 public:
  JobLifecycle(Store* store, const ProblemRegistry& registry);

  // Loads every job record in the store, replacing what this holds, in creation order. Returns
  // the ids of the RUNNING jobs, for the caller to restart (or Fail when one cannot).
  absl::StatusOr<std::vector<std::string>> Restore();

  // Validates `spec` (InvalidArgument naming the field), gives it the first free id of the
  // scheme above and stores it RUNNING.
  absl::StatusOr<v1::JobRecord> Create(const v1::JobSpec& spec);
  // Create for a spec the caller has validated already (ValidateAndBuild, search/job_spec.h).
  absl::StatusOr<v1::JobRecord> CreateValidated(const v1::JobSpec& spec);
  // The job JobIdFor(spec), in whatever state, when there is one; else Create under that id.
  absl::StatusOr<v1::JobRecord> FindOrCreate(const v1::JobSpec& spec);

  // The transitions made here, each with one store write (none when nothing changes). NotFound
  // for an unknown id, FailedPrecondition for an illegal transition; the write's error when it
  // fails, with nothing changed.
  // Pause keeps `reason`, when given, as the record's error (e.g. why the service paused it);
  // Resume clears the error.
  absl::StatusOr<v1::JobRecord> Pause(const std::string& id, const std::string& reason = "");
  absl::StatusOr<v1::JobRecord> Resume(const std::string& id);
  absl::StatusOr<v1::JobRecord> Cancel(const std::string& id);
  // RUNNING -> FAILED_STATE with `error` in the record.
  absl::StatusOr<v1::JobRecord> Fail(const std::string& id, const std::string& error);

  // RUNNING -> SUCCEEDED as the job's engine committed it with its final checkpoint: reads that
  // record back from the store and takes it. Writes nothing.
  absl::StatusOr<v1::JobRecord> Finish(const std::string& id);
  // OK when job `id` may move to `target` now; NotFound or FailedPrecondition as above.
  absl::Status CheckTransition(const std::string& id, v1::JobState target) const;
  // Takes `committed`, a record the job's engine has written (a checkpoint carries the job's
  // record), after checking the transition from the state held here. Writes nothing.
  absl::StatusOr<v1::JobRecord> Adopt(const v1::JobRecord& committed);

  // The job's latest progress, kept in memory only (checkpoints store it).
  void SetProgress(const std::string& id, const v1::JobProgress& progress);

  // The job's latest record; NotFound ("job_id: no job ...") when unknown.
  absl::StatusOr<v1::JobRecord> Get(const std::string& id) const;
  // The same, without a copy; nullptr when unknown. Valid until the next call that changes jobs.
  const v1::JobRecord* Find(const std::string& id) const;
  // Every job, in creation order.
  std::vector<v1::JobRecord> List() const;

 private:
  // Checks, stamps and writes `id`'s move to `target` (with `error` when not empty).
  absl::StatusOr<v1::JobRecord> Transition(const std::string& id, v1::JobState target,
                                           const std::string& error = "");
  absl::StatusOr<v1::JobRecord> Insert(const v1::JobSpec& spec, const std::string& id);
  bool Taken(const std::string& id) const;

  Store* store_;
  const ProblemRegistry& registry_;
  std::map<std::string, v1::JobRecord> jobs_;
  std::vector<std::string> order_;  // creation order
};

}  // namespace evolv
