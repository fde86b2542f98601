#include "actors/dispatcher.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "actors/job_engine.h"
#include "evolv/v1/cluster.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "spdlog/spdlog.h"

namespace evolv {
namespace {

// Where a task's result goes: the promise of an (evaluate) request, or a (tasks) submitter's
// sink with the submitter's token for the task.
struct Reply {
  caf::typed_response_promise<std::string> promise;
  result_sink_actor sink;
  uint64_t token = 0;
};

struct Task {
  std::string job_id;
  // The EvalRequest is *shared + own; tasks submitted together share one copy of the job's
  // fields. An (evaluate) request has no shared part.
  std::shared_ptr<const std::string> shared;
  std::string own;
  std::string domain;
  std::string device;  // the CUDA device it must run on (Problem::RequiredCudaDevice); "": any
  Reply reply;
  uint32_t attempts = 0;
  bool solo = false;  // it was in a batch that failed: from now on it goes alone

  std::string Request() const { return shared ? *shared + own : own; }
};

// Results for sinks, gathered while handling one message and sent as one (results) each.
struct Outbox {
  std::vector<uint64_t> tokens;
  std::vector<std::string> evaluations;
};

struct Worker {
  worker_actor handle;
  v1::WorkerStatus status;
  bool heartbeats = false;  // remote workers send them; stale ones are dropped

