// Cache correctness, measured: the same searches run in COUNTERFACTUAL mode (every candidate is
// evaluated even when its key is cached, and compared with the cached row under the domain's
// contract, Problem::CompareHit) and in CACHE mode (hit rate). Exits 1 when any run has a
// collision beyond its domain's contract.
//   cache_contract [evaluations=3000] [workers=1]
// Runs: exp2 on [0, 1], REAL, max_ops 10, NSGA-II 40+40, seed 1 (the run of the cache-correctness
// issue); the same in FLOAT32; and a Learning-to-Relax solver job (shifted Laplacian, all three
// policies, 2 trials), whose picks are hits on the fixed-omega comparators.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "actors/job_engine.h"
#include "actors/local_runtime.h"
#include "evaluators/registry.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/temp_dir.h"

using namespace evolv;

namespace {

struct Run {
  std::string name;
  std::string spec_json;
};

v1::JobProgress RunOnce(const Run& run, v1::CacheMode mode, uint64_t evaluations, int workers,
                        double* seconds) {
  v1::JobRecord record;
  record.set_id("cache-contract");
  record.set_state(v1::RUNNING);
  if (!google::protobuf::util::JsonStringToMessage(run.spec_json, record.mutable_spec()).ok()) {
    std::fprintf(stderr, "%s: bad spec\n", run.name.c_str());
    std::exit(2);
  }
  record.mutable_spec()->mutable_cache()->set_mode(mode);
  if (evaluations > 0) record.mutable_spec()->mutable_budget()->set_max_evaluations(evaluations);
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(record, store->get(), BuiltinProblems());
  if (!store.ok() || !engine.ok()) {
    std::fprintf(stderr, "%s: %s\n", run.name.c_str(), engine.status().ToString().c_str());
    std::exit(1);
  }
  std::shared_ptr<JobEngine> shared = std::move(*engine);
  LocalRuntime runtime(workers, BuiltinProblems());
  const auto start = std::chrono::steady_clock::now();
  runtime.RunJob(shared, CoordinatorOptions{}, nullptr, nullptr);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return shared->Progress();
}

std::string Numerics(const std::string& mode) {
  return R"({"problem": {"@type": "type.googleapis.com/evolv.v1.NumericsSpec", "target": "exp2",
             "lower": 0, "upper": 1, "mode": ")" +
         mode + R"(", "max_ops": 10},
             "strategy": {"nsga2": {"parents": 40, "children": 40}}, "seed": 1, "window": 8})";
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t evaluations = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 3000;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 1;
  const Run runs[] = {
      {"numerics exp2 real", Numerics("REAL")},
      {"numerics exp2 float32", Numerics("FLOAT32")},
      {"solver shifted Laplacian", R"({"problem": {"@type":
           "type.googleapis.com/evolv.v1.SolverSpec", "shifted_laplacian": {"grid": 10,
           "instances": 200, "seed": 1}}, "strategy": {"bandit": {"trials": 2}}, "seed": 1,
           "window": 32})"},
  };
  int failures = 0;
  std::printf("%-26s %9s %7s %7s %10s %14s %10s\n", "run (counterfactual)", "evals", "hits",
              "misses", "collisions", "max difference", "cache hit%");
  for (const Run& run : runs) {
    // The solver job ends with its instances: its budget is its own.
    const uint64_t budget = run.name.rfind("solver", 0) == 0 ? 0 : evaluations;
    double seconds = 0, cached_seconds = 0;
    const v1::JobProgress cf = RunOnce(run, v1::COUNTERFACTUAL, budget, workers, &seconds);
    const v1::JobProgress cached = RunOnce(run, v1::CACHE, budget, workers, &cached_seconds);
    const auto& c = cf.cache();
    const auto& h = cached.cache();
    const double hit_rate = 100.0 * h.hits() / std::max<uint64_t>(1, h.hits() + h.misses());
    std::printf("%-26s %9llu %7llu %7llu %10llu %14.3g %9.1f%%\n", run.name.c_str(),
                static_cast<unsigned long long>(cf.evaluations()),
                static_cast<unsigned long long>(c.hits()),
                static_cast<unsigned long long>(c.misses()),
                static_cast<unsigned long long>(c.collisions()), c.max_hit_difference(), hit_rate);
    if (c.collisions() > 0) ++failures;
  }
  std::printf("target: 0 collisions beyond each domain's contract: %s\n",
              failures == 0 ? "met" : "MISSED");
  return failures == 0 ? 0 : 1;
}
