#include "actors/coordinator.h"

#include <chrono>

#include "evolv/v1/cluster.pb.h"
#include "spdlog/spdlog.h"

namespace evolv {
namespace {

struct CoordinatorState {
  std::shared_ptr<JobEngine> engine;
  dispatcher_actor dispatcher;
  job_listener_actor listener;
  CoordinatorOptions options;
  std::chrono::steady_clock::time_point last_progress;
  bool finished = false;
  // The EvalRequest fields every task of the job shares (job, domain, priority, spec, problem
  // fingerprint, evaluator version), serialized once; a task's request is these bytes followed
  // by its own fields, which protobuf parses as one message (the fields do not overlap).
  std::string request_prefix;
};

using Self = coordinator_actor::stateful_pointer<CoordinatorState>;

// A checkpoint refused by the store (ResourceExhausted: the disk is full; Unavailable: an I/O
// error) pauses the job instead of failing it; the job manager resumes it once the store accepts
// writes (docs/adr/0020-store-write-errors.md).
bool IsStoreWriteError(const absl::Status& status) {
  return absl::IsResourceExhausted(status) || absl::IsUnavailable(status);
}

std::string StorePauseReason(const absl::Status& status) {
  return "store write failed: " + std::string(status.message()) +
         "; resumes when the store accepts writes";
}

void SendProgress(Self self, bool force) {
  auto& state = self->state;
  const auto now = std::chrono::steady_clock::now();
  if (!force && std::chrono::duration<double>(now - state.last_progress).count() <
                    state.options.progress_every_seconds) {
    return;
  }
  state.last_progress = now;
  if (state.listener) {
    self->send(state.listener, progress_atom::value, state.engine->record().id(),
               state.engine->Progress().SerializeAsString());
  }
}

// Ends the job: SUCCEEDED commits the final checkpoint (the state change's one write); a
// failure, or a pause for the store, is only reported, for the listener to record.
void Finish(Self self, v1::JobState job_state, std::string error) {
  auto& state = self->state;
  if (state.finished) return;
  state.finished = true;
  if (job_state == v1::SUCCEEDED) {
    if (absl::Status status = state.engine->Checkpoint(v1::SUCCEEDED); !status.ok()) {
      spdlog::error("job {}: final checkpoint failed: {}", state.engine->record().id(),
                    status.ToString());
      if (IsStoreWriteError(status)) {
        job_state = v1::PAUSED;
        error = StorePauseReason(status);
      } else {
        job_state = v1::FAILED_STATE;
        error = "final checkpoint failed: " + std::string(status.message());
      }
    }
  }
  SendProgress(self, true);
  if (state.listener) {
    self->send(state.listener, done_atom::value, state.engine->record().id(),
               static_cast<int32_t>(job_state), error);
  }
  self->quit();
}

void MaybeCheckpoint(Self self) {
  auto& state = self->state;
  if (!state.engine->CheckpointDue(state.options.checkpoint_every_results,
                                   state.options.checkpoint_every_seconds)) {
    return;
  }
  absl::Status status = state.engine->Checkpoint(v1::RUNNING);
  if (!status.ok()) {
    spdlog::error("job {}: checkpoint failed: {}", state.engine->record().id(), status.ToString());
    if (IsStoreWriteError(status)) {
      Finish(self, v1::PAUSED, StorePauseReason(status));
    } else {
      Finish(self, v1::FAILED_STATE, "checkpoint failed: " + std::string(status.message()));
    }
  }
}

void Send(Self self, std::vector<EvalTask> tasks);

void OnResult(Self self, uint64_t index, v1::Evaluation evaluation) {
  auto& state = self->state;
  if (state.finished) return;
  Send(self, state.engine->OnResult(index, std::move(evaluation)));
  if (state.finished) return;
  if (state.engine->Finished()) {
    Finish(self, v1::SUCCEEDED, "");
    return;
  }
  MaybeCheckpoint(self);
  SendProgress(self, false);
}

void Send(Self self, std::vector<EvalTask> tasks) {
  auto& state = self->state;
  if (state.request_prefix.empty() && !tasks.empty()) {
    const v1::JobRecord& record = state.engine->record();
    v1::EvalRequest shared;
    shared.set_job_id(record.id());
    shared.set_domain(state.engine->problem().Domain());
    shared.set_priority(record.spec().priority());
    *shared.mutable_spec() = record.spec();
    shared.set_problem_fingerprint(state.engine->problem_fingerprint());
    shared.set_evaluator_version(state.engine->evaluator_version());
    state.request_prefix = shared.SerializeAsString();
  }
  for (auto& task : tasks) {
    v1::EvalRequest own;
    own.set_index(task.index);
    *own.mutable_candidate() = std::move(task.candidate);
    own.set_seed(task.seed);
    own.set_repeat(task.repeat);
    std::string request = state.request_prefix;
    own.AppendToString(&request);
    const uint64_t index = task.index;
    self->request(state.dispatcher, caf::infinite, evaluate_atom::value, std::move(request))
        .then(
            [self, index](const std::string& bytes) {
              v1::Evaluation evaluation;
              if (!evaluation.ParseFromString(bytes)) {
                evaluation.Clear();
                evaluation.set_status(v1::FAILED);
                evaluation.set_error("malformed evaluation from worker");
              }
              OnResult(self, index, std::move(evaluation));
            },
            [self, index](caf::error& error) {
              v1::Evaluation evaluation;
              evaluation.set_status(v1::FAILED);
              evaluation.set_error("dispatch failed: " + self->system().render(error));
              OnResult(self, index, std::move(evaluation));
            });
  }
}

coordinator_actor::behavior_type CoordinatorBehavior(Self self, std::shared_ptr<JobEngine> engine,
                                                     dispatcher_actor dispatcher,
                                                     job_listener_actor listener,
                                                     CoordinatorOptions options) {
  auto& state = self->state;
  state.engine = std::move(engine);
  state.dispatcher = std::move(dispatcher);
  state.listener = std::move(listener);
  state.options = options;
  Send(self, state.engine->Fill());
  if (state.engine->Finished()) {
    Finish(self, v1::SUCCEEDED, "");
  } else {
    SendProgress(self, true);
    self->delayed_send(self, std::chrono::milliseconds(500), tick_atom::value);
  }
  return {
      [self](tick_atom) {
        if (self->state.finished) return;
        // A time budget may run out while results are pending; asks stop via the engine.
        if (self->state.engine->Finished()) {
          Finish(self, v1::SUCCEEDED, "");
          return;
        }
        MaybeCheckpoint(self);
        SendProgress(self, false);
        self->delayed_send(self, std::chrono::milliseconds(500), tick_atom::value);
      },
      [self](stop_atom, int32_t target) -> caf::result<std::string> {
        auto& state = self->state;
        // Ended while starting: the listener has (done, ...) already.
        if (state.finished) {
          return caf::make_error(caf::sec::runtime_error, "the job has already ended");
        }
        const auto job_state = static_cast<v1::JobState>(target);
        if (job_state != v1::RUNNING && job_state != v1::PAUSED && job_state != v1::CANCELLED) {
          return caf::make_error(caf::sec::invalid_argument,
                                 "stop: target must be RUNNING, PAUSED or CANCELLED");
        }
        if (absl::Status status = state.engine->Checkpoint(job_state); !status.ok()) {
          spdlog::error("job {}: checkpoint on stop failed: {}", state.engine->record().id(),
                        status.ToString());
          return caf::make_error(caf::sec::runtime_error,
                                 "checkpoint failed: " + std::string(status.message()));
        }
        state.finished = true;
        self->quit();
        return state.engine->record().SerializeAsString();
      },
  };
}

}  // namespace

coordinator_actor SpawnCoordinator(caf::actor_system& system, std::shared_ptr<JobEngine> engine,
                                   dispatcher_actor dispatcher, job_listener_actor listener,
                                   CoordinatorOptions options) {
  return system.spawn(CoordinatorBehavior, std::move(engine), std::move(dispatcher),
                      std::move(listener), options);
}

}  // namespace evolv
