// Farming overhead: a search whose evaluations are 1 ms of CPU work, run (a) as a plain
// ask/evaluate/tell loop in one thread and (b) through the engine, dispatcher and 2 local worker
// actors. Measures the speedup (target >= 1.8x on 2 cores) --runs times (default 5) and prints
// each run and the median and worst against the target (bench_target.h); exits 1 when the median
// misses.
//
//   build/bench/engine_farming [evaluations=2000] [work_ms=1] [--runs N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "actors/local_runtime.h"
#include "bench/bench_target.h"
#include "evaluators/registry.h"
#include "search/strategy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

using namespace evolv;

namespace {

v1::JobRecord Job(uint64_t evaluations, double work_ms) {
  testing::ToyJobOptions options;
  options.id = "farming";
  options.dims = 8;
  options.work_ms = work_ms;
  options.evaluations = evaluations;
  options.window = 16;
  options.mode = v1::OFF;
  return testing::ToyJob(options);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// One run: the plain loop, then the engine with 2 local workers. Returns the speedup, or a
// negative number (after printing why) when the engine run fails.
double FarmingSpeedup(const v1::JobRecord& job, const ProblemRegistry& registry, int run) {
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
  {
    LocalRuntime runtime(2, registry);
    start = std::chrono::steady_clock::now();
    auto outcome = runtime.RunJob(std::move(*engine), CoordinatorOptions{}, nullptr, nullptr);
    farmed_seconds = Seconds(start);
    if (outcome.state != v1::SUCCEEDED) {
      std::fprintf(stderr, "engine run ended in state %d: %s\n", outcome.state,
                   outcome.error.c_str());
      return -1;
    }
  }
  std::printf(
      "run %d: plain loop (1 thread) %.3f s (%.0f evals/s), engine + 2 local workers %.3f s "
      "(%.0f evals/s): speedup %.2fx\n",
      run, loop_seconds, evaluations / loop_seconds, farmed_seconds, evaluations / farmed_seconds,
      loop_seconds / farmed_seconds);
  return loop_seconds / farmed_seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = bench::TakeRuns(argc, argv);
  const uint64_t evaluations = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000;
  const double work_ms = argc > 2 ? std::atof(argv[2]) : 1.0;
  const v1::JobRecord job = Job(evaluations, work_ms);
  const ProblemRegistry& registry = testing::ToyRegistry();
  std::printf("evaluations: %llu of %.2f ms CPU work each\n",
              static_cast<unsigned long long>(evaluations), work_ms);
  std::vector<double> speedups;
  for (int run = 1; run <= runs; ++run) {
    const double speedup = FarmingSpeedup(job, registry, run);
    if (speedup < 0) return 1;
    speedups.push_back(speedup);
  }
  bench::TargetReport report;
  report.Check({"speedup of 2 local workers vs plain loop", bench::Compare::kAtLeast, 1.8, "x"},
               speedups);
  return report.ExitStatus();
}
