// The cluster link over loopback:
//  1. dispatch overhead: round trip of an empty evaluation coordinator -> dispatcher -> remote
//     worker (another actor system, over CAF's middleman on TCP) -> back, one at a time (p50 and
//     p99 reported, no target), and the cost per evaluation when 64 are sent at once (they go to
//     the worker in batches; target <= 20 us); both also with a local worker thread instead, to
//     show what the link costs;
//  2. throughput with 1 vs 2 remote worker processes (one slot each) on 5 ms evaluations
//     (target >= 1.8x).
// Both are measured --runs times (default 5); each run is printed, then the median and worst
// against each target (bench_target.h); exits 1 when a median misses.
//
//   build/bench/cluster_dispatch [round_trips=2000] [evaluations=400] [work_ms=5] [--runs N]
// (The binary re-executes itself as the worker processes: cluster_dispatch --worker PORT.)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <utility>
#include <vector>

#include "actors/local_runtime.h"
#include "bench/bench_target.h"
#include "evolv/v1/cluster.pb.h"
#include "spdlog/spdlog.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

using namespace evolv;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kSecret[] = "bench secret";

v1::JobSpec ToySpec(double work_ms, uint64_t evaluations) {
  testing::ToyJobOptions options;
  options.work_ms = work_ms;
  options.evaluations = evaluations;
  options.window = 16;
  options.mode = v1::OFF;
  return testing::ToyJob(options).spec();
}

int WorkerMain(int port) {
  caf::actor_system_config config;
  ConfigureActorSystem(config, {});
  caf::actor_system system{config};
  WorkerNodeOptions options;
  options.port = static_cast<uint16_t>(port);
  options.secret = kSecret;
  std::atomic<bool> stop{false};
  return RunWorkerNode(system, options, testing::ToyRegistry(), stop);
}

// Waits until the dispatcher lists `n` workers.
void AwaitWorkers(LocalRuntime& runtime, size_t n) {
  caf::scoped_actor self{runtime.system()};
  for (int i = 0; i < 1000; ++i) {
    size_t count = 0;
    self->request(runtime.dispatcher(), caf::infinite, workers_atom::value)
        .receive([&](const std::vector<std::string>& workers) { count = workers.size(); },
                 [](caf::error&) {});
    if (count >= n) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "workers did not join\n");
  std::exit(1);
}

std::vector<std::unique_ptr<Subprocess>> StartWorkers(const char* self_path, int n, uint16_t port,
                                                      const TempDir& dir) {
  std::vector<std::unique_ptr<Subprocess>> workers;
  for (int i = 0; i < n; ++i) {
    workers.push_back(std::make_unique<Subprocess>(
        std::vector<std::string>{self_path, "--worker", std::to_string(port)},
        dir.Sub("w" + std::to_string(i) + ".out"), dir.Sub("w" + std::to_string(i) + ".err")));
  }
  return workers;
}

struct RoundTrip {
  double p50, p99;  // microseconds
  double batched;   // microseconds per evaluation, 64 sent at once (median over the rounds)
};

constexpr int kBatch = 64;

// Round trips through `runtime`'s dispatcher to its one worker (already joined).
RoundTrip RoundTripMicros(LocalRuntime& runtime, int round_trips) {
  v1::EvalRequest request;
  request.set_job_id("bench");
  request.set_domain("toy");
  *request.mutable_spec() = ToySpec(0, 1);
  test::ToyVector one;
  one.add_x(1.0);
  *request.mutable_candidate() = PackCandidate(one);
  const std::string bytes = request.SerializeAsString();
  caf::scoped_actor self{runtime.system()};
  std::vector<double> micros;
  for (int i = 0; i < round_trips + 100; ++i) {
    const auto start = Clock::now();
    self->request(runtime.dispatcher(), caf::infinite, evaluate_atom::value, bytes)
        .receive([](const std::string&) {}, [](caf::error&) {});
    if (i >= 100) {  // warm-up excluded
      micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
  }
  std::sort(micros.begin(), micros.end());
  RoundTrip trip{micros[micros.size() / 2], micros[micros.size() * 99 / 100], 0};
  // 64 empty evaluations sent at once, as a coordinator with a window of 64 does: the dispatcher
  // sends them to the worker in batches (docs/adr/0021-batched-dispatch.md).
  std::vector<double> per_evaluation;
  const int rounds = std::max(10, round_trips / kBatch);
  for (int round = 0; round < rounds + 5; ++round) {
    const auto start = Clock::now();
    std::vector<decltype(self->request(runtime.dispatcher(), caf::infinite, evaluate_atom::value,
                                       bytes))>
        pending;
    for (int k = 0; k < kBatch; ++k) {
      pending.push_back(
          self->request(runtime.dispatcher(), caf::infinite, evaluate_atom::value, bytes));
    }
    for (auto& response : pending) response.receive([](const std::string&) {}, [](caf::error&) {});
    if (round >= 5) {  // warm-up excluded
      per_evaluation.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kBatch);
    }
  }
  std::sort(per_evaluation.begin(), per_evaluation.end());
  trip.batched = per_evaluation[per_evaluation.size() / 2];
  return trip;
}

