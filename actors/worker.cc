#include "actors/worker.h"

#include <chrono>

namespace evolv {
namespace {

constexpr size_t kProblemsKept = 8;

v1::Evaluation Failed(const std::string& error) {
  v1::Evaluation evaluation;
  evaluation.set_status(v1::FAILED);
  evaluation.set_error(error);
  return evaluation;
}

}  // namespace

Evaluator::Evaluator(std::string worker_id, const ProblemRegistry& registry)
    : worker_id_(std::move(worker_id)), registry_(registry) {}

v1::Evaluation Evaluator::Run(const v1::EvalRequest& request) {
  std::shared_ptr<Problem> problem;
  for (auto it = problems_.begin(); it != problems_.end(); ++it) {
    if (it->first == request.job_id()) {
      problem = it->second;
      break;
    }
  }
  if (!problem) {
    auto created = registry_.Create(request.spec());
    if (!created.ok()) return Failed(std::string(created.status().message()));
    problem = std::move(*created);
    problems_.emplace_back(request.job_id(), problem);
    if (problems_.size() > kProblemsKept) problems_.erase(problems_.begin());
  }
  EvalContext context;
  context.seed = request.seed();
  context.repeat = request.repeat();
  const auto start = std::chrono::steady_clock::now();
  v1::Evaluation evaluation = problem->Evaluate(request.candidate(), context);
  evaluation.set_eval_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  evaluation.set_worker(worker_id_);
  return evaluation;
}

worker_actor::behavior_type WorkerBehavior(worker_actor::stateful_pointer<WorkerState> self,
                                           std::string worker_id, const ProblemRegistry* registry) {
  self->state.evaluator = std::make_unique<Evaluator>(std::move(worker_id), *registry);
  return {
      [self](evaluate_atom, const std::string& request_bytes) -> std::string {
        v1::EvalRequest request;
        v1::Evaluation evaluation;
        if (!request.ParseFromString(request_bytes)) {
          evaluation = Failed("malformed evaluation request");
        } else {
          evaluation = self->state.evaluator->Run(request);
        }
        return evaluation.SerializeAsString();
      },
  };
}

std::vector<worker_actor> SpawnLocalWorkers(caf::actor_system& system,
                                            const dispatcher_actor& dispatcher, int count,
                                            const ProblemRegistry& registry,
                                            const std::string& prefix) {
  std::vector<worker_actor> workers;
  for (int i = 0; i < count; ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    auto worker = system.spawn<caf::detached>(WorkerBehavior, id, &registry);
    workers.push_back(worker);
    v1::WorkerInfo info;
    info.set_id(id);
    info.set_host("localhost");
    info.set_device("cpu");
    info.set_slots(1);
    caf::anon_send(dispatcher, join_atom::value, caf::actor_cast<caf::actor>(worker),
                   info.SerializeAsString());
  }
  return workers;
}

}  // namespace evolv
