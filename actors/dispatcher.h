// The dispatcher: one per process. It queues evaluations per job, hands them to free worker
// slots, and returns each result to whoever asked.
//
// Two ways in: (evaluate, request) answers one evaluation per request; (tasks, sink, ...) takes
// one job's tasks in one message and sends their results to the sink as (results, ...), those
// that land together in one message. Coordinators use the second: a short evaluation then costs
// no message of its own anywhere between the coordinator and the worker
// (docs/adr/0021-batched-dispatch.md).
//
// Fair share: among jobs with queued work, the next task goes to the job with the least
// (tasks served / weight), weight = 1 + max(priority, 0), so a job of priority 3 gets four times
// the evaluations of a job of priority 0 while both have work queued. A new job starts level with
// the least-served one.
// Capabilities: a task goes only to a worker whose WorkerInfo.domains is empty or names the
// task's domain, and a task of a domain that runs user commands (command_domains) only to a
// worker that allows them (WorkerInfo.allows_commands).
// Devices: workers with a CUDA device (WorkerInfo.device_name set) are served first. They take
// the tasks that require their device first, then those of domains whose evaluators have a device
// path (cuda_domains), then others; other workers take cuda_domains' tasks only while every CUDA
// worker that could run them is busy. A job whose problem requires a device
// (Problem::RequiredCudaDevice, e.g. runtimes measured on one GPU model) has its tasks sent only
// to workers whose device_name is that device; they wait, logged once, while none has joined.
// Batches: a worker that offers WorkerInfo.max_batch > 1 is sent up to that many of one job's
// tasks in one message (evaluate_batch) once the job's evaluation time is known: as many as take
// about `batch_seconds`, at most `max_batch`, and no more than an even share of the job's queue
// among the free slots that can run it. Long evaluations go one per message; short ones no longer
// pay a message round trip each. A batch's results reach its coordinator in one message, and the
// window (at most W evaluations in flight per job) bounds a batch, so what a crash loses is
// unchanged: the evaluations in flight, redone after resume.
// Backpressure: at most `max_queued` tasks wait per job; beyond that a request is answered at
// once with a FAILED evaluation ("queue full"). Coordinators never exceed their window, so this
// only trips on misbehaving clients.
// Failures: every worker is monitored (CAF monitors; remote workers also send heartbeats). When a
// worker goes down, disconnects, or misses heartbeats for `stale_after_seconds`, its tasks in
// flight go back to the head of their job's queue at once, and late answers from it are ignored.
// A task that fails or exceeds `task_timeout_seconds` is retried up to `max_attempts` times in
// all, then answered with a FAILED evaluation naming the reason; nothing is dropped silently. A
// batch has its size times that limit; when it fails, its tasks go back to the head of their queue
// to be sent one by one, with no attempt counted (which of them failed it is not known).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "actors/protocol.h"

namespace evolv {

struct DispatcherOptions {
  uint32_t max_attempts = 3;
  double task_timeout_seconds = 600;
  double stale_after_seconds = 15;
  size_t max_queued = 100000;
  uint32_t max_batch = 64;      // tasks per message to one worker, at most (1: no batches)
  double batch_seconds = 0.02;  // a batch's expected evaluation time, at most
  // Domains whose evaluations run user commands (ProblemRegistry::RunsCommands): their tasks go
  // only to workers whose WorkerInfo.allows_commands is set.
  std::set<std::string> command_domains;
  // Domains whose evaluators have a CUDA path (ProblemRegistry::CudaDomains): their tasks go to
  // workers with a CUDA device first.
  std::set<std::string> cuda_domains;
  // Called on the dispatcher's thread with each worker-run evaluation's seconds (for metrics).
  std::function<void(double)> observe;
};

dispatcher_actor SpawnDispatcher(caf::actor_system& system, DispatcherOptions options = {});

}  // namespace evolv