  bool Runs(const Task& task, const std::set<std::string>& command_domains) const {
    if (!status.info().allows_commands() && command_domains.count(task.domain)) return false;
    if (!task.device.empty() && task.device != status.info().device_name()) return false;
    const auto& domains = status.info().domains();
    if (domains.empty()) return true;
    for (const auto& d : domains) {
      if (d == task.domain) return true;
    }
    return false;
  }
  bool HasCuda() const { return !status.info().device_name().empty(); }
};

struct JobQueue {
  std::deque<Task> tasks;
  double weight = 1.0;
  uint64_t served = 0;
  // Moving average of the job's evaluation seconds as workers report them; negative until the
  // first result. It sizes batches (BatchSize).
  double eval_seconds = -1;
  bool said_waiting = false;  // logged that no worker has the device its tasks require
};

// One message to a worker: one task, or a batch of one job's tasks.
struct InFlight {
  caf::actor_addr worker;
  std::vector<Task> tasks;
};

struct DispatcherState {
  DispatcherOptions options;
  std::map<caf::actor_addr, Worker> workers;
  std::map<std::string, JobQueue> queues;  // by job id
  std::map<uint64_t, InFlight> in_flight;  // by dispatch number
  uint64_t next_dispatch = 0;
  bool dispatch_sent = false;  // a (dispatch) to itself is in the mailbox
  std::map<result_sink_actor, Outbox> outbox;  // flushed at the end of each handler
};

using Self = dispatcher_actor::stateful_pointer<DispatcherState>;

v1::Evaluation Failure(const std::string& reason) {
  v1::Evaluation evaluation;
  evaluation.set_status(v1::FAILED);
  evaluation.set_error(reason);
  return evaluation;
}

void Dispatch(Self self);

// Answers `task` with Evaluation bytes: now for a promise, at the next Flush for a sink.
void Answer(Self self, Reply& reply, std::string evaluation) {
  if (reply.sink) {
    Outbox& box = self->state.outbox[reply.sink];
    box.tokens.push_back(reply.token);
    box.evaluations.push_back(std::move(evaluation));
  } else {
    reply.promise.deliver(std::move(evaluation));
  }
}

// Sends the gathered results, one (results) message per sink.
void Flush(Self self) {
  for (auto& [sink, box] : self->state.outbox) {
    self->send(sink, results_atom::value, std::move(box.tokens), std::move(box.evaluations));
  }
  self->state.outbox.clear();
}

// The queue furthest behind its fair share with a task `worker` can run and `wanted` accepts.
template <typename Wanted>
JobQueue* NextQueueOf(Self self, const Worker& worker, Wanted wanted) {
  JobQueue* best = nullptr;
  double best_share = std::numeric_limits<double>::infinity();
  for (auto& [job, queue] : self->state.queues) {
    if (queue.tasks.empty() ||
        !worker.Runs(queue.tasks.front(), self->state.options.command_domains) ||
        !wanted(queue.tasks.front()))
      continue;
    const double share = static_cast<double>(queue.served) / queue.weight;
    if (share < best_share) {
      best_share = share;
      best = &queue;
    }
  }
  return best;
}

// Picks the job queue that is furthest behind its fair share and has a task `worker` can run;
// for a worker with a CUDA device, among the queues of tasks that require its device first (no
// other worker can run them), then among those of cuda_domains.
JobQueue* NextQueue(Self self, const Worker& worker) {
  const DispatcherOptions& options = self->state.options;
  if (worker.HasCuda()) {
    auto bound = [](const Task& task) { return !task.device.empty(); };
    if (JobQueue* queue = NextQueueOf(self, worker, bound)) return queue;
    auto prefers = [&](const Task& task) { return options.cuda_domains.count(task.domain) > 0; };
    if (JobQueue* queue = NextQueueOf(self, worker, prefers)) return queue;
  }
  return NextQueueOf(self, worker, [](const Task&) { return true; });
}

// How many of `queue`'s tasks `worker` gets in one message: 1 until the job's evaluation time is
// known, else as many as take about options.batch_seconds, capped by both sides' max_batch and
// by an even share of the queue among the free slots that can run it (so no worker sits idle
// while another holds a long batch).
size_t BatchSize(Self self, const JobQueue& queue, const Worker& worker) {
  const DispatcherOptions& options = self->state.options;
  const uint32_t most = std::min(options.max_batch, worker.status.info().max_batch());
  if (most <= 1 || queue.eval_seconds < 0 || queue.tasks.size() <= 1 || queue.tasks.front().solo) {
    return 1;
  }
  size_t size = most;
  if (queue.eval_seconds > 0) {
    size = std::min<size_t>(size, static_cast<size_t>(options.batch_seconds / queue.eval_seconds));
  }
  uint64_t free_slots = 0;
  for (const auto& [address, other] : self->state.workers) {
    if (other.Runs(queue.tasks.front(), options.command_domains)) {
      free_slots +=
          other.status.info().slots() - std::min(other.status.info().slots(), other.status.busy());
    }
  }
  const size_t share = (queue.tasks.size() + free_slots - 1) / std::max<uint64_t>(free_slots, 1);
  return std::max<size_t>(1, std::min(size, share));
}

// What the dispatcher reads of an Evaluation: its status, eval_seconds and whether a worker is
// named. Read field by field from the bytes, skipping the rest (objectives, metrics, error, the
// refined candidate) without building them: one per result, on the dispatcher's thread.
struct EvaluationTiming {
  v1::EvaluationStatus status = v1::EVALUATION_STATUS_UNSPECIFIED;
  double eval_seconds = 0;
  bool has_worker = false;
};

// False when `bytes` are not a well-formed Evaluation. As protobuf does, a field that occurs
// more than once keeps its last value.
bool ReadTiming(const std::string& bytes, EvaluationTiming* timing) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  while (const uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const WireFormatLite::WireType type = WireFormatLite::GetTagWireType(tag);
    if (field == v1::Evaluation::kStatusFieldNumber && type == WireFormatLite::WIRETYPE_VARINT) {
      uint32_t status = 0;
      if (!in.ReadVarint32(&status)) return false;
      timing->status = static_cast<v1::EvaluationStatus>(status);
    } else if (field == v1::Evaluation::kEvalSecondsFieldNumber &&
               type == WireFormatLite::WIRETYPE_FIXED64) {
      uint64_t raw = 0;
      if (!in.ReadLittleEndian64(&raw)) return false;
      timing->eval_seconds = WireFormatLite::DecodeDouble(raw);
    } else if (field == v1::Evaluation::kWorkerFieldNumber &&
               type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!in.ReadVarint32(&length) || !in.Skip(static_cast<int>(length))) return false;
      timing->has_worker = length > 0;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return in.ConsumedEntireMessage();
}

// Reports a worker's result to options.observe and folds its evaluation time into its job's
// moving average.
void NoteEvalSeconds(Self self, const std::string& job_id, const std::string& evaluation_bytes) {
  EvaluationTiming evaluation;
  if (!ReadTiming(evaluation_bytes, &evaluation)) return;
  if (self->state.options.observe && evaluation.has_worker) {
    self->state.options.observe(evaluation.eval_seconds);
  }
  auto queue = self->state.queues.find(job_id);
  if (queue == self->state.queues.end() || evaluation.status != v1::OK ||
      !(evaluation.eval_seconds >= 0)) {
    return;
  }
  double& average = queue->second.eval_seconds;
  average = average < 0 ? evaluation.eval_seconds : 0.8 * average + 0.2 * evaluation.eval_seconds;
}

// The queue of job `job_id`, made on its first task level with the least-served queue; its
// weight follows the job's latest priority.
JobQueue& QueueOf(Self self, const std::string& job_id, int32_t priority) {
  auto [it, inserted] = self->state.queues.try_emplace(job_id);
  JobQueue& queue = it->second;
  queue.weight = 1.0 + std::max(0, priority);
  if (inserted) {
    double least = std::numeric_limits<double>::infinity();
    for (const auto& [id, other] : self->state.queues) {
      if (&other != &queue) least = std::min(least, other.served / other.weight);
    }
    if (std::isfinite(least)) queue.served = static_cast<uint64_t>(least * queue.weight);
  }
  return queue;
}

// Logs once per job when no joined worker can run the task at the head of `queue` because it
// requires a CUDA device that none has: the job then waits for such a worker to join.
void SayIfNoWorkerRuns(Self self, JobQueue& queue) {
  const Task& task = queue.tasks.front();
  if (task.device.empty() || queue.said_waiting) return;
  for (const auto& [address, worker] : self->state.workers) {
    if (worker.Runs(task, self->state.options.command_domains)) return;
  }
  queue.said_waiting = true;
  spdlog::warn(
      "dispatcher: job {} waits: its evaluations must run on CUDA device \"{}\", and no worker "
      "on it has joined (evolv-worker --device cuda:K on a machine with that GPU)",
      task.job_id, task.device);
}

// Queues a (dispatch) to itself unless one is in the mailbox already: requests that arrive
// together are queued before any is handed out.
void ScheduleDispatch(Self self) {
  if (self->state.dispatch_sent) return;
  self->state.dispatch_sent = true;
  self->send(self, dispatch_atom::value);
}

// Retries `task` (at the head of its queue) or, after max_attempts, answers it as failed.
void Retry(Self self, Task task, const std::string& reason) {
  ++task.attempts;
  if (task.attempts >= self->state.options.max_attempts) {
    spdlog::warn("dispatcher: a task of job {} failed {} times ({}); recorded as failed",
                 task.job_id, task.attempts, reason);
    Answer(self, task.reply,
           Failure("evaluation failed " + std::to_string(task.attempts) + " times; last: " + reason)
               .SerializeAsString());
    return;
  }
  spdlog::info("dispatcher: re-queueing a task of job {} ({})", task.job_id, reason);
  self->state.queues[task.job_id].tasks.push_front(std::move(task));
}

// Takes dispatch `id` out of flight; false when it was already re-queued (a late answer).
bool Land(Self self, uint64_t id, InFlight* landed) {
  auto it = self->state.in_flight.find(id);
  if (it == self->state.in_flight.end()) return false;
  *landed = std::move(it->second);
  self->state.in_flight.erase(it);
  auto worker = self->state.workers.find(landed->worker);
  if (worker != self->state.workers.end()) {
    worker->second.status.set_busy(worker->second.status.busy() - 1);
  }
  return true;
}

// Retries the task of a failed dispatch, or re-queues the tasks of a failed batch (in order, at
// the head of their queues) to go one by one, with no attempt counted: which of them made the
// batch fail (a timeout, a crash) is not known, and the others are not at fault.
void RetryAll(Self self, InFlight landed, const std::string& reason) {
  if (landed.tasks.size() == 1) {
    Retry(self, std::move(landed.tasks.front()), reason);
    return;
  }
  spdlog::info("dispatcher: re-queueing a batch of {} tasks one by one ({})", landed.tasks.size(),
               reason);
  for (auto task = landed.tasks.rbegin(); task != landed.tasks.rend(); ++task) {
    task->solo = true;
    self->state.queues[task->job_id].tasks.push_front(std::move(*task));
  }
}

// Answers the tasks of dispatch `id` with `results` (one Evaluation's bytes each, in order).
void Deliver(Self self, uint64_t id, std::vector<std::string> results) {
  InFlight landed;
  if (!Land(self, id, &landed)) return;
  if (results.size() != landed.tasks.size()) {
    RetryAll(self, std::move(landed),
             "the worker answered " + std::to_string(results.size()) + " evaluations for " +
                 std::to_string(landed.tasks.size()));
    Dispatch(self);
    return;
  }
  auto worker = self->state.workers.find(landed.worker);
  if (worker != self->state.workers.end()) {
    auto& status = worker->second.status;
    status.set_evaluations(status.evaluations() + results.size());
    status.set_last_seen_unix_ms(NowUnixMs());
  }
  // A batch's tasks answer one sink: its outbox takes them all without growing step by step.
  if (!landed.tasks.empty() && landed.tasks.front().reply.sink) {
    Outbox& box = self->state.outbox[landed.tasks.front().reply.sink];
    box.tokens.reserve(box.tokens.size() + results.size());
    box.evaluations.reserve(box.evaluations.size() + results.size());
  }
  for (size_t i = 0; i < results.size(); ++i) {
    NoteEvalSeconds(self, landed.tasks[i].job_id, results[i]);
    Answer(self, landed.tasks[i].reply, std::move(results[i]));
  }
  Dispatch(self);
}

void Run(Self self, Worker& worker, std::vector<Task> tasks) {
  worker.status.set_busy(worker.status.busy() + 1);
  const uint64_t id = self->state.next_dispatch++;
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(
      self->state.options.task_timeout_seconds * 1000 * static_cast<double>(tasks.size())));
  auto failed = [self, id](caf::error& error) {
    InFlight landed;
    if (!Land(self, id, &landed)) return;
    RetryAll(self, std::move(landed), self->system().render(error));
    Dispatch(self);
    Flush(self);
  };
  if (tasks.size() == 1) {
    std::string request = tasks.front().Request();
    self->state.in_flight[id] = InFlight{worker.handle.address(), std::move(tasks)};
    self->request(worker.handle, timeout, evaluate_atom::value, std::move(request))
        .then(
            [self, id](std::string& result) {
              std::vector<std::string> results;
              results.push_back(std::move(result));
              Deliver(self, id, std::move(results));
              Flush(self);
            },
            failed);
    return;
  }
  // One job's tasks (Dispatch keeps tasks with another shared part out of the batch).
  std::string shared = tasks.front().shared ? *tasks.front().shared : std::string();
  std::vector<std::string> own;
  own.reserve(tasks.size());
  for (const Task& task : tasks) own.push_back(task.own);
  self->state.in_flight[id] = InFlight{worker.handle.address(), std::move(tasks)};
  self->request(worker.handle, timeout, evaluate_batch_atom::value, std::move(shared),
                std::move(own))
      .then(
          [self, id](std::vector<std::string>& results) {
            Deliver(self, id, std::move(results));
            Flush(self);
          },
          failed);
}

// Gives `worker` tasks until its slots are full or nothing it can run is queued.
void FillSlots(Self self, Worker& worker) {
  while (worker.status.busy() < worker.status.info().slots()) {
    JobQueue* queue = NextQueue(self, worker);
    if (queue == nullptr) break;
    const size_t size = BatchSize(self, *queue, worker);
    std::vector<Task> tasks;
    while (tasks.size() < size && !queue->tasks.empty() &&
           (tasks.empty() ||
            (!queue->tasks.front().solo && queue->tasks.front().shared == tasks.front().shared))) {
      tasks.push_back(std::move(queue->tasks.front()));
      queue->tasks.pop_front();
    }
    queue->served += tasks.size();
    Run(self, worker, std::move(tasks));
  }
}

void Dispatch(Self self) {
  // Workers with a CUDA device first: they take the device domains' tasks before others may.
  for (const bool cuda : {true, false}) {
    for (auto& [address, worker] : self->state.workers) {
      if (worker.HasCuda() == cuda) FillSlots(self, worker);
    }
  }
}

// Forgets a worker and re-queues everything it was running.
void DropWorker(Self self, const caf::actor_addr& address, const std::string& reason) {
  auto it = self->state.workers.find(address);
  if (it == self->state.workers.end()) return;
  spdlog::log(reason == "shutdown" ? spdlog::level::debug : spdlog::level::warn,
              "dispatcher: worker {} is gone ({}); its tasks are re-queued",
              it->second.status.info().id(), reason);
  self->state.workers.erase(it);
  for (auto flight = self->state.in_flight.begin(); flight != self->state.in_flight.end();) {
    if (flight->second.worker == address) {
      std::vector<Task> tasks = std::move(flight->second.tasks);
      flight = self->state.in_flight.erase(flight);
      // A lost worker is not the tasks' fault: no attempt is counted.
      for (auto task = tasks.rbegin(); task != tasks.rend(); ++task) {
        self->state.queues[task->job_id].tasks.push_front(std::move(*task));
      }
    } else {
      ++flight;
    }
  }
  Dispatch(self);
}

dispatcher_actor::behavior_type DispatcherBehavior(Self self, DispatcherOptions options) {
  self->state.options = options;
  self->set_down_handler([self](caf::down_msg& down) {
    const bool shutdown = down.reason == caf::exit_reason::user_shutdown;
    DropWorker(self, down.source, shutdown ? "shutdown" : self->system().render(down.reason));
  });
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  return {
      [self](join_atom, const caf::actor& handle, const std::string& info_bytes) {
        const auto worker = caf::actor_cast<worker_actor>(handle);
        if (!worker || self->state.workers.count(worker.address()) > 0) return;
        Worker entry;
        entry.handle = worker;
        if (!entry.status.mutable_info()->ParseFromString(info_bytes) ||
            entry.status.info().slots() == 0) {
          spdlog::warn("dispatcher: refusing a worker with a malformed or empty offer");
          return;
        }
        entry.status.set_last_seen_unix_ms(NowUnixMs());
        spdlog::info("dispatcher: worker {} joined ({} slots, {}, {})", entry.status.info().id(),
                     entry.status.info().slots(), entry.status.info().device(),
                     entry.status.info().host());
        self->monitor(worker);
        self->state.workers[worker.address()] = std::move(entry);
        Dispatch(self);
      },
      [self](heartbeat_atom, const caf::actor& handle) {
        auto it = self->state.workers.find(handle.address());
        if (it == self->state.workers.end()) return;
        it->second.heartbeats = true;
        it->second.status.set_last_seen_unix_ms(NowUnixMs());
      },
      [self](tick_atom) {
        const int64_t now = NowUnixMs();
        const auto stale_ms = static_cast<int64_t>(self->state.options.stale_after_seconds * 1000);
        std::vector<caf::actor_addr> stale;
        for (const auto& [address, worker] : self->state.workers) {
          if (worker.heartbeats && now - worker.status.last_seen_unix_ms() > stale_ms) {
            stale.push_back(address);
          }
        }
        for (const auto& address : stale) DropWorker(self, address, "missed heartbeats");
        self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
      },
      [self](evaluate_atom, const std::string& request_bytes) -> caf::result<std::string> {
        v1::EvalRequest request;
        if (!request.ParseFromString(request_bytes)) {
          return Failure("malformed evaluation request").SerializeAsString();
        }
        JobQueue& queue = QueueOf(self, request.job_id(), request.priority());
        if (queue.tasks.size() >= self->state.options.max_queued) {
          return Failure("dispatcher queue full for job " + request.job_id()).SerializeAsString();
        }
        auto promise = self->make_response_promise<std::string>();
        Task task;
        task.job_id = request.job_id();
        task.own = request_bytes;
        task.domain = request.domain();
        task.reply.promise = promise;
        queue.tasks.push_back(std::move(task));
        ScheduleDispatch(self);
        return promise;
      },
      [self](tasks_atom, const caf::actor& sink_handle, const std::string& job_id,
             const std::string& domain, const std::string& device, int32_t priority,
             std::string& shared_bytes, const std::vector<uint64_t>& tokens,
             std::vector<std::string>& own) {
        const auto sink = caf::actor_cast<result_sink_actor>(sink_handle);
        if (!sink) return;
        if (tokens.size() != own.size()) {
          spdlog::error("dispatcher: job {} sent {} tasks with {} tokens; answered as failed",
                        job_id, own.size(), tokens.size());
          for (uint64_t token : tokens) {
            Reply reply{{}, sink, token};
            Answer(self, reply, Failure("malformed task batch").SerializeAsString());
          }
          Flush(self);
          return;
        }
        JobQueue& queue = QueueOf(self, job_id, priority);
        auto shared = std::make_shared<const std::string>(std::move(shared_bytes));
        for (size_t i = 0; i < own.size(); ++i) {
          Task task;
          task.reply.sink = sink;
          task.reply.token = tokens[i];
          if (queue.tasks.size() >= self->state.options.max_queued) {
            Answer(self, task.reply,
                   Failure("dispatcher queue full for job " + job_id).SerializeAsString());
            continue;
          }
          task.job_id = job_id;
          task.shared = shared;
          task.own = std::move(own[i]);
          task.domain = domain;
          task.device = device;
          queue.tasks.push_back(std::move(task));
        }
        if (!queue.tasks.empty()) SayIfNoWorkerRuns(self, queue);
        Flush(self);
        ScheduleDispatch(self);
      },
      [self](dispatch_atom) {
        self->state.dispatch_sent = false;
        Dispatch(self);
      },
      [self](queue_atom) -> uint64_t {
        uint64_t queued = 0;
        for (const auto& [job, queue] : self->state.queues) queued += queue.tasks.size();
        return queued;
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
