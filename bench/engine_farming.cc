// Farming overhead: a search (the toy domain, NSGA-II) whose evaluations are `work_ms` of CPU
// work, run (a) as a plain ask/evaluate/tell loop in one thread and (b) through the engine,
// dispatcher and 2 local worker actors with a window of `window` candidates in flight (short
// evaluations go to the workers in batches: docs/adr/0021-batched-dispatch.md). Measures the
// speedup --runs times (default 5) and prints each run and the median and worst against the
// target (bench_target.h): >= 1.9x on 2 cores for 1 ms evaluations, >= 1.8x for 0.1 ms ones;
// exits 1 when the median misses. With work_ms 0 it reports the engine's own cost instead,
// with no target: evaluations per second and wall time per evaluation through the actors, and
// where the time goes: the plain loop (the strategy's own ask and tell), the same engine driven
// in one thread without actors (adds the functional key, cache policy, history rows and
// checkpoints), and the checkpoints alone; the rest of the wall time is the actors' (messages,
// serialization, the dispatcher, the workers' threads).
//
// Every run also prints the CPU time its threads used per evaluation, read from
// /proc/self/task/*/schedstat around the engine run: the worker actors' threads (the evaluation
// and its wrapper), the job's coordinator thread, CAF's scheduler threads (the dispatcher) and
// the rest.
// On 2 cores the speedup is about 2 x (plain loop time) / (sum of these): every microsecond the
// coordinator spends is taken from a worker. These figures vary less between runs than the
// speedup, so they tell whether a change to the engine helped. The idle CPU of the whole machine
// during the engine run (from /proc/stat, in 10 ms ticks) is the rest of the gap to 2x: time in
// which a worker waited for its next batch and nothing else was ready to run.
//
//   build/bench/engine_farming [evaluations=2000] [work_ms=1] [window=64] [--runs N]
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "actors/local_runtime.h"
#include "bench/bench_target.h"
#include "evaluators/registry.h"
#include "search/strategy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

using namespace evolv;

