// Throughput of the numerics interpreter against the same program compiled natively.
//
// The program is a 10-op rational approximation of 2^x on [0, 1]
// (x2 = x*x; E = c0 + c2*x2; O = x*(c1 + c3*x2); r = (E+O)/(E-O); r * c4), run over 65,536
// floats. Target: interpreted >= 0.5x native. After the benchmarks, main measures the ratio
// (best of 50 calls each) --runs times (default 5), prints each run and the median and worst
// against the target (bench_target.h), and exits 1 when the median misses.
//
// Also measures fitting constants (fitting.h), the cost of one numerics evaluation: BM_Fit* for
// two fixed structures, and after the ratio the median and 90th percentile fit time over programs
// of cost <= 10 reached by random mutation walks from the empty program.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "bench/bench_target.h"
#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/fitting.h"
#include "evaluators/numerics/interpreter.h"
#include "evaluators/numerics/numerics_problem.h"
#include "evaluators/numerics/targets.h"

namespace {

using evolv::numerics::CompiledProgram;
using evolv::numerics::FitConstants;
using evolv::numerics::Op;
using evolv::numerics::Program;
using evolv::numerics::Samples;

constexpr int kN = 65536;
constexpr float kC[5] = {1.0f, 0.34657359f, 0.040037781f, 0.000962f, 1.0000001f};

Program TenOps() {
  Program p;
  p.constants = {kC[0], kC[1], kC[2], kC[3], kC[4]};  // values 1..5
  p.instructions = {
      {Op::kMul, 0, 0, 0},    // 6: x2
      {Op::kMul, 3, 6, 0},    // 7
      {Op::kAdd, 1, 7, 0},    // 8: E
      {Op::kMul, 4, 6, 0},    // 9
      {Op::kAdd, 2, 9, 0},    // 10
      {Op::kMul, 0, 10, 0},   // 11: O
      {Op::kAdd, 8, 11, 0},   // 12
      {Op::kSub, 8, 11, 0},   // 13
      {Op::kDiv, 12, 13, 0},  // 14
      {Op::kMul, 14, 5, 0},   // 15
  };
  return p;
}

__attribute__((noinline)) void Native(const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) {
    const float v = x[i], x2 = v * v;
    const float e = kC[0] + kC[2] * x2;
    const float o = v * (kC[1] + kC[3] * x2);
    y[i] = (e + o) / (e - o) * kC[4];
  }
}

std::vector<float> Inputs() {
  std::vector<float> x(kN);
  for (int i = 0; i < kN; ++i) x[i] = static_cast<float>(i) / kN;
  return x;
}

void BM_Native(benchmark::State& state) {
  const std::vector<float> x = Inputs();
  std::vector<float> y(kN);
  for (auto _ : state) {
    Native(x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BM_Native);

void BM_Interpreted(benchmark::State& state) {
  const std::vector<float> x = Inputs();
  std::vector<float> y(kN);
  const CompiledProgram<float> program(TenOps());
  for (auto _ : state) {
    program.Run(x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BM_Interpreted);

void BM_InterpretedLongDouble(benchmark::State& state) {
  const std::vector<float> xf = Inputs();
  const std::vector<long double> x(xf.begin(), xf.end());
  std::vector<long double> y(kN);
  const CompiledProgram<long double> program(TenOps());
  for (auto _ : state) {
    program.Run(x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BM_InterpretedLongDouble);

const Samples& FitSamples() {
  static const Samples s =
      evolv::numerics::MakeFitPoints(*evolv::numerics::FindTarget("exp2"), 0, 1, 1024, false);
  return s;
}

void BM_FitHornerDegree5(benchmark::State& state) {
  const Program p = evolv::numerics::HornerProgram(evolv::numerics::Polynomial(6, 0.5L));
  for (auto _ : state) benchmark::DoNotOptimize(FitConstants(p, FitSamples(), 1));
}
BENCHMARK(BM_FitHornerDegree5)->Unit(benchmark::kMillisecond);

void BM_FitTenOpRational(benchmark::State& state) {
  const Program p = TenOps();
  for (auto _ : state) benchmark::DoNotOptimize(FitConstants(p, FitSamples(), 1));
}
BENCHMARK(BM_FitTenOpRational)->Unit(benchmark::kMillisecond);

// Fit time over programs met by mutation walks (as a search meets them): median and p90, ms.
void PrintFitTimes() {
  evolv::v1::NumericsSpec spec;
  spec.set_target("exp2");
  spec.set_upper(1);
  auto problem = evolv::CreateNumericsProblem(spec);
  if (!problem.ok()) return;
  evolv::Rng rng(11);
  std::vector<double> ms;
  for (int walk = 0; walk < 20; ++walk) {
    evolv::v1::Candidate c = (*problem)->Random(rng);
    for (int step = 0; step < 30; ++step) {
      c = (*problem)->Mutate(c, rng);
      auto p = evolv::numerics::FromCandidate(c);
      if (!p.ok() || evolv::numerics::Cost(*p) > 10) break;
      const auto t0 = std::chrono::steady_clock::now();
      const auto fit = FitConstants(*p, FitSamples(), step);
      benchmark::DoNotOptimize(fit);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      c = evolv::numerics::ToCandidate(fit.program);
    }
  }
  std::sort(ms.begin(), ms.end());
  if (ms.empty()) return;
  std::printf("fit time over %zu walk programs (cost <= 10): median %.3f ms, p90 %.3f ms\n",
              ms.size(), ms[ms.size() / 2], ms[ms.size() * 9 / 10]);
}

// Best-of-50 wall time per call, for the ratio line.
template <typename F>
double BestSeconds(F f) {
  double best = 1e9;
  for (int r = 0; r < 50; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = evolv::bench::TakeRuns(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const std::vector<float> x = Inputs();
  std::vector<float> y(kN), z(kN);
  const CompiledProgram<float> program(TenOps());
  std::vector<double> ratios;
  for (int run = 1; run <= runs; ++run) {
    const double native = BestSeconds([&] {
      Native(x.data(), y.data(), kN);
      benchmark::DoNotOptimize(y.data());
    });
    const double interp = BestSeconds([&] {
      program.Run(x.data(), z.data(), kN);
      benchmark::DoNotOptimize(z.data());
    });
    int mismatches = 0;
    for (int i = 0; i < kN; ++i) mismatches += y[i] != z[i];
    std::printf(
        "run %d: native %.1f us, interpreted %.1f us per 65536 floats: interpreted/native speed "
        "= %.2fx; %d result mismatches\n",
        run, native * 1e6, interp * 1e6, native / interp, mismatches);
    ratios.push_back(native / interp);
  }
  evolv::bench::TargetReport report;
  report.Check({"interpreted/native speed", evolv::bench::Compare::kAtLeast, 0.5, "x"}, ratios);
  PrintFitTimes();
  return report.ExitStatus();
}
