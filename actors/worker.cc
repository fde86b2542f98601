#include "actors/worker.h"

#include <chrono>

#include "search/functional_hash.h"
#include "spdlog/spdlog.h"

namespace evolv {
namespace {

constexpr size_t kProblemsKept = 8;

v1::Evaluation Failed(const std::string& error) {
  v1::Evaluation evaluation;
  evaluation.set_status(v1::FAILED);
  evaluation.set_error(error);
  return evaluation;
}

// What differs between the problem this worker built (with fingerprint `here`) and the
// coordinator's, as the request describes it.
std::string MismatchError(const Problem& problem, const std::string& here,
                          const v1::EvalRequest& request) {
  std::string error = "the worker's problem differs from the coordinator's: ";
  const std::string version = problem.EvaluatorVersion();
  if (!request.evaluator_version().empty() && request.evaluator_version() != version) {
    return error + "evaluator version " + version + " here vs " + request.evaluator_version() +
           " there";
  }
  const std::string domain = problem.Domain();
  if (!request.domain().empty() && request.domain() != domain) {
    return error + "domain " + domain + " here vs " + request.domain() + " there";
  }
  return error + "the spec's files differ on this worker (problem fingerprint " + here +
         " here vs " + request.problem_fingerprint() + " there)";
}

}  // namespace

EvalContext Evaluator::ContextOf(const v1::EvalRequest& request) const {
  EvalContext context;
  context.seed = request.seed();
  context.repeat = request.repeat();
  context.cuda_device = device_.cuda_index;
  return context;
}

Evaluator::Evaluator(std::string worker_id, const ProblemRegistry& registry, bool allow_commands,
                     WorkerDevice device)
    : worker_id_(std::move(worker_id)),
      registry_(registry),
      allow_commands_(allow_commands),
      device_(std::move(device)) {}

const Problem* Evaluator::ProblemFor(const v1::EvalRequest& request, v1::Evaluation* refused) {
  BuiltProblem* built = nullptr;
  for (auto& entry : problems_) {
    if (entry.job_id == request.job_id()) {
      built = &entry;
      break;
    }
  }
  if (!built) {
    if (!allow_commands_ && registry_.RunsCommands(registry_.DomainOf(request.spec()))) {
      *refused =
          Failed("this worker does not run commands: the " + registry_.DomainOf(request.spec()) +
                 " domain's evaluations run the job's command, which only workers started "
                 "with --allow-commands do");
      refused->set_worker(worker_id_);
      return nullptr;
    }
    auto created = registry_.Create(request.spec());
    if (!created.ok()) {
      *refused = Failed(std::string(created.status().message()));
      return nullptr;
    }
    if (problems_.size() == kProblemsKept) problems_.erase(problems_.begin());
    BuiltProblem entry;
    entry.job_id = request.job_id();
    entry.problem = std::move(*created);
    entry.fingerprint = ProblemFingerprint(*entry.problem);
    problems_.push_back(std::move(entry));
    built = &problems_.back();
  }
  const Problem& problem = *built->problem;
  if (!request.problem_fingerprint().empty() &&
      request.problem_fingerprint() != built->fingerprint) {
    const std::string error = MismatchError(problem, built->fingerprint, request);
    if (!built->mismatch_logged) {
      built->mismatch_logged = true;
      spdlog::warn("worker {}: job {}: refusing its evaluations: {}", worker_id_, request.job_id(),
                   error);
    }
    *refused = Failed(error);
    refused->set_worker(worker_id_);
    return nullptr;
  }
  return &problem;
}

void Evaluator::Stamp(v1::Evaluation* evaluation, double seconds) const {
  evaluation->set_eval_seconds(seconds);
  evaluation->set_worker(worker_id_);
  evaluation->set_device(device_.label);
}

v1::Evaluation Evaluator::Run(const v1::EvalRequest& request) {
  v1::Evaluation refused;
  const Problem* problem = ProblemFor(request, &refused);
  if (problem == nullptr) return refused;
  const auto start = std::chrono::steady_clock::now();
  v1::Evaluation evaluation = problem->Evaluate(request.candidate(), ContextOf(request));
  Stamp(&evaluation,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return evaluation;
}

std::vector<v1::Evaluation> Evaluator::RunBatch(const v1::EvalRequest& shared,
                                                const std::vector<v1::EvalRequest>& own) {
  v1::Evaluation refused;
  const Problem* problem = ProblemFor(shared, &refused);
  if (problem == nullptr) return std::vector<v1::Evaluation>(own.size(), refused);
  std::vector<const v1::Candidate*> candidates;
  std::vector<EvalContext> contexts;
  for (const v1::EvalRequest& task : own) {
    candidates.push_back(&task.candidate());
    contexts.push_back(ContextOf(task));
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<v1::Evaluation> evaluations = problem->EvaluateBatch(candidates, contexts);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (evaluations.size() != own.size()) {  // a domain's bug: no task gets another's result
    return std::vector<v1::Evaluation>(
        own.size(), Failed(problem->Domain() + ": EvaluateBatch answered " +
                           std::to_string(evaluations.size()) + " evaluations for " +
                           std::to_string(own.size())));
  }
  for (v1::Evaluation& evaluation : evaluations) {
    Stamp(&evaluation, seconds / static_cast<double>(own.size()));
  }
  return evaluations;
}

worker_actor::behavior_type WorkerBehavior(worker_actor::stateful_pointer<WorkerState> self,
                                           std::string worker_id, const ProblemRegistry* registry,
                                           bool allow_commands, WorkerDevice device) {
  self->state.evaluator = std::make_unique<Evaluator>(std::move(worker_id), *registry,
                                                      allow_commands, std::move(device));
  // One request's Evaluation bytes.
  auto run = [self](const std::string& request_bytes) {
    v1::EvalRequest request;
    if (!request.ParseFromString(request_bytes)) {
      return Failed("malformed evaluation request").SerializeAsString();
    }
    return self->state.evaluator->Run(request).SerializeAsString();
  };
  return {
      [run](evaluate_atom, const std::string& request_bytes) -> std::string {
        return run(request_bytes);
      },
      [self, run](evaluate_batch_atom, const std::string& shared,
                  const std::vector<std::string>& tasks) -> std::vector<std::string> {
        std::vector<std::string> evaluations;
        evaluations.reserve(tasks.size());
        if (shared.empty()) {
          for (const std::string& request : tasks) evaluations.push_back(run(request));
          return evaluations;
        }
        // The shared fields are parsed once; each task sets only its own four.
        v1::EvalRequest request;
        if (!request.ParseFromString(shared)) {
          const std::string failed = Failed("malformed evaluation request").SerializeAsString();
          evaluations.assign(tasks.size(), failed);
          return evaluations;
        }
        if (self->state.evaluator->Batches()) {
          // Together (Problem::EvaluateBatch); malformed tasks are answered as such, in place.
          std::vector<v1::EvalRequest> valid;
          std::vector<bool> malformed(tasks.size(), false);
          for (size_t i = 0; i < tasks.size(); ++i) {
            v1::EvalRequest own;
            if (own.ParseFromString(tasks[i])) {
              valid.push_back(std::move(own));
            } else {
              malformed[i] = true;
            }
          }
          const std::vector<v1::Evaluation> ran = self->state.evaluator->RunBatch(request, valid);
          size_t next = 0;
          for (size_t i = 0; i < tasks.size(); ++i) {
            evaluations.push_back(malformed[i]
                                      ? Failed("malformed evaluation request").SerializeAsString()
                                      : ran[next++].SerializeAsString());
          }
          return evaluations;
        }
        for (const std::string& task_bytes : tasks) {
          v1::EvalRequest own;
          if (!own.ParseFromString(task_bytes)) {
            evaluations.push_back(Failed("malformed evaluation request").SerializeAsString());
            continue;
          }
          request.set_index(own.index());
          request.mutable_candidate()->Swap(own.mutable_candidate());
          request.set_seed(own.seed());
          request.set_repeat(own.repeat());
          evaluations.push_back(self->state.evaluator->Run(request).SerializeAsString());
        }
        return evaluations;
      },
  };
}

std::vector<worker_actor> SpawnLocalWorkers(caf::actor_system& system,
                                            const dispatcher_actor& dispatcher, int count,
                                            const ProblemRegistry& registry,
                                            const std::string& prefix, bool allow_commands) {
  std::vector<worker_actor> workers;
  for (int i = 0; i < count; ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    auto worker =
        system.spawn<caf::detached>(WorkerBehavior, id, &registry, allow_commands, WorkerDevice{});
    workers.push_back(worker);
    v1::WorkerInfo info;
    info.set_id(id);
    info.set_host("localhost");
    info.set_device("cpu");
    info.set_slots(1);
    info.set_max_batch(kWorkerMaxBatch);
    info.set_allows_commands(allow_commands);
    caf::anon_send(dispatcher, join_atom::value, caf::actor_cast<caf::actor>(worker),
                   info.SerializeAsString());
  }
  return workers;
}

}  // namespace evolv
