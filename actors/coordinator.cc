#include "actors/coordinator.h"

#include <chrono>
#include <iterator>

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
  // by its own fields (index, candidate, seed, repeat), which protobuf parses as one message.
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

// Tells the engine a batch of results, then sends what it asks next in one message.
void OnResults(Self self, const std::vector<uint64_t>& indices,
               const std::vector<std::string>& evaluations) {
  auto& state = self->state;
  if (state.finished) return;
  std::vector<EvalTask> next;
  for (size_t i = 0; i < indices.size() && i < evaluations.size(); ++i) {
    v1::Evaluation evaluation;
    if (!evaluation.ParseFromString(evaluations[i])) {
      evaluation.Clear();
      evaluation.set_status(v1::FAILED);
      evaluation.set_error("malformed evaluation from worker");
    }
    std::vector<EvalTask> tasks = state.engine->OnResult(indices[i], std::move(evaluation));
    std::move(tasks.begin(), tasks.end(), std::back_inserter(next));
  }
  Send(self, std::move(next));
  if (state.engine->Finished()) {
    Finish(self, v1::SUCCEEDED, "");
    return;
  }
  MaybeCheckpoint(self);
  SendProgress(self, false);
}

void Send(Self self, std::vector<EvalTask> tasks) {
  auto& state = self->state;
  if (tasks.empty()) return;
  if (state.request_prefix.empty()) {
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
  std::vector<uint64_t> indices;
  std::vector<std::string> own;
  indices.reserve(tasks.size());
  own.reserve(tasks.size());
  for (auto& task : tasks) {
    v1::EvalRequest fields;
    fields.set_index(task.index);
    *fields.mutable_candidate() = std::move(task.candidate);
    fields.set_seed(task.seed);
    fields.set_repeat(task.repeat);
    indices.push_back(task.index);
    own.push_back(fields.SerializeAsString());
  }
  const v1::JobRecord& record = state.engine->record();
  self->send(state.dispatcher, tasks_atom::value, caf::actor_cast<caf::actor>(self), record.id(),
             state.engine->problem().Domain(), record.spec().priority(), state.request_prefix,
             std::move(indices), std::move(own));
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
  // Results come back as (results) messages, not replies: if the dispatcher goes, none will.
  // The coordinator then ends without a word to the listener: the store keeps the job RUNNING
  // at its last checkpoint, to resume when the process starts again (evolvd ends when its
  // dispatcher does).
  self->monitor(state.dispatcher);
  self->set_down_handler([self](caf::down_msg& down) {
    if (down.source != self->state.dispatcher.address() || self->state.finished) return;
    spdlog::error("job {}: the dispatcher went down ({}); it resumes from its last checkpoint",
                  self->state.engine->record().id(), self->system().render(down.reason));
    self->state.finished = true;
    self->quit(down.reason);
  });
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
      [self](results_atom, const std::vector<uint64_t>& indices,
             const std::vector<std::string>& evaluations) {
        OnResults(self, indices, evaluations);
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