// The same with one remote worker process (over CAF's middleman on loopback TCP) and with one
// local worker thread in this process: the difference is what the link costs.
std::pair<RoundTrip, RoundTrip> RemoteAndLocalRoundTrips(const char* self_path, int round_trips) {
  TempDir dir;
  RoundTrip remote, local;
  {
    LocalRuntime runtime(0, testing::ToyRegistry());
    ClusterServerOptions cluster;
    cluster.secret = kSecret;
    const uint16_t port = *runtime.OpenClusterPort(cluster);
    auto workers = StartWorkers(self_path, 1, port, dir);
    AwaitWorkers(runtime, 1);
    remote = RoundTripMicros(runtime, round_trips);
  }
  {
    LocalRuntime runtime(1, testing::ToyRegistry());
    AwaitWorkers(runtime, 1);
    local = RoundTripMicros(runtime, round_trips);
  }
  return {remote, local};
}

double JobSeconds(const char* self_path, int workers_n, uint64_t evaluations, double work_ms) {
  TempDir dir;
  auto store = Store::Open(dir.Sub("store"));
  v1::JobRecord job;
  job.set_id("throughput");
  job.set_state(v1::RUNNING);
  *job.mutable_spec() = ToySpec(work_ms, evaluations);
  auto engine = JobEngine::Create(job, store->get(), testing::ToyRegistry());
  LocalRuntime runtime(0, testing::ToyRegistry());
  ClusterServerOptions cluster;
  cluster.secret = kSecret;
  const uint16_t port = *runtime.OpenClusterPort(cluster);
  auto workers = StartWorkers(self_path, workers_n, port, dir);
  AwaitWorkers(runtime, workers_n);
  const auto start = Clock::now();
  runtime.RunJob(std::move(*engine), CoordinatorOptions{}, nullptr, nullptr);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--worker") return WorkerMain(std::atoi(argv[2]));
  spdlog::set_level(spdlog::level::warn);
  const int runs = bench::TakeRuns(argc, argv);
  const int round_trips = argc > 1 ? std::atoi(argv[1]) : 2000;
  const uint64_t evaluations = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 400;
  const double work_ms = argc > 3 ? std::atof(argv[3]) : 5.0;
  char self_path[4096];
  const ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
  self_path[n > 0 ? n : 0] = 0;

  std::printf(
      "each run: %d empty-evaluation round trips over loopback; %llu evaluations of %.1f ms "
      "CPU on 1 and on 2 remote workers\n",
      round_trips, static_cast<unsigned long long>(evaluations), work_ms);
  std::vector<double> p50s, p99s, batched, speedups;
  for (int run = 1; run <= runs; ++run) {
    const auto [trip, local] = RemoteAndLocalRoundTrips(self_path, round_trips);
    const double one = JobSeconds(self_path, 1, evaluations, work_ms);
    const double two = JobSeconds(self_path, 2, evaluations, work_ms);
    std::printf(
        "run %d: round trip p50 %.0f us, p99 %.0f us (local worker thread: %.0f / %.0f us); %d at "
        "once: %.1f us each (local: %.1f); 1 remote worker %.2f s (%.0f evals/s), "
        "2 remote workers %.2f s (%.0f evals/s): speedup %.2fx\n",
        run, trip.p50, trip.p99, local.p50, local.p99, kBatch, trip.batched, local.batched, one,
        evaluations / one, two, evaluations / two, one / two);
    p50s.push_back(trip.p50);
    p99s.push_back(trip.p99);
    batched.push_back(trip.batched);
    speedups.push_back(one / two);
  }
  bench::TargetReport report;
  // One empty evaluation at a time is reported, not targeted: the target is met by the batched
  // path (<= 20 us per evaluation at 64), which is what a coordinator with a window of 64 uses.
  report.Report("dispatch round trip p50, one at a time", p50s, " us", false);
  report.Report("dispatch round trip p99, one at a time", p99s, " us", false);
  report.Check({"dispatch cost per evaluation, 64 at once", bench::Compare::kAtMost, 20, " us"},
               batched);
  report.Check({"speedup of 2 vs 1 remote workers", bench::Compare::kAtLeast, 1.8, "x"}, speedups);
  return report.ExitStatus();
}
