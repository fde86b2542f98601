// NSGA-II's non-dominated sort: NondominatedSort (ENS-SS for points with the same number of
// objectives) against the pairwise sort of Deb et al. (PairwiseNondominatedSort), on pools of
// uniformly random points, 2 and 3 objectives, 200 and 2,000 points (an NSGA-II pool is twice
// its population). Each run draws new pools, checks that both sorts give the same fronts, and
// times each sort as the best of 5 calls. Targets, on 2,000 points: ENS-SS >= 10x faster with 2
// objectives and >= 5x with 3. Exits 1 when a median misses, 3 when the fronts differ.
//   build/bench/pareto_sort [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_target.h"
#include "search/pareto.h"

using namespace evolv;

namespace {

using Sort = std::vector<std::vector<size_t>> (*)(const std::vector<Objectives>&);

// The fastest of `calls` calls of `sort` on `points`, in microseconds.
double BestMicros(Sort sort, const std::vector<Objectives>& points, int calls) {
  double best = 1e300;
  for (int i = 0; i < calls; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto fronts = sort(points);
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    if (fronts.empty() && !points.empty()) std::abort();  // keeps the call
    best = std::min(best, us);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = bench::TakeRuns(argc, argv);
  if (argc > 1) {
    std::fprintf(stderr, "usage: pareto_sort [--runs N]\n");
    return 2;
  }
  bench::TargetReport report;
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (const size_t dims : {2, 3}) {
    for (const size_t n : {200, 2000}) {
      std::vector<double> ens, pairwise, ratio;
      size_t fronts = 0;
      for (int run = 0; run < runs; ++run) {
        std::vector<Objectives> points(n, Objectives(dims));
        for (Objectives& point : points) {
          for (double& v : point) v = uniform(rng);
        }
        const auto expected = PairwiseNondominatedSort(points);
        if (NondominatedSort(points) != expected) {
          std::printf("fronts differ: %zu objectives, %zu points, run %d\n", dims, n, run + 1);
          return 3;
        }
        fronts = expected.size();
        ens.push_back(BestMicros(&NondominatedSort, points, 5));
        pairwise.push_back(BestMicros(&PairwiseNondominatedSort, points, 5));
        ratio.push_back(pairwise.back() / ens.back());
      }
      const std::string pool =
          std::to_string(dims) + " objectives, " + std::to_string(n) + " points";
      std::printf("%s: %zu fronts in the last run\n", pool.c_str(), fronts);
      report.Report(pool + ": ENS-SS", ens, " us", false);
      report.Report(pool + ": pairwise", pairwise, " us", false);
      const std::string figure = pool + ": pairwise / ENS-SS time";
      if (n == 2000) {
        report.Check({figure, bench::Compare::kAtLeast, dims == 2 ? 10.0 : 5.0, "x"}, ratio);
      } else {
        report.Report(figure, ratio, "x", true);
      }
    }
  }
  return report.ExitStatus();
}
