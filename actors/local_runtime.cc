#include "actors/local_runtime.h"

#include <thread>

namespace evolv {

LocalRuntime::LocalRuntime(int workers, const ProblemRegistry& registry, const TlsOptions& tls,
                           const DispatcherOptions& dispatcher_options, bool allow_commands)
    : config_(std::make_unique<caf::actor_system_config>()) {
  ConfigureActorSystem(*config_, tls);
  system_ = std::make_unique<caf::actor_system>(*config_);
  DispatcherOptions options = dispatcher_options;
  options.command_domains = registry.CommandDomains();
  options.cuda_domains = registry.CudaDomains();
  dispatcher_ = SpawnDispatcher(*system_, options);
  workers_ = SpawnLocalWorkers(*system_, dispatcher_, workers, registry, "local", allow_commands);
}

absl::StatusOr<uint16_t> LocalRuntime::OpenClusterPort(const ClusterServerOptions& options) {
  auto published = PublishCluster(*system_, dispatcher_, options);
  if (!published.ok()) return published.status();
  gatekeepers_.push_back(published->gatekeeper);
  return published->port;
}

LocalRuntime::~LocalRuntime() {
  for (auto& gatekeeper : gatekeepers_) {
    caf::anon_send_exit(gatekeeper, caf::exit_reason::user_shutdown);
  }
  for (auto& worker : workers_) caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(dispatcher_, caf::exit_reason::user_shutdown);
  system_->await_all_actors_done();
}

LocalRuntime::Outcome LocalRuntime::RunJob(
    std::shared_ptr<JobEngine> engine, const CoordinatorOptions& options,
    const std::function<void(const v1::JobProgress&)>& on_progress,
    const std::function<bool()>& should_stop) {
  caf::scoped_actor self{*system_};
  coordinator_actor coordinator = SpawnCoordinator(
      *system_, engine, dispatcher_, caf::actor_cast<job_listener_actor>(self), options);
  Outcome outcome;
  bool done = false;
  while (!done) {
    // A message or 100 ms, whichever comes first; then should_stop is polled. (Polled after every
    // message, not only on a quiet 100 ms: progress reports may come more often than that.)
    self->receive(
        [&](progress_atom, const std::string&, const std::string& bytes) {
          v1::JobProgress progress;
          if (on_progress && progress.ParseFromString(bytes)) on_progress(progress);
        },
        [&](done_atom, const std::string&, int32_t state, const std::string& error) {
          outcome.state = static_cast<v1::JobState>(state);
          outcome.error = error;
          done = true;
        },
        caf::after(std::chrono::milliseconds(100)) >> [] {});
    if (done || !should_stop || !should_stop()) continue;
    outcome.interrupted = true;
    done = true;
    self->request(coordinator, caf::infinite, stop_atom::value, static_cast<int32_t>(v1::RUNNING))
        .receive(
            [&](const std::string&) {},
            [&](caf::error& error) {
              // The checkpoint failed (the job is left at its last one), or the job ended
              // first and its (done, ...) is waiting.
              self->send_exit(coordinator, caf::exit_reason::user_shutdown);
              outcome.error = ErrorText(*system_, error);
              self->receive(
                  [&](done_atom, const std::string&, int32_t state, const std::string& reason) {
                    outcome.state = static_cast<v1::JobState>(state);
                    outcome.error = reason;
                    outcome.interrupted = false;
                  },
                  caf::after(std::chrono::seconds(0)) >> [] {});
            });
  }
  return outcome;
}

}  // namespace evolv
