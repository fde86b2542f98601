#include "actors/job_manager.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>

#include "actors/job_engine.h"
#include "actors/job_lifecycle.h"
#include "spdlog/spdlog.h"

namespace evolv {
namespace {

constexpr auto kStopTimeout = std::chrono::seconds(30);

// Every request's answer: (absl::StatusCode, message, payload bytes).
using Reply = caf::result<int32_t, std::string, std::string>;
using Promise = caf::typed_response_promise<int32_t, std::string, std::string>;

// A job whose coordinator runs in this process.
struct LiveJob {
  coordinator_actor coordinator;
  bool stopping = false;  // a pause or cancel is stopping the coordinator
  std::vector<job_listener_actor> watchers;
};

struct ManagerState {
  Store* store = nullptr;
  const ProblemRegistry* registry = nullptr;
  dispatcher_actor dispatcher;
  JobManagerOptions options;
  std::unique_ptr<JobLifecycle> jobs;  // every job's record and state
  std::map<std::string, LiveJob> live;
};

using Self = job_manager_actor::stateful_pointer<ManagerState>;

Reply Answer(const absl::Status& status) {
  return Reply(static_cast<int32_t>(status.code()), std::string(status.message()), std::string());
}

Reply Answer(const google::protobuf::Message& message) {
  return Reply(static_cast<int32_t>(absl::StatusCode::kOk), std::string(),
               message.SerializeAsString());
}

Reply Answer(const absl::StatusOr<v1::JobRecord>& record) {
  return record.ok() ? Answer(*record) : Answer(record.status());
}

void Deliver(Promise& rp, const absl::StatusOr<v1::JobRecord>& record) {
  if (record.ok()) {
    rp.deliver(static_cast<int32_t>(absl::StatusCode::kOk), std::string(),
               record->SerializeAsString());
  } else {
    rp.deliver(static_cast<int32_t>(record.status().code()), std::string(record.status().message()),
               std::string());
  }
}

// Inside a catch block: the status of the exception being handled, which escaped `what`.
// ResourceExhausted for a failed allocation (std::bad_alloc, or std::length_error from a
// container asked for more than it can hold), Internal for any other exception.
absl::Status CaughtStatus(const std::string& what) {
  try {
    throw;
  } catch (const std::bad_alloc& e) {
    return absl::ResourceExhaustedError(what + ": out of memory (" + e.what() + ")");
  } catch (const std::length_error& e) {
    return absl::ResourceExhaustedError(what + ": a size beyond any container (" + e.what() + ")");
  } catch (const std::exception& e) {
    return absl::InternalError(what + ": " + e.what());
  } catch (...) {
    return absl::InternalError(what + ": an exception of unknown type");
  }
}

// Runs a message handler's work so that no exception leaves it: a request answers with the
// exception's status (CaughtStatus), a one-way message logs it, and the actor keeps serving.
template <class F>
auto Guarded(const std::string& what, F handle) -> decltype(handle()) {
  try {
    return handle();
  } catch (...) {
    const absl::Status status = CaughtStatus(what);
    spdlog::error("job manager: {}", status.ToString());
    if constexpr (!std::is_void_v<decltype(handle())>) return Answer(status);
  }
}

// Sends (done, ...) to the job's watchers and forgets its coordinator.
void Release(Self self, const std::string& id, v1::JobState state, const std::string& error) {
  auto it = self->state.live.find(id);
  if (it == self->state.live.end()) return;
  for (auto& watcher : it->second.watchers) {
    self->send(watcher, done_atom::value, id, static_cast<int32_t>(state), error);
  }
  self->state.live.erase(it);
}

// The live job `id` when `coordinator` is still its coordinator, else nullptr.
LiveJob* LiveWith(Self self, const std::string& id, const caf::actor_addr& coordinator) {
  auto it = self->state.live.find(id);
  if (it == self->state.live.end() || it->second.coordinator.address() != coordinator) {
    return nullptr;
  }
  return &it->second;
}

// Builds job `id`'s engine as RUNNING, from its checkpoint when it has one. Writes nothing.
absl::StatusOr<std::shared_ptr<JobEngine>> BuildEngine(Self self, const std::string& id) {
  v1::JobRecord record = *self->state.jobs->Find(id);
  record.set_state(v1::RUNNING);
  try {
    auto engine = JobEngine::Create(record, self->state.store, *self->state.registry);
    if (!engine.ok()) return engine.status();
    return std::shared_ptr<JobEngine>(std::move(*engine));
  } catch (...) {
    return CaughtStatus("building job " + id);
  }
}

void Spawn(Self self, std::shared_ptr<JobEngine> engine) {
  auto& state = self->state;
  const std::string id = engine->record().id();
  state.jobs->SetProgress(id, engine->Progress());
  LiveJob& live = state.live[id];
  live.coordinator =
      SpawnCoordinator(self->system(), std::move(engine), state.dispatcher,
                       caf::actor_cast<job_listener_actor>(self), state.options.coordinator);
  self->monitor(live.coordinator);
}

// Runs job `id` (RUNNING in the lifecycle); fails it when its engine cannot be built.
void StartOrFail(Self self, const std::string& id, const std::string& failure_prefix) {
  auto engine = BuildEngine(self, id);
  if (engine.ok()) {
    Spawn(self, std::move(*engine));
    return;
  }
  spdlog::error("job {}: cannot run: {}", id, engine.status().ToString());
  auto failed = self->state.jobs->Fail(id, failure_prefix + std::string(engine.status().message()));
  if (!failed.ok()) {
    spdlog::error("job {}: recording the failure: {}", id, failed.status().ToString());
  }
}

// Stops job `id`'s coordinator with the job in `target`; the coordinator's checkpoint is the state
// change's one write. `done` gets the committed record, or why the stop failed; the job's state is
// then unchanged.
void Stop(Self self, const std::string& id, v1::JobState target,
          std::function<void(absl::StatusOr<v1::JobRecord>)> done) {
  LiveJob& live = self->state.live[id];
  live.stopping = true;
  const caf::actor_addr coordinator = live.coordinator.address();
  self->request(live.coordinator, kStopTimeout, stop_atom::value, static_cast<int32_t>(target))
      .then(
          [self, id, coordinator, done](const std::string& bytes) {
            v1::JobRecord record;
            if (!record.ParseFromString(bytes)) {
              if (LiveJob* live = LiveWith(self, id, coordinator)) live->stopping = false;
              done(absl::InternalError("job " + id + ": malformed record from its coordinator"));
              return;
            }
            auto adopted = self->state.jobs->Adopt(record);
            if (LiveWith(self, id, coordinator)) Release(self, id, record.state(), "");
            if (adopted.ok()) spdlog::info("job {}: {}", id, JobStateName(record.state()));
            done(adopted);
          },
          [self, id, target, coordinator, done](caf::error& error) {
            if (LiveJob* live = LiveWith(self, id, coordinator)) live->stopping = false;
            // Ended (done arrived first) before the stop reached it: refused as any late stop.
            if (absl::Status refused = self->state.jobs->CheckTransition(id, target);
                !refused.ok()) {
              done(refused);
              return;
            }
            const std::string why = ErrorText(self->system(), error);
            spdlog::error("job {}: stop failed: {}", id, why);
            done(absl::UnavailableError("job " + id + " could not be stopped (" + why +
                                        "); it is still " +
                                        JobStateName(self->state.jobs->Find(id)->state())));
          });
}

// Pause or cancel: a job without a coordinator here changes in the lifecycle alone; a running one
// is stopped with the job in `target`.
Reply PauseOrCancel(Self self, const std::string& id, v1::JobState target) {
  auto& state = self->state;
  auto live = state.live.find(id);
  if (live == state.live.end()) {
    return Answer(target == v1::PAUSED ? state.jobs->Pause(id) : state.jobs->Cancel(id));
  }
  if (live->second.stopping) {
    return Answer(absl::FailedPreconditionError("job " + id + " is being paused or cancelled"));
  }
  if (absl::Status status = state.jobs->CheckTransition(id, target); !status.ok()) {
    return Answer(status);
  }
  Promise rp = self->make_response_promise<int32_t, std::string, std::string>();
  Stop(self, id, target,
       [rp](absl::StatusOr<v1::JobRecord> record) mutable { Deliver(rp, record); });
  return rp;
}

job_manager_actor::behavior_type ManagerBehavior(Self self, Store* store,
                                                 const ProblemRegistry* registry,
                                                 dispatcher_actor dispatcher,
                                                 JobManagerOptions options) {
  auto& state = self->state;
  state.store = store;
  state.registry = registry;
  state.dispatcher = std::move(dispatcher);
  state.options = options;
  state.jobs = std::make_unique<JobLifecycle>(store, *registry);

  // The backstop: an exception no handler caught (one thrown in a response handler, or by
  // Guarded's own logging) still ends the actor, as CAF 0.17 does after any exception handler;
  // it is logged here, and /healthz then reports the job manager as not answering.
  self->set_exception_handler([](caf::scheduled_actor*, std::exception_ptr& error) {
    std::string why;
    try {
      std::rethrow_exception(error);
    } catch (...) {
      why = CaughtStatus("unhandled exception").ToString();
    }
    spdlog::critical("job manager: {}; it stops", why);
    return caf::make_error(caf::sec::runtime_error, why);
  });

  // Load every job; resume the RUNNING ones.
  Guarded("loading jobs", [&] {
    const auto t0 = std::chrono::steady_clock::now();
    auto running = state.jobs->Restore();
    if (!running.ok()) {
      spdlog::error("listing jobs failed: {}", running.status().ToString());
      return;
    }
    for (const auto& id : *running) StartOrFail(self, id, "resume failed: ");
    spdlog::info("loaded {} jobs, resumed {} in {:.3f} s", state.jobs->List().size(),
                 state.live.size(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  });

  self->set_down_handler([self](caf::down_msg& down) {
    Guarded("a monitored actor's end", [&] {
      auto& state = self->state;
      for (auto it = state.live.begin(); it != state.live.end(); ++it) {
        if (it->second.coordinator.address() != down.source) continue;
        // A coordinator that quit without (done, ...) or a reply to (stop, ...): it crashed, or
        // answered a stop after its timeout. The store holds its last checkpoint.
        const std::string id = it->first;
        const std::string why = "coordinator ended: " + self->system().render(down.reason);
        spdlog::error("job {}: {}", id, why);
        if (auto stored = state.store->GetJob(id); stored.ok()) {
          if (auto adopted = state.jobs->Adopt(*stored); !adopted.ok()) {
            spdlog::error("job {}: {}", id, adopted.status().ToString());
          }
        }
        Release(self, id, state.jobs->Find(id)->state(), why);
        return;
      }
      for (auto& [id, live] : state.live) {
        auto& w = live.watchers;
        w.erase(
            std::remove_if(w.begin(), w.end(),
                           [&](const job_listener_actor& a) { return a.address() == down.source; }),
            w.end());
      }
    });
  });

  return {
      [self](submit_atom, const std::string& bytes) -> Reply {
        return Guarded("submitting a job", [&]() -> Reply {
          v1::JobSpec spec;
          if (!spec.ParseFromString(bytes)) {
            return Answer(absl::InvalidArgumentError("spec: does not parse"));
          }
          auto created = self->state.jobs->Create(spec);
          if (!created.ok()) return Answer(created.status());
          StartOrFail(self, created->id(), "");
          spdlog::info("job {} submitted: {}", created->id(), spec.name());
          return Answer(*self->state.jobs->Find(created->id()));
        });
      },
      [self](get_atom, const std::string& id) -> Reply {
        return Guarded("getting job " + id,
                       [&]() -> Reply { return Answer(self->state.jobs->Get(id)); });
      },
      [self](list_atom) -> Reply {
        return Guarded("listing jobs", [&]() -> Reply {
          v1::ListJobsResponse response;
          for (auto& record : self->state.jobs->List()) *response.add_jobs() = std::move(record);
          response.set_total_size(response.jobs_size());
          return Answer(response);
        });
      },
      [self](pause_atom, const std::string& id) -> Reply {
        return Guarded("pausing job " + id,
                       [&]() -> Reply { return PauseOrCancel(self, id, v1::PAUSED); });
      },
      [self](cancel_atom, const std::string& id) -> Reply {
        return Guarded("cancelling job " + id,
                       [&]() -> Reply { return PauseOrCancel(self, id, v1::CANCELLED); });
      },
      [self](resume_atom, const std::string& id) -> Reply {
        return Guarded("resuming job " + id, [&]() -> Reply {
          auto& state = self->state;
          auto live = state.live.find(id);
          if (live != state.live.end()) {
            if (live->second.stopping) {
              return Answer(
                  absl::FailedPreconditionError("job " + id + " is being paused or cancelled"));
            }
            return Answer(*state.jobs->Find(id));  // already running
          }
          if (absl::Status status = state.jobs->CheckTransition(id, v1::RUNNING); !status.ok()) {
            return Answer(status);
          }
          // The engine first: a job that cannot run stays as it was.
          auto engine = BuildEngine(self, id);
          if (!engine.ok()) return Answer(engine.status());
          auto resumed = state.jobs->Resume(id);
          if (!resumed.ok()) return Answer(resumed.status());
          Spawn(self, std::move(*engine));
          spdlog::info("job {}: resumed", id);
          return Answer(*state.jobs->Find(id));
        });
      },
      [self](watch_atom, const std::string& id, job_listener_actor watcher) -> Reply {
        return Guarded("watching job " + id, [&]() -> Reply {
          auto& state = self->state;
          auto record = state.jobs->Get(id);
          if (!record.ok()) return Answer(record.status());
          auto live = state.live.find(id);
          if (live != state.live.end() && !live->second.stopping) {
            self->monitor(watcher);
            live->second.watchers.push_back(std::move(watcher));
          }
          return Answer(*record);
        });
      },
      [self](progress_atom, const std::string& id, const std::string& bytes) {
        Guarded("progress of job " + id, [&] {
          auto live = self->state.live.find(id);
          if (live == self->state.live.end()) return;
          v1::JobProgress progress;
          if (!progress.ParseFromString(bytes)) return;
          self->state.jobs->SetProgress(id, progress);
          for (auto& watcher : live->second.watchers) {
            self->send(watcher, progress_atom::value, id, bytes);
          }
        });
      },
      [self](done_atom, const std::string& id, int32_t job_state, const std::string& error) {
        Guarded("the end of job " + id, [&] {
          auto& state = self->state;
          const auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
          if (!LiveWith(self, id, sender)) return;
          const auto ended = static_cast<v1::JobState>(job_state);
          // SUCCEEDED was written by the coordinator's final checkpoint; a failure is written here.
          auto record =
              ended == v1::SUCCEEDED ? state.jobs->Finish(id) : state.jobs->Fail(id, error);
          if (!record.ok()) {
            spdlog::error("job {}: recording its end ({}): {}", id, JobStateName(ended),
                          record.status().ToString());
          }
          Release(self, id, ended, error);
          spdlog::info("job {}: {} after {} evaluations", id, JobStateName(ended),
                       state.jobs->Find(id)->progress().evaluations());
        });
      },
      [self](shutdown_atom) -> Reply {
        return Guarded("shutting down", [&]() -> Reply {
          struct Pending {
            int count = 0;
            absl::Status first;
          };
          Promise rp = self->make_response_promise<int32_t, std::string, std::string>();
          auto pending = std::make_shared<Pending>();
          auto one_done = [pending, rp](const absl::Status& status) mutable {
            if (!status.ok() && pending->first.ok()) pending->first = status;
            if (--pending->count == 0) {
              rp.deliver(static_cast<int32_t>(pending->first.code()),
                         std::string(pending->first.message()), std::string());
            }
          };
          for (auto& [id, live] : self->state.live) {
            ++pending->count;
            const coordinator_actor coordinator = live.coordinator;
            self->request(coordinator, kStopTimeout, stop_atom::value,
                          static_cast<int32_t>(v1::RUNNING))
                .then(
                    [self, id = id, coordinator, one_done](const std::string& bytes) mutable {
                      v1::JobRecord record;
                      if (record.ParseFromString(bytes)) {
                        if (auto adopted = self->state.jobs->Adopt(record); !adopted.ok()) {
                          spdlog::error("job {}: {}", id, adopted.status().ToString());
                        }
                      }
                      if (LiveWith(self, id, coordinator.address())) {
                        self->state.live.erase(id);
                      }
                      one_done(absl::OkStatus());
                    },
                    [self, id = id, coordinator, one_done](caf::error& error) mutable {
                      // Stopped meanwhile by a pause or cancel, or ended: nothing to checkpoint.
                      if (!LiveWith(self, id, coordinator.address())) {
                        one_done(absl::OkStatus());
                        return;
                      }
                      const std::string why = ErrorText(self->system(), error);
                      spdlog::error("job {}: checkpoint on shutdown failed: {}", id, why);
                      self->send_exit(coordinator, caf::exit_reason::user_shutdown);
                      self->state.live.erase(id);
                      one_done(absl::UnavailableError("job " + id +
                                                      ": checkpoint on shutdown failed (" + why +
                                                      "); it resumes from its last checkpoint"));
                    });
          }
          if (pending->count == 0) {
            rp.deliver(static_cast<int32_t>(absl::StatusCode::kOk), std::string(), std::string());
          }
          return rp;
        });
      },
  };
}

}  // namespace

job_manager_actor SpawnJobManager(caf::actor_system& system, Store* store,
                                  const ProblemRegistry& registry, dispatcher_actor dispatcher,
                                  JobManagerOptions options) {
  return system.spawn(ManagerBehavior, store, &registry, std::move(dispatcher), options);
}

// --- JobManagerClient -----------------------------------------------------------------------

template <class... Ts>
absl::StatusOr<std::string> JobManagerClient::Call(std::chrono::milliseconds timeout, Ts&&... xs) {
  caf::scoped_actor self{system_};
  absl::StatusOr<std::string> result = absl::UnavailableError("job manager did not answer");
  self->request(manager_, timeout, std::forward<Ts>(xs)...)
      .receive(
          [&](int32_t code, std::string& message, std::string& payload) {
            if (code == 0) {
              result = std::move(payload);
            } else {
              result = absl::Status(static_cast<absl::StatusCode>(code), message);
            }
          },
          [&](caf::error& error) {
            result = absl::UnavailableError("job manager: " + system_.render(error));
          });
  return result;
}

namespace {
template <class T>
absl::StatusOr<T> Parse(absl::StatusOr<std::string> bytes) {
  if (!bytes.ok()) return bytes.status();
  T message;
  if (!message.ParseFromString(*bytes)) return absl::InternalError("malformed reply");
  return message;
}
}  // namespace

absl::StatusOr<v1::JobRecord> JobManagerClient::Submit(const v1::JobSpec& spec) {
  return Parse<v1::JobRecord>(Call(kCallTimeout, submit_atom::value, spec.SerializeAsString()));
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Get(const std::string& job_id) {
  return Parse<v1::JobRecord>(Call(kCallTimeout, get_atom::value, job_id));
}
absl::StatusOr<std::vector<v1::JobRecord>> JobManagerClient::List() {
  auto response = Parse<v1::ListJobsResponse>(Call(kCallTimeout, list_atom::value));
  if (!response.ok()) return response.status();
  return std::vector<v1::JobRecord>(response->jobs().begin(), response->jobs().end());
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Pause(const std::string& job_id) {
  return Parse<v1::JobRecord>(Call(kCallTimeout, pause_atom::value, job_id));
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Resume(const std::string& job_id) {
  return Parse<v1::JobRecord>(Call(kCallTimeout, resume_atom::value, job_id));
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Cancel(const std::string& job_id) {
  return Parse<v1::JobRecord>(Call(kCallTimeout, cancel_atom::value, job_id));
}
absl::Status JobManagerClient::Shutdown() {
  return Call(kCallTimeout, shutdown_atom::value).status();
}

absl::Status JobManagerClient::Probe(std::chrono::milliseconds timeout) {
  // No job has the empty id: the manager answers NotFound from its map, touching nothing else.
  absl::StatusOr<std::string> answer = Call(timeout, get_atom::value, std::string());
  if (answer.ok() || answer.status().code() != absl::StatusCode::kUnavailable) {
    return absl::OkStatus();
  }
  return answer.status();
}

absl::Status JobManagerClient::Watch(const std::string& job_id,
                                     const std::function<void(const v1::JobEvent&)>& on_event,
                                     const std::function<bool()>& keep_going) {
  caf::scoped_actor self{system_};
  absl::StatusOr<std::string> first = absl::UnavailableError("job manager did not answer");
  self->request(manager_, std::chrono::seconds(60), watch_atom::value, job_id,
                caf::actor_cast<job_listener_actor>(self))
      .receive(
          [&](int32_t code, std::string& message, std::string& payload) {
            if (code == 0) {
              first = std::move(payload);
            } else {
              first = absl::Status(static_cast<absl::StatusCode>(code), message);
            }
          },
          [&](caf::error& error) {
            first = absl::UnavailableError("job manager: " + system_.render(error));
          });
  auto record = Parse<v1::JobRecord>(first);
  if (!record.ok()) return record.status();
  v1::JobEvent event;
  event.set_job_id(job_id);
  event.set_state(record->state());
  *event.mutable_progress() = record->progress();
  event.set_error(record->error());
  on_event(event);
  if (record->state() != v1::RUNNING) return absl::OkStatus();
  bool done = false;
  while (!done && keep_going()) {
    self->receive(
        [&](progress_atom, const std::string&, const std::string& bytes) {
          v1::JobProgress progress;
          if (!progress.ParseFromString(bytes)) return;
          *event.mutable_progress() = progress;
          on_event(event);
        },
        [&](done_atom, const std::string&, int32_t state, const std::string& error) {
          event.set_state(static_cast<v1::JobState>(state));
          event.set_error(error);
          // The final record carries the final progress.
          auto final_record = Get(job_id);
          if (final_record.ok()) *event.mutable_progress() = final_record->progress();
          on_event(event);
          done = true;
        },
        caf::after(std::chrono::milliseconds(200)) >> [] {});
  }
  return absl::OkStatus();
}

}  // namespace evolv
