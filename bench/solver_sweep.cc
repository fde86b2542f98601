// One forward SOR sweep: RelaxationSolver::Sweep vs a plain hand-written CSR loop over the same
// row-major matrix (the shifted 5-point Laplacian on an m x m grid). The implementation should
// run at >= 0.8x the hand-written loop's speed (compare the two times for the same m).
#include <benchmark/benchmark.h>

#include <vector>

#include "evaluators/solver/sequences.h"
#include "evaluators/solver/sor.h"

namespace evolv {
namespace {

constexpr double kOmega = 1.5;

void BM_SorSweepImplementation(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0));
  const RelaxationSolver solver = *RelaxationSolver::Create(ShiftedLaplacian(m, 0.0));
  const Eigen::VectorXd b = Eigen::VectorXd::Ones(m * m);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(m * m);
  for (auto _ : state) {
    solver.Sweep(b, kOmega, x);
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * solver.matrix().nonZeros());
}

void BM_SorSweepHandWritten(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0));
  const SparseMatrix a = ShiftedLaplacian(m, 0.0);
  const int n = m * m;
  const std::vector<int> outer(a.outerIndexPtr(), a.outerIndexPtr() + n + 1);
  const std::vector<int> inner(a.innerIndexPtr(), a.innerIndexPtr() + a.nonZeros());
  const std::vector<double> values(a.valuePtr(), a.valuePtr() + a.nonZeros());
  std::vector<double> diag(n);
  for (int i = 0; i < n; ++i) diag[i] = a.coeff(i, i);
  const std::vector<double> b(n, 1.0);
  std::vector<double> x(n, 0.0);
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      double sigma = 0.0;
      for (int k = outer[i]; k < outer[i + 1]; ++k) {
        if (inner[k] != i) sigma += values[k] * x[inner[k]];
      }
      x[i] = (1.0 - kOmega) * x[i] + kOmega * (b[i] - sigma) / diag[i];
    }
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * a.nonZeros());
}

BENCHMARK(BM_SorSweepImplementation)->Arg(10)->Arg(100);
BENCHMARK(BM_SorSweepHandWritten)->Arg(10)->Arg(100);

}  // namespace
}  // namespace evolv

BENCHMARK_MAIN();
