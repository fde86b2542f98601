// LocalRuntime: an actor system with one dispatcher and N local worker threads, and a blocking
// RunJob that drives one coordinator to its end. Used by `evolv run` (one job in-process on an
// embedded store) and by tests.
//
// Not thread-safe: use from one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/cluster.h"
#include "actors/coordinator.h"
#include "actors/dispatcher.h"
#include "actors/job_engine.h"
#include "actors/worker.h"

namespace evolv {

class LocalRuntime {
 public:
  // `workers` >= 0 local worker threads (0: none; remote workers must join). `registry` must
  // outlive the runtime. With `tls`, the system can carry a TLS cluster link (see cluster.h).
  // The dispatcher's command_domains are the registry's; with `allow_commands` the local
  // workers run user commands (a study's objective; docs/security.md).
  LocalRuntime(int workers, const ProblemRegistry& registry, const TlsOptions& tls = {},
               const DispatcherOptions& dispatcher_options = {}, bool allow_commands = false);

  // Opens the cluster port for remote workers (evolv-worker); returns the bound port.
  absl::StatusOr<uint16_t> OpenClusterPort(const ClusterServerOptions& options);
  // Stops the workers and the dispatcher, then waits for every actor to end.
  ~LocalRuntime();

  caf::actor_system& system() { return *system_; }
  const dispatcher_actor& dispatcher() const { return dispatcher_; }

  struct Outcome {
    v1::JobState state = v1::RUNNING;
    std::string error;
    // Stopped by `should_stop` and left RUNNING: checkpointed when `error` is empty, else at its
    // last checkpoint (`error` says why the checkpoint on stop failed).
    bool interrupted = false;
  };
  // Runs the engine's job until it ends, or until `should_stop` (polled after each progress
  // report and at least every 100 ms) returns true, in which case the job is checkpointed and
  // left RUNNING. `on_progress` is called on this thread with each progress report. An outcome
  // of FAILED_STATE was not written: the caller records it (JobLifecycle::Fail); SUCCEEDED was,
  // by the final checkpoint.
  Outcome RunJob(std::shared_ptr<JobEngine> engine, const CoordinatorOptions& options,
                 const std::function<void(const v1::JobProgress&)>& on_progress,
                 const std::function<bool()>& should_stop);

 private:
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  dispatcher_actor dispatcher_;
  std::vector<worker_actor> workers_;
  std::vector<gatekeeper_actor> gatekeepers_;
};

}  // namespace evolv
