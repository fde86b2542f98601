// The job manager: one actor per evolvd, the registry of its jobs. Its handlers delegate every
// state change to a JobLifecycle (actors/job_lifecycle.h: the states, the checks, one store write
// per change); the actor adds what needs messages: one coordinator (actors/coordinator.h) per
// RUNNING job with itself as the coordinator's listener, progress kept in memory, and watchers.
//
// Pause and cancel of a running job stop its coordinator with the target state: the
// coordinator's checkpoint is the state change's one store write. A stop that fails (an error
// reply, a coordinator that is down or does not answer in 30 s) is reported to the caller and
// the job's state is not changed. Any request that fails changes nothing in the store.
//
// No exception leaves a handler: one thrown by the work behind a request (a domain's validation
// or problem factory, an engine being built) answers that request with ResourceExhausted for a
// failed allocation (std::bad_alloc, std::length_error) or Internal for any other, naming what
// was being done and the exception, and the manager keeps serving. A job whose engine throws
// while it is started is failed with that reason, as one whose engine cannot be built. An
// exception that escapes anyway (a response handler's) is logged as critical by the actor's
// exception handler; the manager then stops, as CAF does, and JobManagerClient::Probe (and so
// evolvd's /healthz) reports it.
//
// Building a job's problem and strategy (which may read a domain's files, e.g. a directory of
// Matrix Market files, and allocate) happens off the manager's thread: a submit or resume starts
// a thread of its own for it (at most JobManagerOptions::max_preparing at once, refused with
// ResourceExhausted beyond) and the manager keeps serving; the job is created or resumed when
// the parts are ready. A build that takes longer than prepare_timeout answers DeadlineExceeded
// and its late result is dropped. Submit, pause, resume and cancel carry the caller's deadline:
// a request that reaches it before being applied (on arrival, or when its parts are ready)
// answers DeadlineExceeded and changes nothing, so a client that gave up never finds a job it
// was told failed.
//
// On spawn every job in the store is loaded; those RUNNING resume from their checkpoints, built
// before the manager serves, together (max_preparing at once, each within prepare_timeout; one
// past it is PAUSED, one that cannot be built is failed), so that every job
// RUNNING in the lifecycle has its coordinator; PAUSED ones stay paused. Jobs held for the store
// (below) resume one at a time, each within prepare_timeout.
// (shutdown) first waits (up to 20 s) for the problem builds still running, which use the
// registry and the actor system the process then tears down; it then checkpoints every running
// job with its state still RUNNING, so the next start resumes it, and stops the coordinators; it
// answers with the first failure, if any.
//
// A store that refuses writes (a full disk, an I/O error) pauses jobs rather than failing them:
// a job whose checkpoint is refused is held PAUSED in memory with the reason as its error
// ("store write failed: ...; resumes when the store accepts writes") while the store keeps its
// last checkpoint RUNNING; every store_probe_interval the manager asks Store::RecoverWrites and
// resumes the held jobs once it succeeds. ResumeJob of a held job resumes it at once when the
// store accepts writes, else answers the store's error; submits answer the store's error
// (ResourceExhausted or Unavailable, naming the store) and leave nothing behind; reads (GetJob,
// ListJobs, WatchJob) keep working. docs/adr/0020-store-write-errors.md.
//
// Trial requests (suggest, complete) of a job its clients evaluate go to the job's coordinator;
// one that finds no coordinator (the job ended, is paused, or ended while the request was on its
// way) is answered from the job's state: no trials and the state, or FailedPrecondition.
//
// Interface: job_manager_actor (actors/protocol.h). JobManagerClient wraps it in blocking calls.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
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

struct JobManagerOptions {
  CoordinatorOptions coordinator;
  // The longest a job's problem and strategy may take to build (see above).
  std::chrono::milliseconds prepare_timeout{std::chrono::seconds(60)};
  // Builds running at once; more submits and resumes are refused with ResourceExhausted.
  int max_preparing = 16;
  // What a job's strategy may take (search/strategy.h), checked at submit and resume.
  JobLimits limits;
  // How often jobs paused for the store ask it whether it accepts writes again (see above).
  std::chrono::milliseconds store_probe_interval{std::chrono::seconds(2)};
};

// When a request stops being worth applying: its caller's deadline, or none.
using RequestDeadline = std::optional<std::chrono::system_clock::time_point>;

// `store` and `registry` must outlive the actor. Job ids follow JobIdAt (actors/job_lifecycle.h).
job_manager_actor SpawnJobManager(caf::actor_system& system, Store* store,
                                  const ProblemRegistry& registry, dispatcher_actor dispatcher,
                                  JobManagerOptions options = {});

// Blocking calls to a job manager, safe to use from any thread (each call uses its own
// scoped actor). Errors: the manager's status, or Unavailable when it does not answer.
class JobManagerClient {
 public:
  JobManagerClient(caf::actor_system& system, job_manager_actor manager)
      : system_(system), manager_(std::move(manager)) {}

  absl::StatusOr<v1::JobRecord> Submit(const v1::JobSpec& spec, RequestDeadline deadline = {});
  absl::StatusOr<v1::JobRecord> Get(const std::string& job_id);
  // A job its clients evaluate (see SearchService.SuggestTrials and CompleteTrial).
  absl::StatusOr<v1::SuggestTrialsResponse> SuggestTrials(const v1::SuggestTrialsRequest& request);
  absl::StatusOr<v1::CompleteTrialResponse> CompleteTrial(const v1::CompleteTrialRequest& request);
  absl::StatusOr<std::vector<v1::JobRecord>> List();
  absl::StatusOr<v1::JobRecord> Pause(const std::string& job_id, RequestDeadline deadline = {});
  absl::StatusOr<v1::JobRecord> Resume(const std::string& job_id, RequestDeadline deadline = {});
  absl::StatusOr<v1::JobRecord> Cancel(const std::string& job_id, RequestDeadline deadline = {});
  // Calls `on_event` with the job's current state, then with each progress report, until the job
  // stops running or `keep_going` returns false (polled every 200 ms). OK, or NotFound.
  absl::Status Watch(const std::string& job_id,
                     const std::function<void(const v1::JobEvent&)>& on_event,
                     const std::function<bool()>& keep_going);
  // Checkpoints every running job; returns once they are stopped. The first checkpoint that
  // failed, if any.
  absl::Status Shutdown();
  // OK when the manager answers a request (any answer: a cheap lookup of no job) within
  // `timeout`; else Unavailable "job manager: ..." saying why (it is down, or busy past the
  // timeout).
  absl::Status Probe(std::chrono::milliseconds timeout);

 private:
  static constexpr std::chrono::seconds kCallTimeout{60};
  // Submit and resume wait for a job's parts to be built (JobManagerOptions::prepare_timeout).
  static constexpr std::chrono::seconds kBuildCallTimeout{180};

  template <class... Ts>
  absl::StatusOr<std::string> Call(std::chrono::milliseconds timeout, Ts&&... xs);

  caf::actor_system& system_;
  job_manager_actor manager_;
};

}  // namespace evolv
