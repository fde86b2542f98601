#include "actors/coordinator.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>

#include "actors/reply.h"
#include "evolv/v1/cluster.pb.h"
#include "evolv/v1/service.pb.h"
#include "spdlog/spdlog.h"

namespace evolv {
namespace {

// A trial of a job its clients evaluate: a task waiting for a client's result, leased to one
// client until `expires` or waiting to be suggested.
struct ClientTrial {
  EvalTask task;
  bool leased = false;
  std::chrono::steady_clock::time_point leased_at;
  std::chrono::steady_clock::time_point expires;
  std::string client;
};

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
  // A job its clients evaluate (Problem::EvaluatedByClients): its tasks wait here, by index,
  // for SuggestTrials and CompleteTrial instead of going to the dispatcher.
  bool by_clients = false;
  std::map<uint64_t, ClientTrial> trials;
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

// Tells the engine a batch of results (index, evaluation), then sends what it asks next in one
// message.
void Tell(Self self, std::vector<std::pair<uint64_t, v1::Evaluation>> results) {
  auto& state = self->state;
  if (state.finished) return;
  std::vector<EvalTask> next;
  next.reserve(results.size());  // a result usually makes room for one new task
  for (auto& [index, evaluation] : results) {
    std::vector<EvalTask> tasks = state.engine->OnResult(index, std::move(evaluation));
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

void OnResults(Self self, const std::vector<uint64_t>& indices,
               const std::vector<std::string>& evaluations) {
  std::vector<std::pair<uint64_t, v1::Evaluation>> results;
  results.reserve(std::min(indices.size(), evaluations.size()));
  for (size_t i = 0; i < indices.size() && i < evaluations.size(); ++i) {
    v1::Evaluation& evaluation = results.emplace_back(indices[i], v1::Evaluation()).second;
    if (!evaluation.ParseFromString(evaluations[i])) {
      evaluation.Clear();
      evaluation.set_status(v1::FAILED);
      evaluation.set_error("malformed evaluation from worker");
    }
  }
  Tell(self, std::move(results));
}

void Send(Self self, std::vector<EvalTask> tasks) {
  auto& state = self->state;
  if (tasks.empty()) return;
  if (state.by_clients) {
    for (auto& task : tasks) {
      const uint64_t index = task.index;
      ClientTrial& trial = state.trials[index];
      trial = ClientTrial();
      trial.task = std::move(task);
    }
    return;
  }
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
             state.engine->problem().Domain(), state.engine->problem().RequiredCudaDevice(),
             record.spec().priority(), state.request_prefix, std::move(indices), std::move(own));
}

absl::Status NotByClients(Self self) {
  return absl::FailedPreconditionError("job " + self->state.engine->record().id() +
                                       ": its candidates are evaluated on workers, not by clients");
}

// Trials whose lease has passed wait again, to be suggested to the next client.
void ExpireLeases(Self self, std::chrono::steady_clock::time_point now) {
  for (auto& [index, trial] : self->state.trials) {
    if (trial.leased && trial.expires <= now) {
      spdlog::info("job {}: the lease of trial {} (client '{}') passed; it waits again",
                   self->state.engine->record().id(), index, trial.client);
      trial.leased = false;
    }
  }
}

Reply Suggest(Self self, const std::string& bytes) {
  auto& state = self->state;
  v1::SuggestTrialsRequest request;
  if (!request.ParseFromString(bytes)) {
    return Answer(absl::InvalidArgumentError("request: does not parse"));
  }
  if (!state.by_clients) return Answer(NotByClients(self));
  v1::SuggestTrialsResponse response;
  response.set_state(state.finished ? v1::SUCCEEDED : v1::RUNNING);
  if (state.finished) return Answer(response);
  const auto now = std::chrono::steady_clock::now();
  ExpireLeases(self, now);
  const uint32_t count = std::max<uint32_t>(request.count(), 1);
  const double lease = request.lease_seconds() > 0 ? request.lease_seconds() : 600;
  const auto expires = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(lease));
  const int64_t deadline = NowUnixMs() + static_cast<int64_t>(lease * 1000);
  const Problem& problem = state.engine->problem();
  for (auto& [index, trial] : state.trials) {
    if (response.trials_size() >= static_cast<int>(count)) break;
    if (trial.leased) continue;
    trial.leased = true;
    trial.leased_at = now;
    trial.expires = expires;
    trial.client = request.client_id();
    v1::Trial& out = *response.add_trials();
    out.set_job_id(state.engine->record().id());
    out.set_trial_id(index);
    out.set_parameters_json(problem.Render(trial.task.candidate, RenderFormat::kJson));
    *out.mutable_candidate() = trial.task.candidate;
    out.set_lease_deadline_unix_ms(deadline);
  }
  return Answer(response);
}

Reply Complete(Self self, const std::string& bytes) {
  auto& state = self->state;
  v1::CompleteTrialRequest request;
  if (!request.ParseFromString(bytes)) {
    return Answer(absl::InvalidArgumentError("request: does not parse"));
  }
  if (!state.by_clients) return Answer(NotByClients(self));
  const std::string& id = state.engine->record().id();
  auto it = state.trials.find(request.trial_id());
  if (state.finished || it == state.trials.end()) {
    return Answer(absl::FailedPreconditionError(
        "trial_id: trial " + std::to_string(request.trial_id()) + " of job " + id +
        " is not waiting for a result: it was never suggested, or it is completed already"));
  }
  const Problem& problem = state.engine->problem();
  v1::Evaluation evaluation;
  if (!request.failure().empty()) {
    evaluation =
        UnscoredEvaluation(v1::FAILED, "the client reported a failure: " + request.failure(),
                           static_cast<int>(problem.ObjectiveNames().size()));
  } else {
    auto reported = problem.ClientEvaluation(it->second.task.candidate, request.values());
    if (!reported.ok()) return Answer(reported.status());
    evaluation = std::move(*reported);
  }
  const std::string& client = request.client_id().empty() ? it->second.client : request.client_id();
  evaluation.set_worker(client.empty() ? "client" : "client " + client);
  if (it->second.leased) {
    evaluation.set_eval_seconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.leased_at)
            .count());
  }
  v1::CompleteTrialResponse response;
  *response.mutable_evaluation() = evaluation;
  const uint64_t index = it->first;
  state.trials.erase(it);
  std::vector<std::pair<uint64_t, v1::Evaluation>> results;
  results.emplace_back(index, std::move(evaluation));
  Tell(self, std::move(results));
  return Answer(response);
}

