// Throughput of the numerics interpreter against the same program compiled natively.
//
// The program is a 10-op rational approximation of 2^x on [0, 1]
// (x2 = x*x; E = c0 + c2*x2; O = x*(c1 + c3*x2); r = (E+O)/(E-O); r * c4), run over 65,536
// floats. Native code comes twice: with the project's flags (portable, no -march: SSE2 on
// x86-64) and with -march=native -ffp-contract=off (numerics_native_march.cc). The interpreter
// runs on the best SIMD target Highway finds (interpreter.h). Target: interpreted >= 0.8x the
// portable native build (docs/adr/0018). After the benchmarks, main measures each ratio (best of
// 50 calls each) --runs times (default 5), prints each run and the median and worst against the
// target (bench_target.h), and exits 1 when the median misses; the ratio against -march=native
// and the ratio on every lower SIMD target are printed the same way, without a target.
//
// Also measures fitting constants (fitting.h), the cost of one numerics evaluation: BM_Fit* for
// two fixed structures, and after the ratio the median and 90th percentile fit time over programs
// of cost <= 10 reached by random mutation walks from the empty program, and on the same programs,
// in REAL and FLOAT32 mode, a candidate's functional probe against its whole evaluation (what
// probing several candidates per pass could at most save: docs/adr/0018).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_target.h"
#include "bench/numerics_ten_ops_native.h"
#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/fitting.h"
#include "evaluators/numerics/interpreter.h"
#include "evaluators/numerics/numerics_problem.h"
#include "evaluators/numerics/targets.h"

namespace evolv::bench {
void TenOpsMarchNative(const float* x, float* y, int n);  // numerics_native_march.cc
}  // namespace evolv::bench

