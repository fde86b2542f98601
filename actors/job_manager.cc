#include "actors/job_manager.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>

#include "search/job_spec.h"
#include "spdlog/spdlog.h"

namespace evolv {
namespace {

constexpr auto kStopTimeout = std::chrono::seconds(30);

bool Terminal(v1::JobState state) {
  return state == v1::SUCCEEDED || state == v1::FAILED_STATE || state == v1::CANCELLED;
}

struct JobEntry {
  v1::JobRecord record;    // latest known: the store's, plus progress reports
  caf::actor coordinator;  // while RUNNING in this process
  bool stopping = false;   // a pause or cancel is stopping the coordinator
  std::vector<caf::actor> watchers;
};

struct ManagerState {
  Store* store = nullptr;
  const ProblemRegistry* registry = nullptr;
  dispatcher_actor dispatcher;
  JobManagerOptions options;
  std::map<std::string, JobEntry> jobs;
  std::vector<std::string> order;  // creation order
};

using Self = caf::stateful_actor<ManagerState>*;

void Deliver(caf::response_promise& rp, const absl::Status& status) {
  rp.deliver(static_cast<int32_t>(status.code()), std::string(status.message()), std::string());
}

void Deliver(caf::response_promise& rp, const google::protobuf::Message& message) {
  rp.deliver(static_cast<int32_t>(absl::StatusCode::kOk), std::string(),
             message.SerializeAsString());
}

void Notify(JobEntry& entry, v1::JobState state, const std::string& error, Self self) {
  for (auto& watcher : entry.watchers) {
    self->send(watcher, done_atom::value, entry.record.id(), static_cast<int32_t>(state), error);
  }
  entry.watchers.clear();
}

// Builds the engine from the store (checkpoint included) and spawns the coordinator.
absl::Status Start(Self self, JobEntry& entry) {
  auto& state = self->state;
  v1::JobRecord record = entry.record;
  record.set_state(v1::RUNNING);
  auto engine = JobEngine::Create(record, state.store, *state.registry);
  if (!engine.ok()) return engine.status();
  std::shared_ptr<JobEngine> shared = std::move(*engine);
  entry.record.set_state(v1::RUNNING);
  *entry.record.mutable_progress() = shared->Progress();
  entry.coordinator =
      SpawnCoordinator(self->system(), shared, state.dispatcher, caf::actor_cast<caf::actor>(self),
                       state.options.coordinator);
  return absl::OkStatus();
}

JobEntry* Find(Self self, const std::string& id) {
  auto it = self->state.jobs.find(id);
  return it == self->state.jobs.end() ? nullptr : &it->second;
}

absl::Status UnknownJob(const std::string& id) {
  return absl::NotFoundError("job_id: no job " + (id.empty() ? std::string("(empty)") : id));
}

// Why `verb` (pause, cancel, resume) cannot apply to job `id` now; OK when it can.
absl::Status Refusal(const JobEntry* entry, const std::string& id, const std::string& verb) {
  if (!entry) return UnknownJob(id);
  if (entry->stopping) {
    return absl::FailedPreconditionError("job " + id + " is being paused or cancelled");
  }
  if (Terminal(entry->record.state())) {
    return absl::FailedPreconditionError("job " + id + " has already ended (" +
                                         v1::JobState_Name(entry->record.state()) +
                                         "); it cannot be " + verb);
  }
  return absl::OkStatus();
}

// Stops the job's coordinator (it checkpoints), then moves the job to `target` (PAUSED or
// CANCELLED) and answers `rp`.
void StopAndSet(Self self, const std::string& id, v1::JobState target, caf::response_promise rp) {
  JobEntry* entry = Find(self, id);
  entry->stopping = true;
  auto finish = [self, id, target, rp](bool stopped) mutable {
    JobEntry* entry = Find(self, id);
    entry->stopping = false;
    if (!stopped || Terminal(entry->record.state())) {
      // The job ended before the stop reached it.
      Deliver(rp, absl::FailedPreconditionError("job " + id + " has already ended (" +
                                                v1::JobState_Name(entry->record.state()) + ")"));
      return;
    }
    entry->coordinator = nullptr;
    auto stored = self->state.store->GetJob(id);
    v1::JobRecord record = stored.ok() ? *stored : entry->record;
    record.set_state(target);
    record.set_updated_unix_ms(NowUnixMs());
    if (absl::Status status = self->state.store->PutJob(record); !status.ok()) {
      // The checkpoint left it RUNNING; the next start resumes it. Run it again here too.
      entry->record.set_state(v1::RUNNING);
      if (absl::Status restart = Start(self, *entry); !restart.ok()) {
        spdlog::error("job {}: restart after a failed state change: {}", id, restart.ToString());
      }
      Deliver(rp, status);
      return;
    }
    entry->record = record;
    Notify(*entry, target, "", self);
    spdlog::info("job {}: {}", id, v1::JobState_Name(target));
    Deliver(rp, record);
  };
  self->request(entry->coordinator, kStopTimeout, stop_atom::value)
      .then([finish](bool) mutable { finish(true); },
            [finish](caf::error&) mutable { finish(false); });
}

caf::behavior ManagerBehavior(Self self, Store* store, const ProblemRegistry* registry,
                              dispatcher_actor dispatcher, JobManagerOptions options) {
  auto& state = self->state;
  state.store = store;
  state.registry = registry;
  state.dispatcher = std::move(dispatcher);
  state.options = options;

  // Load every job; resume the RUNNING ones.
  const auto t0 = std::chrono::steady_clock::now();
  auto jobs = store->ListJobs();
  if (!jobs.ok()) {
    spdlog::error("listing jobs failed: {}", jobs.status().ToString());
  } else {
    int resumed = 0;
    for (auto& record : *jobs) {
      const std::string id = record.id();
      JobEntry& entry = state.jobs[id];
      entry.record = std::move(record);
      state.order.push_back(id);
      if (entry.record.state() != v1::RUNNING) continue;
      if (absl::Status status = Start(self, entry); !status.ok()) {
        spdlog::error("job {}: cannot resume: {}", id, status.ToString());
        entry.record.set_state(v1::FAILED_STATE);
        entry.record.set_error("resume failed: " + std::string(status.message()));
        (void)store->PutJob(entry.record);
      } else {
        ++resumed;
      }
    }
    spdlog::info("loaded {} jobs, resumed {} in {:.3f} s", state.order.size(), resumed,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  self->set_down_handler([self](const caf::down_msg& down) {
    for (auto& [id, entry] : self->state.jobs) {
      auto& w = entry.watchers;
      w.erase(std::remove_if(w.begin(), w.end(),
                             [&](const caf::actor& a) { return a.address() == down.source; }),
              w.end());
    }
  });

  return {
      [self](submit_atom, const std::string& bytes) -> caf::response_promise {
        auto rp = self->make_response_promise();
        v1::JobSpec spec;
        if (!spec.ParseFromString(bytes)) {
          Deliver(rp, absl::InvalidArgumentError("spec: does not parse"));
          return rp;
        }
        if (absl::Status status = ValidateJobSpec(spec, *self->state.registry); !status.ok()) {
          Deliver(rp, status);
          return rp;
        }
        std::string id = NewJobId();
        while (self->state.jobs.count(id) || self->state.store->GetJob(id).ok()) id = NewJobId();
        JobEntry entry;
        entry.record.set_id(id);
        *entry.record.mutable_spec() = spec;
        entry.record.set_state(v1::RUNNING);
        entry.record.set_created_unix_ms(NowUnixMs());
        entry.record.set_updated_unix_ms(entry.record.created_unix_ms());
        entry.record.mutable_progress()->set_budget_evaluations(spec.budget().max_evaluations());
        if (absl::Status status = self->state.store->PutJob(entry.record); !status.ok()) {
          Deliver(rp, status);
          return rp;
        }
        JobEntry& stored = self->state.jobs[id] = std::move(entry);
        self->state.order.push_back(id);
        if (absl::Status status = Start(self, stored); !status.ok()) {
          stored.record.set_state(v1::FAILED_STATE);
          stored.record.set_error(std::string(status.message()));
          (void)self->state.store->PutJob(stored.record);
        }
        spdlog::info("job {} submitted: {}", id, spec.name());
        Deliver(rp, stored.record);
        return rp;
      },
      [self](get_atom, const std::string& id) -> caf::response_promise {
        auto rp = self->make_response_promise();
        if (JobEntry* entry = Find(self, id)) {
          Deliver(rp, entry->record);
        } else {
          Deliver(rp, UnknownJob(id));
        }
        return rp;
      },
      [self](list_atom) -> caf::response_promise {
        auto rp = self->make_response_promise();
        v1::ListJobsResponse response;
        for (const auto& id : self->state.order) *response.add_jobs() = self->state.jobs[id].record;
        response.set_total_size(response.jobs_size());
        Deliver(rp, response);
        return rp;
      },
      [self](pause_atom, const std::string& id) -> caf::response_promise {
        auto rp = self->make_response_promise();
        JobEntry* entry = Find(self, id);
        if (absl::Status refusal = Refusal(entry, id, "paused"); !refusal.ok()) {
          Deliver(rp, refusal);
        } else if (entry->record.state() == v1::PAUSED || !entry->coordinator) {
          Deliver(rp, entry->record);
        } else {
          StopAndSet(self, id, v1::PAUSED, rp);
        }
        return rp;
      },
      [self](cancel_atom, const std::string& id) -> caf::response_promise {
        auto rp = self->make_response_promise();
        JobEntry* entry = Find(self, id);
        if (absl::Status refusal = Refusal(entry, id, "cancelled"); !refusal.ok()) {
          Deliver(rp, refusal);
        } else if (!entry->coordinator) {
          v1::JobRecord record = entry->record;
          record.set_state(v1::CANCELLED);
          record.set_updated_unix_ms(NowUnixMs());
          if (absl::Status status = self->state.store->PutJob(record); !status.ok()) {
            Deliver(rp, status);
          } else {
            entry->record = record;
            Notify(*entry, v1::CANCELLED, "", self);
            Deliver(rp, record);
          }
        } else {
          StopAndSet(self, id, v1::CANCELLED, rp);
        }
        return rp;
      },
      [self](resume_atom, const std::string& id) -> caf::response_promise {
        auto rp = self->make_response_promise();
        JobEntry* entry = Find(self, id);
        if (absl::Status refusal = Refusal(entry, id, "resumed"); !refusal.ok()) {
          Deliver(rp, refusal);
        } else if (entry->coordinator) {
          Deliver(rp, entry->record);  // already running
        } else {
          v1::JobRecord record = entry->record;
          record.set_state(v1::RUNNING);
          record.set_updated_unix_ms(NowUnixMs());
          if (absl::Status status = self->state.store->PutJob(record); !status.ok()) {
            Deliver(rp, status);
            return rp;
          }
          const v1::JobRecord before = entry->record;
          entry->record = record;
          if (absl::Status status = Start(self, *entry); !status.ok()) {
            entry->record = before;
            (void)self->state.store->PutJob(before);
            Deliver(rp, status);
            return rp;
          }
          spdlog::info("job {}: resumed", id);
          Deliver(rp, entry->record);
        }
        return rp;
      },
      [self](watch_atom, const std::string& id, caf::actor watcher) -> caf::response_promise {
        auto rp = self->make_response_promise();
        JobEntry* entry = Find(self, id);
        if (!entry) {
          Deliver(rp, UnknownJob(id));
          return rp;
        }
        if (entry->coordinator && !entry->stopping) {
          self->monitor(watcher);
          entry->watchers.push_back(std::move(watcher));
        }
        Deliver(rp, entry->record);
        return rp;
      },
      [self](progress_atom, const std::string& id, const std::string& bytes) {
        JobEntry* entry = Find(self, id);
        if (!entry) return;
        v1::JobProgress progress;
        if (!progress.ParseFromString(bytes)) return;
        *entry->record.mutable_progress() = progress;
        entry->record.set_updated_unix_ms(NowUnixMs());
        for (auto& watcher : entry->watchers) self->send(watcher, progress_atom::value, id, bytes);
      },
      [self](done_atom, const std::string& id, int32_t job_state, const std::string& error) {
        JobEntry* entry = Find(self, id);
        if (!entry) return;
        entry->coordinator = nullptr;
        auto stored = self->state.store->GetJob(id);
        if (stored.ok()) {
          entry->record = *stored;
        } else {
          entry->record.set_state(static_cast<v1::JobState>(job_state));
        }
        if (!error.empty()) entry->record.set_error(error);
        spdlog::info("job {}: {} after {} evaluations", id,
                     v1::JobState_Name(static_cast<v1::JobState>(job_state)),
                     entry->record.progress().evaluations());
        Notify(*entry, static_cast<v1::JobState>(job_state), error, self);
      },
      [self](shutdown_atom) -> caf::response_promise {
        auto rp = self->make_response_promise();
        auto pending = std::make_shared<int>(0);
        for (auto& [id, entry] : self->state.jobs) {
          if (!entry.coordinator) continue;
          ++*pending;
          auto one_done = [self, pending, rp, id = id]() mutable {
            if (JobEntry* e = Find(self, id)) e->coordinator = nullptr;
            if (--*pending == 0) Deliver(rp, absl::OkStatus());
          };
          self->request(entry.coordinator, kStopTimeout, stop_atom::value)
              .then([one_done](bool) mutable { one_done(); },
                    [one_done](caf::error&) mutable { one_done(); });
        }
        if (*pending == 0) Deliver(rp, absl::OkStatus());
        return rp;
      },
  };
}

}  // namespace

std::string NewJobId() {
  static std::atomic<uint64_t> counter{std::random_device{}() & 0xffff};
  const uint64_t ms = static_cast<uint64_t>(NowUnixMs());
  const uint64_t value = (ms << 16) ^ (counter.fetch_add(1) & 0xffff);
  char buffer[20];
  std::snprintf(buffer, sizeof(buffer), "j%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

caf::actor SpawnJobManager(caf::actor_system& system, Store* store, const ProblemRegistry& registry,
                           dispatcher_actor dispatcher, JobManagerOptions options) {
  return system.spawn(ManagerBehavior, store, &registry, std::move(dispatcher), options);
}

// --- JobManagerClient -----------------------------------------------------------------------

template <class... Ts>
absl::StatusOr<std::string> JobManagerClient::Call(Ts&&... xs) {
  caf::scoped_actor self{system_};
  absl::StatusOr<std::string> result = absl::UnavailableError("job manager did not answer");
  self->request(manager_, std::chrono::seconds(60), std::forward<Ts>(xs)...)
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
  return Parse<v1::JobRecord>(Call(submit_atom::value, spec.SerializeAsString()));
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Get(const std::string& job_id) {
  return Parse<v1::JobRecord>(Call(get_atom::value, job_id));
}
absl::StatusOr<std::vector<v1::JobRecord>> JobManagerClient::List() {
  auto response = Parse<v1::ListJobsResponse>(Call(list_atom::value));
  if (!response.ok()) return response.status();
  return std::vector<v1::JobRecord>(response->jobs().begin(), response->jobs().end());
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Pause(const std::string& job_id) {
  return Parse<v1::JobRecord>(Call(pause_atom::value, job_id));
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Resume(const std::string& job_id) {
  return Parse<v1::JobRecord>(Call(resume_atom::value, job_id));
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Cancel(const std::string& job_id) {
  return Parse<v1::JobRecord>(Call(cancel_atom::value, job_id));
}
absl::Status JobManagerClient::Shutdown() { return Call(shutdown_atom::value).status(); }

absl::Status JobManagerClient::Watch(const std::string& job_id,
                                     const std::function<void(const v1::JobEvent&)>& on_event,
                                     const std::function<bool()>& keep_going) {
  caf::scoped_actor self{system_};
  absl::StatusOr<std::string> first = absl::UnavailableError("job manager did not answer");
  self->request(manager_, std::chrono::seconds(60), watch_atom::value, job_id,
                caf::actor_cast<caf::actor>(self))
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