namespace {

v1::JobRecord Job(uint64_t evaluations, double work_ms, uint32_t window) {
  testing::ToyJobOptions options;
  options.id = "farming";
  options.dims = 8;
  options.work_ms = work_ms;
  options.evaluations = evaluations;
  options.window = window;
  options.mode = v1::OFF;
  return testing::ToyJob(options);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// CPU seconds each thread of this process has run, by thread id, with its name.
struct ThreadCpu {
  std::string name;
  double seconds = 0;
};

std::map<std::string, ThreadCpu> ThreadCpuNow() {
  std::map<std::string, ThreadCpu> threads;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return threads;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string base = std::string("/proc/self/task/") + entry->d_name;
    std::ifstream comm(base + "/comm"), schedstat(base + "/schedstat");
    ThreadCpu thread;
    double on_cpu_ns = 0;
    if (!std::getline(comm, thread.name) || !(schedstat >> on_cpu_ns)) continue;
    thread.seconds = on_cpu_ns / 1e9;
    threads[entry->d_name] = thread;
  }
  closedir(dir);
  return threads;
}

// CPU used between two ThreadCpuNow() readings, in four groups: the worker actors (CAF's
// detached threads, "caf.actor"), the job's coordinator (a detached thread it names "evolv.job"),
// CAF's scheduler threads (CAF 0.17 names them "caf.multiplexer"; the dispatcher runs there) and
// every other thread.
struct CpuSplit {
  double workers = 0;
  double coordinator = 0;
  double scheduler = 0;
  double other = 0;
};

CpuSplit CpuBetween(const std::map<std::string, ThreadCpu>& before,
                    const std::map<std::string, ThreadCpu>& after) {
  CpuSplit split;
  for (const auto& [tid, thread] : after) {
    auto earlier = before.find(tid);
    const double used = thread.seconds - (earlier == before.end() ? 0 : earlier->second.seconds);
    if (thread.name == "caf.actor") {
      split.workers += used;
    } else if (thread.name == "evolv.job") {
      split.coordinator += used;
    } else if (thread.name == "caf.multiplexer") {
      split.scheduler += used;
    } else {
      split.other += used;
    }
  }
  return split;
}

// Seconds all CPUs of the machine have been idle (idle and iowait in /proc/stat), and how many
// CPUs it has.
struct IdleCpu {
  double seconds = 0;
  int cpus = 0;
};

IdleCpu IdleCpuNow() {
  IdleCpu idle;
  std::ifstream stat("/proc/stat");
  std::string label;
  unsigned long long user, nice, system, idle_ticks, iowait;
  if (stat >> label >> user >> nice >> system >> idle_ticks >> iowait && label == "cpu") {
    idle.seconds = static_cast<double>(idle_ticks + iowait) / sysconf(_SC_CLK_TCK);
  }
  std::string line;
  while (std::getline(stat, line)) {
    if (line.rfind("cpu", 0) == 0) ++idle.cpus;
  }
  return idle;
}

struct Farming {
  double loop_seconds = 0;
  double farmed_seconds = -1;  // negative when the engine run failed
  CpuSplit cpu;                // of the engine run
  double idle_share = 0;       // of all CPUs' time during the engine run
};

// The engine without actors: Fill, evaluate in this thread, OnResult, checkpoints as the
// coordinator's defaults make them.
struct Alone {
  double seconds = -1;  // negative when it failed
  double checkpoint_seconds = 0;
};

Alone DriveAlone(const v1::JobRecord& job, const ProblemRegistry& registry) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  if (!store.ok()) return {};
  auto created = JobEngine::Create(job, store->get(), registry);
  if (!created.ok()) return {};
  JobEngine& engine = **created;
  const CoordinatorOptions options;
  Alone alone;
  const auto start = std::chrono::steady_clock::now();
  std::vector<EvalTask> pending = engine.Fill();
  for (size_t next = 0; next < pending.size(); ++next) {
    EvalTask task = std::move(pending[next]);
    std::vector<EvalTask> more = engine.OnResult(
        task.index, engine.problem().Evaluate(task.candidate, {task.seed, task.repeat}));
    std::move(more.begin(), more.end(), std::back_inserter(pending));
    if (engine.CheckpointDue(options.checkpoint_every_results, options.checkpoint_every_seconds)) {
      const auto checkpoint_start = std::chrono::steady_clock::now();
      if (!engine.Checkpoint(v1::RUNNING).ok()) return {};
      alone.checkpoint_seconds += Seconds(checkpoint_start);
    }
  }
  if (!engine.Finished() || !engine.Checkpoint(v1::SUCCEEDED).ok()) return {};
  alone.seconds = Seconds(start);
  return alone;
}