namespace {

using evolv::bench::kTenOpsC;
using evolv::numerics::CompiledProgram;
using evolv::numerics::FitConstants;
using evolv::numerics::Op;
using evolv::numerics::Program;
using evolv::numerics::Samples;

constexpr int kN = 65536;

Program TenOps() {
  Program p;
  p.constants = {kTenOpsC[0], kTenOpsC[1], kTenOpsC[2], kTenOpsC[3], kTenOpsC[4]};  // 1..5
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

// The portable native build: the project's flags, no -march.
__attribute__((noinline)) void Native(const float* x, float* y, int n) {
  evolv::bench::TenOpsLoop(x, y, n);
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

void BM_NativeMarchNative(benchmark::State& state) {
  const std::vector<float> x = Inputs();
  std::vector<float> y(kN);
  for (auto _ : state) {
    evolv::bench::TenOpsMarchNative(x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BM_NativeMarchNative);

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
// Then, per mode, what a candidate's functional probe (Problem::Probe, run by the coordinator
// for its cache key) costs against its whole evaluation (Problem::Evaluate, run by a worker) on
// the same walk programs: the bound on what probing several candidates in one pass could save.
void PrintFitTimes() {
  for (const auto mode : {evolv::v1::REAL, evolv::v1::FLOAT32}) {
    evolv::v1::NumericsSpec spec;
    spec.set_target("exp2");
    spec.set_upper(1);
    spec.set_mode(mode);
    auto problem = evolv::CreateNumericsProblem(spec);
    if (!problem.ok()) return;
    const bool real = mode == evolv::v1::REAL;
    evolv::Rng rng(11);
    std::vector<double> fit_ms, probe_us, evaluate_ms, share;
    for (int walk = 0; walk < 20; ++walk) {
      evolv::v1::Candidate c = (*problem)->Random(rng);
      for (int step = 0; step < 30; ++step) {
        c = (*problem)->Mutate(c, rng);
        auto p = evolv::numerics::FromCandidate(c);
        if (!p.ok() || evolv::numerics::Cost(*p) > 10) break;
        auto t0 = std::chrono::steady_clock::now();
        const auto fit = FitConstants(*p, FitSamples(), step);
        benchmark::DoNotOptimize(fit);
        fit_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        t0 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize((*problem)->Probe(c));
        const double probe =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                .count();
        t0 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize((*problem)->Evaluate(c, {}));
        const double evaluate =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                .count();
        probe_us.push_back(probe);
        evaluate_ms.push_back(evaluate / 1000);
        share.push_back(100 * probe / evaluate);
        c = evolv::numerics::ToCandidate(fit.program);
      }
    }
    if (fit_ms.empty()) return;
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    auto p90 = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() * 9 / 10];
    };
    const char* name = real ? "REAL" : "FLOAT32";
    if (real) {
      std::printf("fit time over %zu walk programs (cost <= 10): median %.3f ms, p90 %.3f ms\n",
                  fit_ms.size(), median(fit_ms), p90(fit_ms));
    }
    std::printf(
        "%s: functional probe median %.1f us (p90 %.1f), whole evaluation median %.3f ms "
        "(p90 %.3f): the probe is %.2f%% of an evaluation (median; p90 %.2f%%)\n",
        name, median(probe_us), p90(probe_us), median(evaluate_ms), p90(evaluate_ms), median(share),
        p90(share));
  }
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

// Prints a figure measured without a target: its runs, median and worst (lowest) of them.
void PrintUntargeted(const std::string& figure, std::vector<double> runs) {
  std::printf("runs   %s:", figure.c_str());
  for (double run : runs) std::printf(" %.2f", run);
  std::sort(runs.begin(), runs.end());
  const size_t n = runs.size();
  const double median = n % 2 == 1 ? runs[n / 2] : (runs[n / 2 - 1] + runs[n / 2]) / 2;
  std::printf("x\nreport %s: median %.2fx, worst %.2fx of %zu runs; no target\n", figure.c_str(),
              median, runs.front(), n);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = evolv::bench::TakeRuns(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const std::vector<float> x = Inputs();
  std::vector<float> y(kN), y_march(kN), z(kN);
  // One compiled program per SIMD target, best first (the first is what Run uses by default).
  const std::vector<std::string> targets = evolv::numerics::AvailableSimdTargets();
  std::vector<CompiledProgram<float>> programs;
  for (const std::string& target : targets) {
    if (!evolv::numerics::SelectSimdTarget(target).ok()) return 1;
    programs.emplace_back(TenOps());
  }
  if (!evolv::numerics::SelectSimdTarget("best").ok()) return 1;
  std::vector<double> ratios, march_ratios;
  std::vector<std::vector<double>> target_ratios(targets.size());
  for (int run = 1; run <= runs; ++run) {
    const double native = BestSeconds([&] {
      Native(x.data(), y.data(), kN);
      benchmark::DoNotOptimize(y.data());
    });
    const double march = BestSeconds([&] {
      evolv::bench::TenOpsMarchNative(x.data(), y_march.data(), kN);
      benchmark::DoNotOptimize(y_march.data());
    });
    std::printf("run %d: native %.1f us, -march=native %.1f us per 65536 floats", run, native * 1e6,
                march * 1e6);
    for (size_t t = 0; t < targets.size(); ++t) {
      const double interp = BestSeconds([&] {
        programs[t].Run(x.data(), z.data(), kN);
        benchmark::DoNotOptimize(z.data());
      });
      int mismatches = 0, march_mismatches = 0;
      for (int i = 0; i < kN; ++i) {
        mismatches += y[i] != z[i];
        march_mismatches += y_march[i] != z[i];
      }
      std::printf("; interpreted %s %.1f us (%d/%d result mismatches vs native/-march=native)",
                  targets[t].c_str(), interp * 1e6, mismatches, march_mismatches);
      target_ratios[t].push_back(native / interp);
      if (t == 0) march_ratios.push_back(march / interp);
    }
    std::printf("\n");
    ratios.push_back(target_ratios[0].back());
  }
  evolv::bench::TargetReport report;
  report.Check(
      {"interpreted (" + targets[0] + ")/native speed", evolv::bench::Compare::kAtLeast, 0.8, "x"},
      ratios);
  PrintUntargeted("interpreted (" + targets[0] + ")/native -march=native speed", march_ratios);
  for (size_t t = 1; t < targets.size(); ++t) {
    PrintUntargeted("interpreted (" + targets[t] + ")/native speed", target_ratios[t]);
  }
  PrintFitTimes();
  return report.ExitStatus();
}
