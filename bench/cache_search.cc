// The functional-equivalence cache on a real search: an exp2 numerics search (real arithmetic,
// at most 10 ops, NSGA-II) run twice from empty stores with 2 local workers, once with the cache
// and once without. Reports the share of evaluations served from the cache and both wall times,
// measured in one run.
//
//   build/bench/cache_search [evaluations=20000] [workers=2]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "evaluators/registry.h"
#include "evolv/v1/numerics.pb.h"
#include "actors/local_runtime.h"
#include "tests/support/temp_dir.h"

using namespace evolv;

namespace {

v1::JobRecord Job(uint64_t evaluations, v1::CacheMode mode) {
  v1::JobRecord record;
  record.set_id("cache-bench");
  record.set_state(v1::RUNNING);
  auto* spec = record.mutable_spec();
  v1::NumericsSpec numerics;
  numerics.set_target("exp2");
  numerics.set_lower(0);
  numerics.set_upper(1);
  numerics.set_mode(v1::REAL);
  numerics.set_max_ops(10);
  spec->mutable_problem()->PackFrom(numerics);
  spec->mutable_strategy()->mutable_nsga2()->set_parents(50);
  spec->mutable_strategy()->mutable_nsga2()->set_children(50);
  spec->mutable_budget()->set_max_evaluations(evaluations);
  spec->mutable_cache()->set_mode(mode);
  spec->set_window(8);
  spec->set_seed(1);
  return record;
}

struct Result {
  double seconds;
  v1::JobProgress progress;
};

Result RunOnce(uint64_t evaluations, int workers, v1::CacheMode mode) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(Job(evaluations, mode), store->get(), BuiltinProblems());
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    std::exit(1);
  }
  std::shared_ptr<JobEngine> shared = std::move(*engine);
  LocalRuntime runtime(workers, BuiltinProblems());
  const auto start = std::chrono::steady_clock::now();
  runtime.RunJob(shared, CoordinatorOptions{}, nullptr, nullptr);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, shared->Progress()};
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t evaluations = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 2;
  const Result cached = RunOnce(evaluations, workers, v1::CACHE);
  const Result uncached = RunOnce(evaluations, workers, v1::OFF);
  const auto& c = cached.progress.cache();
  const double share = static_cast<double>(c.hits()) / (c.hits() + c.misses());
  std::printf("exp2 [0,1] real, max_ops 10, NSGA-II 50+50, %llu evaluations, %d workers\n",
              static_cast<unsigned long long>(evaluations), workers);
  std::printf(
      "with cache:    %.1f s, %llu hits, %llu misses (%.1f%% served from the cache), "
      "%.1f evaluation-seconds saved, best log10 error %.3f\n",
      cached.seconds, static_cast<unsigned long long>(c.hits()),
      static_cast<unsigned long long>(c.misses()), 100 * share, c.eval_seconds_saved(),
      cached.progress.best_objective());
  std::printf("without cache: %.1f s, best log10 error %.3f\n", uncached.seconds,
              uncached.progress.best_objective());
  std::printf("wall time with / without cache: %.2f\n", cached.seconds / uncached.seconds);
  return 0;
}
