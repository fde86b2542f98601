#include "actors/dispatcher.h"

#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <vector>

#include "actors/job_engine.h"
#include "evolv/v1/cluster.pb.h"
#include "spdlog/spdlog.h"

namespace evolv {
namespace {

struct Task {
  std::string request;  // EvalRequest bytes
  std::string domain;
  caf::typed_response_promise<std::string> promise;
  uint32_t attempts = 0;
};

struct Worker {
  worker_actor handle;
  v1::WorkerStatus status;

  bool Runs(const std::string& domain) const {
    const auto& domains = status.info().domains();
    if (domains.empty()) return true;
    for (const auto& d : domains) {
      if (d == domain) return true;
    }
    return false;
  }
};

struct JobQueue {
  std::deque<Task> tasks;
  double weight = 1.0;
  uint64_t served = 0;
};

struct DispatcherState {
  DispatcherOptions options;
  std::map<caf::actor_addr, Worker> workers;
  std::map<std::string, JobQueue> queues;  // by job id
};

using Self = dispatcher_actor::stateful_pointer<DispatcherState>;

v1::Evaluation Failure(const std::string& reason) {
  v1::Evaluation evaluation;
  evaluation.set_status(v1::FAILED);
  evaluation.set_error(reason);
  return evaluation;
}

void Dispatch(Self self);

// Picks the job queue that is furthest behind its fair share and has a task `worker` can run.
std::pair<const std::string, JobQueue>* NextQueue(Self self, const Worker& worker) {
  std::pair<const std::string, JobQueue>* best = nullptr;
  double best_share = std::numeric_limits<double>::infinity();
  for (auto& entry : self->state.queues) {
    const JobQueue& queue = entry.second;
    if (queue.tasks.empty() || !worker.Runs(queue.tasks.front().domain)) continue;
    const double share = static_cast<double>(queue.served) / queue.weight;
    if (share < best_share) {
      best_share = share;
      best = &entry;
    }
  }
  return best;
}

void Run(Self self, Worker& worker, const std::string& job_id, Task task) {
  worker.status.set_busy(worker.status.busy() + 1);
  const caf::actor_addr address = worker.handle.address();
  const std::string request = task.request;
  self->request(worker.handle, caf::infinite, evaluate_atom::value, request)
      .then(
          [self, address, task](const std::string& result) mutable {
            auto it = self->state.workers.find(address);
            if (it != self->state.workers.end()) {
              it->second.status.set_busy(it->second.status.busy() - 1);
              it->second.status.set_evaluations(it->second.status.evaluations() + 1);
              it->second.status.set_last_seen_unix_ms(NowUnixMs());
            }
            task.promise.deliver(result);
            Dispatch(self);
          },
          [self, address, job_id, task](caf::error& error) mutable {
            auto it = self->state.workers.find(address);
            if (it != self->state.workers.end()) {
              it->second.status.set_busy(it->second.status.busy() - 1);
            }
            ++task.attempts;
            const std::string reason = self->system().render(error);
            if (task.attempts >= self->state.options.max_attempts) {
              spdlog::warn("dispatcher: task of job {} failed {} times ({}); giving up", job_id,
                           task.attempts, reason);
              task.promise.deliver(
                  Failure("evaluation failed " + std::to_string(task.attempts) +
                          " times; last: " + reason)
                      .SerializeAsString());
            } else {
              spdlog::info("dispatcher: re-queueing a task of job {} ({})", job_id, reason);
              self->state.queues[job_id].tasks.push_front(std::move(task));
            }
            Dispatch(self);
          });
}

void Dispatch(Self self) {
  for (auto& [address, worker] : self->state.workers) {
    while (worker.status.busy() < worker.status.info().slots()) {
      auto* entry = NextQueue(self, worker);
      if (entry == nullptr) break;
      JobQueue& queue = entry->second;
      Task task = std::move(queue.tasks.front());
      queue.tasks.pop_front();
      ++queue.served;
      Run(self, worker, entry->first, std::move(task));
    }
  }
}

dispatcher_actor::behavior_type DispatcherBehavior(Self self, DispatcherOptions options) {
  self->state.options = options;
  self->set_down_handler([self](caf::down_msg& down) {
    auto it = self->state.workers.find(down.source);
    if (it == self->state.workers.end()) return;
    const bool shutdown = down.reason == caf::exit_reason::user_shutdown;
    spdlog::log(shutdown ? spdlog::level::debug : spdlog::level::warn,
                "dispatcher: worker {} is down ({}); its tasks are re-queued",
                it->second.status.info().id(), self->system().render(down.reason));
    self->state.workers.erase(it);
    // Pending requests to it fail and re-queue themselves (see Run).
  });
  return {
      [self](join_atom, const worker_actor& worker, const std::string& info_bytes) {
        Worker entry;
        entry.handle = worker;
        if (!entry.status.mutable_info()->ParseFromString(info_bytes) ||
            entry.status.info().slots() == 0) {
          spdlog::warn("dispatcher: refusing a worker with a malformed or empty offer");
          return;
        }
        entry.status.set_last_seen_unix_ms(NowUnixMs());
        spdlog::info("dispatcher: worker {} joined ({} slots, {})", entry.status.info().id(),
                     entry.status.info().slots(), entry.status.info().device());
        self->monitor(worker);
        self->state.workers[worker.address()] = std::move(entry);
        Dispatch(self);
      },
      [self](evaluate_atom, const std::string& request_bytes) -> caf::result<std::string> {
        v1::EvalRequest request;
        if (!request.ParseFromString(request_bytes)) {
          return Failure("malformed evaluation request").SerializeAsString();
        }
        auto promise = self->make_response_promise<std::string>();
        auto [it, inserted] = self->state.queues.try_emplace(request.job_id());
        JobQueue& queue = it->second;
        queue.weight = 1.0 + std::max(0, request.priority());
        if (inserted) {
          // A new job starts level with the least-served job, not ahead of everyone.
          double least = std::numeric_limits<double>::infinity();
          for (const auto& [id, other] : self->state.queues) {
            if (&other != &queue) least = std::min(least, other.served / other.weight);
          }
          if (std::isfinite(least)) queue.served = static_cast<uint64_t>(least * queue.weight);
        }
        Task task;
        task.request = request_bytes;
        task.domain = request.domain();
        task.promise = promise;
        queue.tasks.push_back(std::move(task));
        Dispatch(self);
        return promise;
      },
      [self](workers_atom) -> std::vector<std::string> {
        std::vector<std::string> out;
        for (const auto& [address, worker] : self->state.workers) {
          out.push_back(worker.status.SerializeAsString());
        }
        return out;
      },
  };
}

}  // namespace

dispatcher_actor SpawnDispatcher(caf::actor_system& system, DispatcherOptions options) {
  return system.spawn(DispatcherBehavior, options);
}

}  // namespace evolv