coordinator_actor::behavior_type CoordinatorBehavior(Self self, std::shared_ptr<JobEngine> engine,
                                                     dispatcher_actor dispatcher,
                                                     job_listener_actor listener,
                                                     CoordinatorOptions options) {
  pthread_setname_np(pthread_self(), "evolv.job");
  auto& state = self->state;
  state.engine = std::move(engine);
  state.dispatcher = std::move(dispatcher);
  state.listener = std::move(listener);
  state.options = options;
  state.by_clients = state.engine->problem().EvaluatedByClients();
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
        ExpireLeases(self, std::chrono::steady_clock::now());
        MaybeCheckpoint(self);
        SendProgress(self, false);
        self->delayed_send(self, std::chrono::milliseconds(500), tick_atom::value);
      },
      [self](suggest_atom, const std::string& bytes) -> Reply {
        return Guarded("job " + self->state.engine->record().id(), "suggesting trials",
                       [&] { return Suggest(self, bytes); });
      },
      [self](complete_atom, const std::string& bytes) -> Reply {
        return Guarded("job " + self->state.engine->record().id(), "completing a trial",
                       [&] { return Complete(self, bytes); });
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
  return system.spawn<caf::detached>(CoordinatorBehavior, std::move(engine), std::move(dispatcher),
                                     std::move(listener), options);
}

}  // namespace evolv
