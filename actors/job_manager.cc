#include "actors/job_manager.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "actors/job_engine.h"
#include "actors/job_lifecycle.h"
#include "actors/reply.h"
#include "spdlog/spdlog.h"

namespace evolv {
namespace {

constexpr auto kStopTimeout = std::chrono::seconds(30);
// How long a shutdown waits for the problem builds still running (WaitForBuilds).
constexpr auto kBuildDrainLimit = std::chrono::seconds(20);

// A request's answer given later (actors/reply.h): (absl::StatusCode, message, payload bytes).
using Promise = caf::typed_response_promise<int32_t, std::string, std::string>;

// A job whose coordinator runs in this process.
struct LiveJob {
  coordinator_actor coordinator;
  bool stopping = false;  // a pause or cancel is stopping the coordinator
  std::vector<job_listener_actor> watchers;
};

// A job's parts being built on a thread of its own (StartBuild): the thread fills `result`; the
// manager then calls `done` with it.
struct Preparation {
  struct Slot {
    std::mutex mu;
    std::optional<absl::StatusOr<JobParts>> result;
  };
  std::shared_ptr<Slot> slot = std::make_shared<Slot>();
  std::string what;  // for messages: "submitting a job", "resuming job j..."
  std::function<void(absl::StatusOr<JobParts>)> done;
};

struct ManagerState {
  Store* store = nullptr;
  const ProblemRegistry* registry = nullptr;
  dispatcher_actor dispatcher;
  JobManagerOptions options;
  std::unique_ptr<JobLifecycle> jobs;  // every job's record and state
  std::map<std::string, LiveJob> live;
  // Jobs paused because the store refused their checkpoint: PAUSED here, still RUNNING (their
  // last checkpoint) in the store; resumed once Store::RecoverWrites succeeds.
  std::set<std::string> held_for_store;
  bool store_probe_scheduled = false;
  std::map<uint64_t, Preparation> preparing;  // by token
  uint64_t next_token = 0;
  // Build threads still running, those whose answer timed out included (the shutdown waits).
  std::shared_ptr<std::atomic<int>> building = std::make_shared<std::atomic<int>>(0);
};

using Self = job_manager_actor::stateful_pointer<ManagerState>;

void Deliver(Promise& rp, const absl::StatusOr<v1::JobRecord>& record) {
  if (record.ok()) {
    rp.deliver(static_cast<int32_t>(absl::StatusCode::kOk), std::string(),
               record->SerializeAsString());
  } else {
    rp.deliver(static_cast<int32_t>(record.status().code()), std::string(record.status().message()),
               std::string());
  }
}

// Guarded (actors/reply.h), logged as the job manager's.
template <class F>
auto ManagerGuarded(const std::string& what, F handle) -> decltype(handle()) {
  return Guarded("job manager", what, std::move(handle));
}

// The answer to a trial request of job `id` when no coordinator of it runs here: an ended or
// paused job suggests no trials (the response says its state) and takes no completion
// (FailedPrecondition).
absl::StatusOr<std::string> WithoutCoordinator(Self self, const std::string& id, bool suggest) {
  auto record = self->state.jobs->Get(id);
  if (!record.ok()) return record.status();
  const bool running = record->state() == v1::RUNNING;
  if (suggest && !running) {
    v1::SuggestTrialsResponse response;
    response.set_state(record->state());
    return response.SerializeAsString();
  }
  return absl::FailedPreconditionError(
      "job " + id + " is " +
      (running ? "being paused or cancelled" : JobStateName(record->state())) +
      ": it takes no completed trials now; its trials are suggested again when it runs");
}

void DeliverPayload(Promise& rp, const absl::StatusOr<std::string>& payload) {
  if (payload.ok()) {
    rp.deliver(static_cast<int32_t>(absl::StatusCode::kOk), std::string(), *payload);
  } else {
    rp.deliver(static_cast<int32_t>(payload.status().code()),
               std::string(payload.status().message()), std::string());
  }
}

// A trial request (suggest or complete) of job `id`: its coordinator answers while it runs here.
// A coordinator that ends meanwhile (the job reached its budget) has told the manager so before
// the request bounces, so the bounce is answered from the job's state as it is then.
template <class Atom>
Reply ToCoordinator(Self self, const std::string& id, Atom atom, const std::string& bytes) {
  constexpr bool suggest = std::is_same_v<Atom, suggest_atom>;
  auto& state = self->state;
  auto live = state.live.find(id);
  if (live == state.live.end() || live->second.stopping) {
    auto payload = WithoutCoordinator(self, id, suggest);
    if (!payload.ok()) return Answer(payload.status());
    return Reply(static_cast<int32_t>(absl::StatusCode::kOk), std::string(), *payload);
  }
  Promise rp = self->make_response_promise<int32_t, std::string, std::string>();
  self->request(live->second.coordinator, kStopTimeout, atom, bytes)
      .then(
          [rp](int32_t code, std::string& message, std::string& payload) mutable {
            rp.deliver(code, std::move(message), std::move(payload));
          },
          [self, rp, id](caf::error& error) mutable {
            ManagerGuarded("a trial request of job " + id, [&] {
              if (error == caf::sec::request_receiver_down) {
                DeliverPayload(rp, WithoutCoordinator(self, id, suggest));
              } else {
                DeliverPayload(
                    rp, absl::UnavailableError("job " + id + ": its coordinator did not answer: " +
                                               self->system().render(error)));
              }
            });
          });
  return rp;
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

absl::StatusOr<JobParts> BuildStoredParts(Self self, const std::string& id);

// Builds job `id`'s engine as RUNNING, from its checkpoint when it has one, with the job's parts
// given (built off the thread by Prepare) or built now (at start, and for jobs held for the
// store: BuildStoredParts, DeadlineExceeded past options.prepare_timeout). Writes nothing.
absl::StatusOr<std::shared_ptr<JobEngine>> BuildEngine(Self self, const std::string& id,
                                                       std::optional<JobParts> parts = {}) {
  v1::JobRecord record = *self->state.jobs->Find(id);
  record.set_state(v1::RUNNING);
  try {
    if (!parts) {
      absl::StatusOr<JobParts> built = BuildStoredParts(self, id);
      if (!built.ok()) return built.status();
      parts = std::move(*built);
    }
    auto engine = JobEngine::Create(record, self->state.store, std::move(*parts));
    if (!engine.ok()) return engine.status();
    return std::shared_ptr<JobEngine>(std::move(*engine));
  } catch (...) {
    return CaughtStatus("building job " + id);
  }
}

bool Expired(int64_t deadline_unix_ms) {
  return deadline_unix_ms > 0 && NowUnixMs() >= deadline_unix_ms;
}

absl::Status TooLate(const std::string& what) {
  return absl::DeadlineExceededError(what +
                                     ": the request's deadline passed before it was "
                                     "applied; nothing was changed");
}

// Runs `build` on a thread of its own, counted in `building` (the manager's shutdown waits for
// it, WaitForBuilds), and hands `deliver` its result, or the exception it threw as a status, on
// that thread. Everything that touches the registry, the parts or the actor system (the build,
// `deliver` and what they hold) is released before the count drops.
void LaunchBuild(const std::shared_ptr<std::atomic<int>>& building, std::string what,
                 std::function<absl::StatusOr<JobParts>()> build,
                 std::function<void(absl::StatusOr<JobParts>)> deliver) {
  building->fetch_add(1);
  std::thread([building, what = std::move(what), build = std::move(build),
               deliver = std::move(deliver)]() mutable {
    absl::StatusOr<JobParts> result = absl::InternalError("not built");
    try {
      result = build();
    } catch (...) {
      result = CaughtStatus(what);
    }
    deliver(std::move(result));
    build = nullptr;
    deliver = nullptr;
    building->fetch_sub(1);
  }).detach();
}

// Builds a job's parts with `build` on a thread of its own; `done` then runs on the manager's
// thread with them, or with the build's error, or with DeadlineExceeded once
// options.prepare_timeout has passed (a result arriving later is dropped).
void StartBuild(Self self, std::string what, std::function<absl::StatusOr<JobParts>()> build,
                std::function<void(absl::StatusOr<JobParts>)> done) {
  auto& state = self->state;
  const uint64_t token = state.next_token++;
  Preparation& preparation = state.preparing[token];
  preparation.what = std::move(what);
  preparation.done = std::move(done);
  LaunchBuild(state.building, preparation.what, std::move(build),
              [slot = preparation.slot, manager = job_manager_actor(self),
               token](absl::StatusOr<JobParts> result) {
                {
                  std::lock_guard<std::mutex> lock(slot->mu);
                  slot->result = std::move(result);
                }
                caf::anon_send(manager, prepared_atom::value, token, false);
              });
  self->delayed_send(self, state.options.prepare_timeout, prepared_atom::value, token, true);
}

// Waits, up to kBuildDrainLimit, until no build thread runs: they use the problem registry and
// the actor system, which the process tears down after the manager's shutdown.
void WaitForBuilds(Self self) {
  const auto deadline = std::chrono::steady_clock::now() + kBuildDrainLimit;
  while (self->state.building->load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (const int left = self->state.building->load(); left > 0) {
    spdlog::error("job manager: {} problem builds still running at shutdown", left);
  }
}

// StartBuild for the request being handled, which `then`'s record (or the build's error) answers:
// the promise to return from the handler, or ResourceExhausted when options.max_preparing builds
// are running already.
absl::StatusOr<Promise> Prepare(Self self, std::string what,
                                std::function<absl::StatusOr<JobParts>()> build,
                                std::function<absl::StatusOr<v1::JobRecord>(JobParts)> then) {
  auto& state = self->state;
  // Counted by their answers still owed (a build past its time limit no longer counts), so that
  // a caller answered may always submit again at once.
  if (static_cast<int>(state.preparing.size()) >= state.options.max_preparing) {
    return absl::ResourceExhaustedError(
        what + ": " + std::to_string(state.preparing.size()) +
        " jobs are being prepared already (the limit); try again shortly");
  }
  Promise rp = self->make_response_promise<int32_t, std::string, std::string>();
  StartBuild(self, what, std::move(build),
             [rp, what, then = std::move(then)](absl::StatusOr<JobParts> parts) mutable {
               absl::StatusOr<v1::JobRecord> answer = absl::InternalError("unanswered");
               if (!parts.ok()) {
                 answer = parts.status();
               } else {
                 try {
                   answer = then(std::move(*parts));
                 } catch (...) {
                   answer = CaughtStatus(what);
                 }
               }
               if (!answer.ok()) {
                 spdlog::info("job manager: {}: {}", what, answer.status().ToString());
               }
               Deliver(rp, answer);
             });
  return rp;
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

// Runs job `id` (RUNNING in the lifecycle) with `engine`; fails the job when the engine could
// not be built.
void StartOrFail(Self self, const std::string& id,
                 absl::StatusOr<std::shared_ptr<JobEngine>> engine,
                 const std::string& failure_prefix) {
  if (engine.ok()) {
    Spawn(self, std::move(*engine));
    return;
  }
  spdlog::error("job {}: cannot run: {}", id, engine.status().ToString());
  if (absl::IsDeadlineExceeded(engine.status())) {
    // Slow files, not a bad job: PAUSED (with the reason) for ResumeJob, never a final FAILED.
    auto paused = self->state.jobs->Pause(id, std::string(engine.status().message()));
    if (!paused.ok()) {
      spdlog::error("job {}: recording the pause: {}", id, paused.status().ToString());
    }
    return;
  }
  auto failed = self->state.jobs->Fail(id, failure_prefix + std::string(engine.status().message()));
  if (!failed.ok()) {
    spdlog::error("job {}: recording the failure: {}", id, failed.status().ToString());
  }
}

// What builds job `id`'s parts from its stored spec (BuildJobParts), to run off the thread.
std::function<absl::StatusOr<JobParts>()> StoredJobBuild(Self self, const std::string& id) {
  return [spec = self->state.jobs->Find(id)->spec(), registry = self->state.registry,
          limits = self->state.options.limits] { return BuildJobParts(spec, *registry, limits); };
}

// The parts of jobs `ids` built from their stored specs on threads of their own, at most
// options.max_preparing at once, while this (the manager's) thread waits: each build gets
// options.prepare_timeout from its own start, so start-up takes about the longest build, not the
// sum, and no more than (jobs / max_preparing, rounded up) limits when every build hangs. A build
// past its limit gives DeadlineExceeded, ends alone (counted in `building`, which the shutdown
// waits for) and its result is dropped.
std::vector<absl::StatusOr<JobParts>> BuildStoredPartsTogether(
    Self self, const std::vector<std::string>& ids) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::optional<absl::StatusOr<JobParts>>> results;
    std::vector<bool> given_up;  // past its limit: a late result is dropped
  };
  auto& state = self->state;
  const size_t n = ids.size();
  auto shared = std::make_shared<Shared>();
  shared->results.resize(n);
  shared->given_up.assign(n, false);
  std::vector<absl::StatusOr<JobParts>> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.emplace_back(absl::InternalError("not built"));
  std::vector<std::chrono::steady_clock::time_point> deadline(n);
  std::vector<bool> resolved(n, false);
  const size_t at_once = static_cast<size_t>(std::max(1, state.options.max_preparing));
  size_t launched = 0, running = 0, done = 0;
  std::unique_lock<std::mutex> lock(shared->mu);
  while (done < n) {
    while (running < at_once && launched < n) {
      const size_t i = launched++;
      ++running;
      deadline[i] = std::chrono::steady_clock::now() + state.options.prepare_timeout;
      lock.unlock();
      LaunchBuild(state.building, "resuming job " + ids[i], StoredJobBuild(self, ids[i]),
                  [shared, i](absl::StatusOr<JobParts> result) {
                    {
                      std::lock_guard<std::mutex> guard(shared->mu);
                      if (shared->given_up[i]) return;
                      shared->results[i] = std::move(result);
                    }
                    shared->cv.notify_all();
                  });
      lock.lock();
    }
    auto earliest = std::chrono::steady_clock::time_point::max();
    for (size_t i = 0; i < launched; ++i) {
      if (!resolved[i]) earliest = std::min(earliest, deadline[i]);
    }
    shared->cv.wait_until(lock, earliest, [&] {
      for (size_t i = 0; i < launched; ++i) {
        if (!resolved[i] && shared->results[i].has_value()) return true;
      }
      return false;
    });
    const auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < launched; ++i) {
      if (resolved[i]) continue;
      if (shared->results[i].has_value()) {
        out[i] = std::move(*shared->results[i]);
        shared->results[i].reset();
      } else if (now >= deadline[i]) {
        shared->given_up[i] = true;
        out[i] = absl::DeadlineExceededError(
            "resuming job " + ids[i] + ": building the job's problem took longer than " +
            absl::StrCat(state.options.prepare_timeout.count() / 1000.0) +
            " s (reading its files?); it is PAUSED, ResumeJob tries again");
      } else {
        continue;
      }
      resolved[i] = true;
      --running;
      ++done;
    }
  }
  return out;
}

// Job `id`'s parts built from its stored spec on a thread of its own while this (the manager's)
// thread waits, at most options.prepare_timeout: a problem whose files hang (a stuck network
// mount) cannot stop the manager. Past the limit DeadlineExceeded; the build then ends alone
// (counted in `building`, which the shutdown waits for) and its result is dropped.
absl::StatusOr<JobParts> BuildStoredParts(Self self, const std::string& id) {
  return std::move(BuildStoredPartsTogether(self, {id}).front());
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

// --- Jobs paused for the store ---------------------------------------------------------------
//
// A coordinator whose checkpoint the store refused (a full disk, an I/O error) ends with (done,
// PAUSED, reason). Nothing can be written then, and nothing needs to be: the store holds the
// job's last checkpoint with the job RUNNING, so a restart resumes it too. The job is held PAUSED
// here, with the reason as its error, and a tick asks the store every store_probe_interval
// whether it accepts writes (Store::RecoverWrites); when it does, every held job resumes from its
// checkpoint. ResumeJob resumes one at once when the store accepts writes, and answers the
// store's error when not; PauseJob and CancelJob write the job's new state, or answer the
// store's error and leave the job held.

void ScheduleStoreProbe(Self self) {
  auto& state = self->state;
  if (state.store_probe_scheduled || state.held_for_store.empty()) return;
  state.store_probe_scheduled = true;
  self->delayed_send(self, state.options.store_probe_interval, tick_atom::value);
}

// Holds job `id`, whose coordinator has ended with (done, PAUSED, reason), until the store
// accepts writes. Writes nothing.
void HoldForStore(Self self, const std::string& id, const std::string& reason) {
  auto& state = self->state;
  v1::JobRecord record = *state.jobs->Find(id);
  record.set_state(v1::PAUSED);
  record.set_error(reason);
  record.set_updated_unix_ms(NowUnixMs());
  if (auto held = state.jobs->Adopt(record); !held.ok()) {
    spdlog::error("job {}: holding it for the store: {}", id, held.status().ToString());
    return;
  }
  state.held_for_store.insert(id);
  spdlog::warn("job {}: paused: {}", id, reason);
  ScheduleStoreProbe(self);
}

// Resumes held job `id`, the store accepting writes again (Store::RecoverWrites was OK).
absl::StatusOr<v1::JobRecord> ResumeHeldNow(Self self, const std::string& id) {
  auto& state = self->state;
  v1::JobRecord record = *state.jobs->Find(id);
  record.set_state(v1::RUNNING);
  record.clear_error();
  record.set_updated_unix_ms(NowUnixMs());
  auto resumed = state.jobs->Adopt(record);  // the store holds it RUNNING already
  if (!resumed.ok()) return resumed.status();
  state.held_for_store.erase(id);
  StartOrFail(self, id, BuildEngine(self, id), "resume failed: ");
  spdlog::info("job {}: resumed: the store accepts writes again", id);
  return *state.jobs->Find(id);
}

// Resumes held job `id` when the store accepts writes; else the store's error, the job still held.
absl::StatusOr<v1::JobRecord> ResumeHeld(Self self, const std::string& id) {
  if (absl::Status writes = self->state.store->RecoverWrites(); !writes.ok()) {
    return absl::Status(writes.code(), "job " + id +
                                           " is paused until the store accepts writes again "
                                           "(it then resumes by itself): " +
                                           std::string(writes.message()));
  }
  return ResumeHeldNow(self, id);
}

// PauseJob or CancelJob of held job `id`: one write of its new state, without the store's reason.
absl::StatusOr<v1::JobRecord> PauseOrCancelHeld(Self self, const std::string& id,
                                                v1::JobState target) {
  auto& state = self->state;
  v1::JobRecord record = *state.jobs->Find(id);
  record.set_state(target);
  record.clear_error();
  record.set_updated_unix_ms(NowUnixMs());
  if (absl::Status written = state.store->PutJob(record); !written.ok()) return written;
  auto adopted = state.jobs->Adopt(record);
  if (adopted.ok()) state.held_for_store.erase(id);
  return adopted;
}

// The tick: resumes every held job once the store accepts writes.
void ProbeStore(Self self) {
  auto& state = self->state;
  state.store_probe_scheduled = false;
  if (state.held_for_store.empty()) return;
  if (absl::Status writes = state.store->RecoverWrites(); writes.ok()) {
    const std::set<std::string> held = state.held_for_store;
    for (const std::string& id : held) {
      if (auto resumed = ResumeHeldNow(self, id); !resumed.ok()) {
        spdlog::warn("job {}: {}", id, resumed.status().ToString());
      }
    }
  }
  ScheduleStoreProbe(self);
}

// Pause or cancel: a job without a coordinator here changes in the lifecycle alone; a running one
// is stopped with the job in `target`.
Reply PauseOrCancel(Self self, const std::string& id, v1::JobState target) {
  auto& state = self->state;
  if (state.held_for_store.count(id) > 0) return Answer(PauseOrCancelHeld(self, id, target));
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
  ManagerGuarded("loading jobs", [&] {
    const auto t0 = std::chrono::steady_clock::now();
    auto running = state.jobs->Restore();
    if (!running.ok()) {
      spdlog::error("listing jobs failed: {}", running.status().ToString());
      return;
    }
    // Before the manager serves: a job RUNNING in the lifecycle has its coordinator once the
    // manager serves, which WatchJob and the stops rely on. The builds run together, each on a
    // thread of its own, waited for up to options.prepare_timeout (BuildStoredPartsTogether);
    // one past it is PAUSED.
    std::vector<absl::StatusOr<JobParts>> parts = BuildStoredPartsTogether(self, *running);
    for (size_t i = 0; i < running->size(); ++i) {
      const std::string& id = (*running)[i];
      if (parts[i].ok()) {
        StartOrFail(self, id, BuildEngine(self, id, std::move(*parts[i])), "resume failed: ");
      } else {
        StartOrFail(self, id, parts[i].status(), "resume failed: ");
      }
    }
    spdlog::info("loaded {} jobs, resumed {} in {:.3f} s", state.jobs->List().size(),
                 state.live.size(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  });

  self->set_down_handler([self](caf::down_msg& down) {
    ManagerGuarded("a monitored actor's end", [&] {
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
      [self](submit_atom, const std::string& bytes, int64_t deadline) -> Reply {
        return ManagerGuarded("submitting a job", [&]() -> Reply {
          if (Expired(deadline)) return Answer(TooLate("submit"));
          v1::JobSpec spec;
          if (!spec.ParseFromString(bytes)) {
            return Answer(absl::InvalidArgumentError("spec: does not parse"));
          }
          const ProblemRegistry* registry = self->state.registry;
          const JobLimits limits = self->state.options.limits;
          auto rp = Prepare(
              self, "submitting a job",
              [spec, registry, limits] { return ValidateAndBuild(spec, *registry, limits); },
              [self, spec, deadline](JobParts parts) -> absl::StatusOr<v1::JobRecord> {
                if (Expired(deadline)) return TooLate("submit");
                auto created = self->state.jobs->CreateValidated(spec);
                if (!created.ok()) return created.status();
                const std::string id = created->id();
                StartOrFail(self, id, BuildEngine(self, id, std::move(parts)), "");
                spdlog::info("job {} submitted: {}", id, spec.name());
                return *self->state.jobs->Find(id);
              });
          if (!rp.ok()) return Answer(rp.status());
          return *rp;
        });
      },
      [self](get_atom, const std::string& id) -> Reply {
        return ManagerGuarded("getting job " + id,
                              [&]() -> Reply { return Answer(self->state.jobs->Get(id)); });
      },
      [self](list_atom) -> Reply {
        return ManagerGuarded("listing jobs", [&]() -> Reply {
          v1::ListJobsResponse response;
          for (auto& record : self->state.jobs->List()) *response.add_jobs() = std::move(record);
          response.set_total_size(response.jobs_size());
          return Answer(response);
        });
      },
      [self](pause_atom, const std::string& id, int64_t deadline) -> Reply {
        return ManagerGuarded("pausing job " + id, [&]() -> Reply {
          if (Expired(deadline)) return Answer(TooLate("pause " + id));
          return PauseOrCancel(self, id, v1::PAUSED);
        });
      },
      [self](cancel_atom, const std::string& id, int64_t deadline) -> Reply {
        return ManagerGuarded("cancelling job " + id, [&]() -> Reply {
          if (Expired(deadline)) return Answer(TooLate("cancel " + id));
          return PauseOrCancel(self, id, v1::CANCELLED);
        });
      },
      [self](resume_atom, const std::string& id, int64_t deadline) -> Reply {
        return ManagerGuarded("resuming job " + id, [&]() -> Reply {
          if (Expired(deadline)) return Answer(TooLate("resume " + id));
          if (self->state.held_for_store.count(id) > 0) return Answer(ResumeHeld(self, id));
          // Checked now and again once the parts are built: the job may change meanwhile.
          auto check = [self, id]() -> absl::StatusOr<bool> {
            auto& state = self->state;
            auto live = state.live.find(id);
            if (live != state.live.end()) {
              if (live->second.stopping) {
                return absl::FailedPreconditionError("job " + id + " is being paused or cancelled");
              }
              return true;  // already running
            }
            if (absl::Status status = state.jobs->CheckTransition(id, v1::RUNNING); !status.ok()) {
              return status;
            }
            return false;
          };
          auto running = check();
          if (!running.ok()) return Answer(running.status());
          if (*running) return Answer(*self->state.jobs->Find(id));
          auto rp =
              Prepare(self, "resuming job " + id, StoredJobBuild(self, id),
                      [self, id, deadline, check](JobParts parts) -> absl::StatusOr<v1::JobRecord> {
                        if (Expired(deadline)) return TooLate("resume " + id);
                        auto running = check();
                        if (!running.ok()) return running.status();
                        if (*running) return *self->state.jobs->Find(id);
                        // The engine first: a job that cannot run stays as it was.
                        auto engine = BuildEngine(self, id, std::move(parts));
                        if (!engine.ok()) return engine.status();
                        auto resumed = self->state.jobs->Resume(id);
                        if (!resumed.ok()) return resumed.status();
                        Spawn(self, std::move(*engine));
                        spdlog::info("job {}: resumed", id);
                        return *self->state.jobs->Find(id);
                      });
          if (!rp.ok()) return Answer(rp.status());
          return *rp;
        });
      },
      [self](prepared_atom, uint64_t token, bool timed_out) {
        ManagerGuarded("a job's parts", [&] {
          auto& state = self->state;
          auto it = state.preparing.find(token);
          if (it == state.preparing.end()) return;  // done already
          std::optional<absl::StatusOr<JobParts>> result;
          {
            std::lock_guard<std::mutex> lock(it->second.slot->mu);
            result.swap(it->second.slot->result);
          }
          if (!result) {
            if (!timed_out) return;
            const double seconds = state.options.prepare_timeout.count() / 1000.0;
            result = absl::DeadlineExceededError(
                it->second.what + ": building the job's problem took longer than " +
                absl::StrCat(seconds) + " s (reading its files?); nothing was changed");
          }
          Preparation preparation = std::move(it->second);
          state.preparing.erase(it);
          preparation.done(std::move(*result));
        });
      },
      [self](watch_atom, const std::string& id, job_listener_actor watcher) -> Reply {
        return ManagerGuarded("watching job " + id, [&]() -> Reply {
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
        ManagerGuarded("progress of job " + id, [&] {
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
      [self](tick_atom) { ManagerGuarded("probing the store", [&] { ProbeStore(self); }); },
      [self](done_atom, const std::string& id, int32_t job_state, const std::string& error) {
        ManagerGuarded("the end of job " + id, [&] {
          auto& state = self->state;
          const auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
          if (!LiveWith(self, id, sender)) return;
          const auto ended = static_cast<v1::JobState>(job_state);
          if (ended == v1::PAUSED) {  // the store refused its checkpoint
            HoldForStore(self, id, error);
            Release(self, id, ended, error);
            return;
          }
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
      [self](suggest_atom, const std::string& bytes) -> Reply {
        return ManagerGuarded("suggesting trials", [&]() -> Reply {
          v1::SuggestTrialsRequest request;
          if (!request.ParseFromString(bytes)) {
            return Answer(absl::InvalidArgumentError("request: does not parse"));
          }
          return ToCoordinator(self, request.job_id(), suggest_atom::value, bytes);
        });
      },
      [self](complete_atom, const std::string& bytes) -> Reply {
        return ManagerGuarded("completing a trial", [&]() -> Reply {
          v1::CompleteTrialRequest request;
          if (!request.ParseFromString(bytes)) {
            return Answer(absl::InvalidArgumentError("request: does not parse"));
          }
          return ToCoordinator(self, request.job_id(), complete_atom::value, bytes);
        });
      },
      [self](shutdown_atom) -> Reply {
        return ManagerGuarded("shutting down", [&]() -> Reply {
          WaitForBuilds(self);
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

namespace {
int64_t DeadlineUnixMs(const RequestDeadline& deadline) {
  if (!deadline) return 0;
  return std::max<int64_t>(
      1,
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline->time_since_epoch()).count());
}
}  // namespace

absl::StatusOr<v1::JobRecord> JobManagerClient::Submit(const v1::JobSpec& spec,
                                                       RequestDeadline deadline) {
  return Parse<v1::JobRecord>(Call(kBuildCallTimeout, submit_atom::value, spec.SerializeAsString(),
                                   DeadlineUnixMs(deadline)));
}
absl::StatusOr<v1::SuggestTrialsResponse> JobManagerClient::SuggestTrials(
    const v1::SuggestTrialsRequest& request) {
  return Parse<v1::SuggestTrialsResponse>(
      Call(kCallTimeout, suggest_atom::value, request.SerializeAsString()));
}

absl::StatusOr<v1::CompleteTrialResponse> JobManagerClient::CompleteTrial(
    const v1::CompleteTrialRequest& request) {
  return Parse<v1::CompleteTrialResponse>(
      Call(kCallTimeout, complete_atom::value, request.SerializeAsString()));
}

absl::StatusOr<v1::JobRecord> JobManagerClient::Get(const std::string& job_id) {
  return Parse<v1::JobRecord>(Call(kCallTimeout, get_atom::value, job_id));
}
absl::StatusOr<std::vector<v1::JobRecord>> JobManagerClient::List() {
  auto response = Parse<v1::ListJobsResponse>(Call(kCallTimeout, list_atom::value));
  if (!response.ok()) return response.status();
  return std::vector<v1::JobRecord>(response->jobs().begin(), response->jobs().end());
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Pause(const std::string& job_id,
                                                      RequestDeadline deadline) {
  return Parse<v1::JobRecord>(
      Call(kCallTimeout, pause_atom::value, job_id, DeadlineUnixMs(deadline)));
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Resume(const std::string& job_id,
                                                       RequestDeadline deadline) {
  return Parse<v1::JobRecord>(
      Call(kBuildCallTimeout, resume_atom::value, job_id, DeadlineUnixMs(deadline)));
}
absl::StatusOr<v1::JobRecord> JobManagerClient::Cancel(const std::string& job_id,
                                                       RequestDeadline deadline) {
  return Parse<v1::JobRecord>(
      Call(kCallTimeout, cancel_atom::value, job_id, DeadlineUnixMs(deadline)));
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