// One run: the plain loop, then the engine with 2 local workers.
Farming Farm(const v1::JobRecord& job, const ProblemRegistry& registry, int run) {
  const uint64_t evaluations = job.spec().budget().max_evaluations();
  // (a) the plain loop
  auto problem = registry.Create(job.spec());
  auto strategy = CreateStrategy(job.spec(), **problem);
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < evaluations; ++i) {
    v1::Candidate candidate = (*strategy)->Ask(i);
    (*strategy)->Tell(i, candidate, (*problem)->Evaluate(candidate, {}));
  }
  const double loop_seconds = Seconds(start);

  // (b) the engine with 2 local workers
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(job, store->get(), registry);
  double farmed_seconds;
  CpuSplit cpu;
  double idle_share;
  {
    LocalRuntime runtime(2, registry);
    const auto threads_before = ThreadCpuNow();
    const IdleCpu idle_before = IdleCpuNow();
    start = std::chrono::steady_clock::now();
    auto outcome = runtime.RunJob(std::move(*engine), CoordinatorOptions{}, nullptr, nullptr);
    farmed_seconds = Seconds(start);
    const IdleCpu idle_after = IdleCpuNow();
    cpu = CpuBetween(threads_before, ThreadCpuNow());
    idle_share = (idle_after.seconds - idle_before.seconds) /
                 (std::max(idle_after.cpus, 1) * farmed_seconds);
    if (outcome.state != v1::SUCCEEDED) {
      std::fprintf(stderr, "engine run ended in state %d: %s\n", outcome.state,
                   outcome.error.c_str());
      return {};
    }
  }
  std::printf(
      "run %d: plain loop (1 thread) %.3f s (%.0f evals/s), engine + 2 local workers %.3f s "
      "(%.0f evals/s): speedup %.2fx\n",
      run, loop_seconds, evaluations / loop_seconds, farmed_seconds, evaluations / farmed_seconds,
      loop_seconds / farmed_seconds);
  std::printf(
      "       CPU per evaluation: worker threads %.2f us, coordinator %.2f us, scheduler threads "
      "(dispatcher) %.2f us, other threads %.2f us; plain loop %.2f us; idle CPU %.1f %%\n",
      1e6 * cpu.workers / evaluations, 1e6 * cpu.coordinator / evaluations,
      1e6 * cpu.scheduler / evaluations, 1e6 * cpu.other / evaluations,
      1e6 * loop_seconds / evaluations, 100 * idle_share);
  return {loop_seconds, farmed_seconds, cpu, idle_share};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = bench::TakeRuns(argc, argv);
  const uint64_t evaluations = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000;
  const double work_ms = argc > 2 ? std::atof(argv[2]) : 1.0;
  const uint32_t window = argc > 3 ? static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10)) : 64;
  if (evaluations == 0 || work_ms < 0 || window < 1 || window > 4096) {
    std::fprintf(stderr,
                 "usage: engine_farming [evaluations >= 1] [work_ms >= 0] [window 1..4096] "
                 "[--runs N]\n");
    return 2;
  }
  const v1::JobRecord job = Job(evaluations, work_ms, window);
  const ProblemRegistry& registry = testing::ToyRegistry();
  std::printf("evaluations: %llu of %.2f ms CPU work each, window %u\n",
              static_cast<unsigned long long>(evaluations), work_ms, window);
  std::vector<double> speedups, per_second, engine_us, loop_us, alone_us, checkpoint_us;
  std::vector<double> worker_cpu_us, coordinator_cpu_us, scheduler_cpu_us, idle_percent;
  for (int run = 1; run <= runs; ++run) {
    const Farming farming = Farm(job, registry, run);
    if (farming.farmed_seconds < 0) return 1;
    speedups.push_back(farming.loop_seconds / farming.farmed_seconds);
    per_second.push_back(evaluations / farming.farmed_seconds);
    engine_us.push_back(1e6 * farming.farmed_seconds / evaluations);
    worker_cpu_us.push_back(1e6 * farming.cpu.workers / evaluations);
    coordinator_cpu_us.push_back(1e6 * farming.cpu.coordinator / evaluations);
    scheduler_cpu_us.push_back(1e6 * farming.cpu.scheduler / evaluations);
    idle_percent.push_back(100 * farming.idle_share);
    if (work_ms == 0) {
      const Alone alone = DriveAlone(job, registry);
      if (alone.seconds < 0) {
        std::fprintf(stderr, "the engine without actors failed\n");
        return 1;
      }
      loop_us.push_back(1e6 * farming.loop_seconds / evaluations);
      alone_us.push_back(1e6 * alone.seconds / evaluations);
      checkpoint_us.push_back(1e6 * alone.checkpoint_seconds / evaluations);
    }
  }
  bench::TargetReport report;
  report.Report("CPU of the worker threads per evaluation", worker_cpu_us, " us", false);
  report.Report("CPU of the coordinator's thread per evaluation", coordinator_cpu_us, " us", false);
  report.Report("CPU of the scheduler threads (dispatcher) per evaluation", scheduler_cpu_us, " us",
                false);
  report.Report("idle CPU during the engine run (the machine's, 10 ms ticks)", idle_percent, " %",
                false);
  if (work_ms == 0) {
    // Zero-cost evaluations: what is measured is the engine itself (ask, probe, dispatch, two
    // worker hops, tell, history, checkpoints). No target: the figures are reported.
    report.Report("engine evaluations per second (zero-cost evaluations)", per_second, "/s", true);
    report.Report("engine wall time per evaluation", engine_us, " us", false);
    report.Report("plain loop (the strategy's ask and tell) per evaluation", loop_us, " us", false);
    report.Report("engine without actors, one thread, per evaluation", alone_us, " us", false);
    report.Report("  of which checkpoints", checkpoint_us, " us", false);
  } else {
    // 1 ms evaluations or longer: >= 1.9x; shorter ones (0.1 ms): >= 1.8x.
    const double target = work_ms >= 1.0 ? 1.9 : 1.8;
    report.Check(
        {"speedup of 2 local workers vs plain loop", bench::Compare::kAtLeast, target, "x"},
        speedups);
  }
  return report.ExitStatus();
}
