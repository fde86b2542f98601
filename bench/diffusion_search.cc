// AutoDiffusion's search on the exact Gaussian-mixture denoiser: for K = 4, 6, 10 and both
// samplers, FD of the uniform ("ddimK"), trailing and quadratic schedules against the median
// best FD of `seeds` searches (top-k evolution, paper defaults, `evaluations` results each, run
// through JobEngine on a fresh store), then the throughput of one evaluation (2,000 samples,
// d = 16, K = 10) in samples x steps per second on this thread.
//
// Targets (issue 9): searched <= 0.6x uniform and below quadratic, with either sampler.
//
//   build/bench/diffusion_search [evaluations=500] [seeds=3] [dimension=16] [components=8]
//                                [schedule=cosine|linear] [spectrum=log-uniform|power-law]
//
// The second case: `diffusion_search 500 3 64 16 cosine power-law`.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/diffusion_bench_search.h"
#include "evaluators/diffusion/diffusion_problem.h"
#include "evaluators/registry.h"
#include "evolv/v1/diffusion.pb.h"
#include "tests/support/temp_dir.h"

using namespace evolv;

namespace {

struct Options {
  uint64_t evaluations = 500;
  int seeds = 3;
  int dimension = 16;
  int components = 8;
  bool linear = false;
  bool power_law = false;  // the covariance spectrum: power law instead of log-uniform
};

v1::DiffusionSpec Spec(const Options& o, int k, v1::DiffusionSpec::Sampler sampler) {
  v1::DiffusionSpec spec;
  spec.mutable_mixture()->set_dimension(o.dimension);
  spec.mutable_mixture()->set_components(o.components);
  spec.mutable_mixture()->set_seed(1);
  if (o.power_law) {
    spec.mutable_mixture()->mutable_spectrum()->set_kind(v1::CovarianceSpectrum::POWER_LAW);
  }
  spec.set_schedule(o.linear ? v1::DiffusionSpec::LINEAR : v1::DiffusionSpec::COSINE);
  spec.set_sampler(sampler);
  spec.set_steps(k);
  return spec;
}

// The best FD of one search, run to its budget through JobEngine (in order, one thread).
double SearchOnce(const v1::DiffusionSpec& diffusion, uint64_t evaluations, uint64_t seed) {
  // The paper's defaults.
  const v1::HistoryEntry best =
      RunTopKSearch(diffusion, v1::TopKEvolutionConfig(), evaluations, seed);
  return best.evaluation().objectives_size() > 0 ? best.evaluation().objectives(0) : INFINITY;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc > 1) o.evaluations = std::strtoull(argv[1], nullptr, 10);
  if (argc > 2) o.seeds = std::atoi(argv[2]);
  if (argc > 3) o.dimension = std::atoi(argv[3]);
  if (argc > 4) o.components = std::atoi(argv[4]);
  if (argc > 5) o.linear = std::string(argv[5]) == "linear";
  if (argc > 6) o.power_law = std::string(argv[6]) == "power-law";

  std::printf(
      "Gaussian mixture d %d, %d components (seed 1, %s spectrum), %s schedule, N 2000; top-k "
      "evolution (50/10/25/15), %llu evaluations, median of %d seeds\n\n",
      o.dimension, o.components, o.power_law ? "power-law" : "log-uniform",
      o.linear ? "linear" : "cosine",
      static_cast<unsigned long long>(o.evaluations), o.seeds);
  std::printf("%-18s %3s %9s %9s %9s %9s %9s %10s %8s %8s\n", "sampler", "K", "floor", "uniform",
              "trailing", "quadratic", "searched", "(min..max)", "/uniform", "<quad");
  for (auto sampler : {v1::DiffusionSpec::DDIM, v1::DiffusionSpec::DPM_SOLVER_PP_2M}) {
    for (int k : {4, 6, 10}) {
      const v1::DiffusionSpec spec = Spec(o, k, sampler);
      auto created = CreateDiffusionProblem(spec);
      if (!created.ok()) {
        std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
        return 1;
      }
      const auto& problem = static_cast<const DiffusionProblem&>(**created);
      const SamplerKind kind = problem.sampler();
      const double uniform = problem.Score(UniformSteps(k), kind).fd;
      const double trailing = problem.Score(TrailingSteps(k), kind).fd;
      const double quadratic = problem.Score(QuadraticSteps(k), kind).fd;
      std::vector<double> searched;
      for (int s = 1; s <= o.seeds; ++s) searched.push_back(SearchOnce(spec, o.evaluations, s));
      const double median = Median(searched);
      const auto [lo, hi] = std::minmax_element(searched.begin(), searched.end());
      std::printf("%-18s %3d %9.4f %9.4f %9.4f %9.4f %9.4f %4.3f..%4.3f %7.2fx %8s\n",
                  kind == SamplerKind::kDdim ? "DDIM" : "DPM-Solver++(2M)", k,
                  problem.noise_floor(), uniform, trailing, quadratic, median, *lo, *hi,
                  median / uniform, median < quadratic ? "yes" : "no");
      std::fflush(stdout);
    }
  }

  // Throughput of one evaluation: 2,000 samples, d = 16, K = 10, DDIM.
  Options t;
  auto created = CreateDiffusionProblem(Spec(t, 10, v1::DiffusionSpec::DDIM));
  const Problem& problem = **created;
  const v1::Candidate candidate = DiffusionCandidate(UniformSteps(10));
  int repeats = 0;
  const auto start = std::chrono::steady_clock::now();
  double seconds = 0;
  while (seconds < 2.0 || repeats < 5) {
    (void)problem.Evaluate(candidate, {});
    ++repeats;
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const double per_evaluation = seconds / repeats;
  std::printf(
      "\none evaluation (N 2000, d 16, 8 components, K 10, DDIM, with FD and log-likelihood): "
      "%.2f ms, %.3g samples x steps / s\n",
      1e3 * per_evaluation, 2000.0 * 10 / per_evaluation);
  return 0;
}
