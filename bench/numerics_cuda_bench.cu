// numerics_cuda_bench: the numerics domain on a CUDA device (evaluators/numerics/cuda). Built by
// evaluators/numerics/cuda/CMakeLists.txt, so it builds with nvcc and CMake alone on a GPU machine.
//
//   numerics_cuda_bench [--runs N] [--device K]
//
// Figures, each the median and worst of N runs (bench_target.h):
// - exhaustive float32 verification of a 10-op program (numerics_ten_ops_native.h's) against exp
//   over all ~1.07e9 floats of [0, 1]: target < 50 ms on an H200;
// - batch evaluation of 10-op straight-line programs over points: operations per second as a
//   fraction of the device's fp32 peak (SMs x 128 lanes x clock, one op per lane per cycle; an
//   fma would count two, but the programs hold none): target >= 0.5;
// - the same batch on the host twin (flat_program.h on all host threads), for scale only: the
//   CPU interpreter's own figure is bench/numerics_throughput's, on the CPU build;
// - a FLOAT32 refinement's launch (8 programs over 10,000 and 1,000,000 points), wall time with
//   the copies, beside the host twin on one thread: what the device saves a refinement.
// Exit 0 when every median meets its target, 1 otherwise, 77 without a device.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_target.h"
#include "bench/cuda_bench_device.h"
#include "evaluators/numerics/cuda/numerics_cuda.h"

namespace {

using namespace evolv::numerics::cuda;

volatile float g_sink = 0;

// y = ((E + O) / (E - O)) * c4 with x2 = x*x, E = c0 + c2*x2, O = x*(c1 + c3*x2): 10 steps.
FlatProgram<float> TenOps(float c0, float c1, float c2, float c3, float c4) {
  FlatProgram<float> p;
  p.constants = {c0, c1, c2, c3, c4};
  p.steps = {
      {0, 0, 0, FlatOp::kMul},   // 1: x2
      {-3, 1, 0, FlatOp::kMul},  // 2: c2 x2
      {-1, 2, 0, FlatOp::kAdd},  // 3: E
      {-4, 1, 0, FlatOp::kMul},  // 4: c3 x2
      {-2, 4, 0, FlatOp::kAdd},  // 5: c1 + c3 x2
      {0, 5, 0, FlatOp::kMul},   // 6: O
      {3, 6, 0, FlatOp::kAdd},   // 7: E + O
      {3, 6, 0, FlatOp::kSub},   // 8: E - O
      {7, 8, 0, FlatOp::kDiv},   // 9
      {9, -5, 0, FlatOp::kMul},  // 10
  };
  p.result = 10;
  return p;
}

double HostTwinPointsPerSecond(const std::vector<FlatProgram<float>>& programs,
                               const std::vector<float>& x) {
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<float> sink(threads);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      float acc = 0;
      for (size_t j = t; j < programs.size(); j += threads) {
        for (float v : x) acc += RunFlat(programs[j], v);
      }
      sink[t] = acc;
    });
  }
  for (std::thread& th : pool) th.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return programs.size() * static_cast<double>(x.size()) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = evolv::bench::TakeRuns(argc, argv);
  const int device = evolv::bench::DeviceArgument(argc, argv);
  std::vector<DeviceInfo> devices;
  std::string error;
  if (!ListDevices(&devices, &error) || device < 0 || device >= static_cast<int>(devices.size())) {
    std::printf("SKIPPED: no CUDA device %d (%s)\n", device, error.c_str());
    return 77;
  }
  const double peak = evolv::bench::Fp32Peak(device, devices[device].name.c_str());

  evolv::bench::TargetReport report;
  const FlatProgram<float> ten = TenOps(1.0f, 0.34657359f, 0.040037781f, 0.000962f, 1.0000001f);
  std::vector<double> verify_ms;
  evolv::numerics::ExhaustiveResult r;
  for (int run = 0; run < runs + 1; ++run) {  // the first run (module load, warm-up) is dropped
    if (!VerifyAllFloats(device, ten, DeviceTarget::kExp, 0.0f, 1.0f, &r, &error)) {
      std::printf("verify: %s\n", error.c_str());
      return 1;
    }
    if (run > 0) verify_ms.push_back(r.seconds * 1e3);
  }
  std::printf("exhaustive: %llu floats, max %.0f ulp at %a, %llu by double-double\n",
              static_cast<unsigned long long>(r.checked), r.max_ulp, r.worst_x,
              static_cast<unsigned long long>(r.slow_path));
  report.Check({"exhaustive float32 verification, 10 ops, exp on [0, 1]",
                evolv::bench::Compare::kBelow, 50, " ms"},
               verify_ms);

  std::mt19937 rng(1);
  std::uniform_real_distribution<float> coefficient(0.5f, 1.5f);
  std::vector<FlatProgram<float>> programs;
  for (int j = 0; j < 2048; ++j) {
    programs.push_back(TenOps(coefficient(rng), coefficient(rng) * 0.35f, coefficient(rng) * 0.04f,
                              coefficient(rng) * 1e-3f, 1.0f));
  }

  // A worker's batch of 64 verified in one launch: the programs share each float's reference.
  const std::vector<FlatProgram<float>> batch(programs.begin(), programs.begin() + 64);
  std::vector<double> per_program_ms;
  std::vector<evolv::numerics::ExhaustiveResult> batch_results;
  for (int run = 0; run < runs + 1; ++run) {
    const auto start = std::chrono::steady_clock::now();
    if (!VerifyAllFloats(device, batch, DeviceTarget::kExp, 0.0f, 1.0f, &batch_results, &error)) {
      std::printf("verify batch: %s\n", error.c_str());
      return 1;
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (run > 0) per_program_ms.push_back(ms / batch.size());
  }
  report.Report("exhaustive verification in one launch of 64 programs, per program", per_program_ms,
                " ms", false);
  std::vector<float> x(1 << 16);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) / x.size();
  std::vector<double> fraction, rate;
  std::vector<float> out;
  for (int run = 0; run < runs + 1; ++run) {
    double seconds = 0;
    if (!EvaluateBatch(device, programs, x, &out, &error, &seconds)) {
      std::printf("batch: %s\n", error.c_str());
      return 1;
    }
    if (run == 0) continue;
    const double points = programs.size() * static_cast<double>(x.size());
    rate.push_back(points / seconds / 1e9);
    fraction.push_back(points * 10 / seconds / peak);
  }
  report.Report("batch evaluation, 2048 programs x 65536 points", rate, " Gpoints/s", true);
  report.Check(
      {"batch evaluation, fraction of fp32 peak", evolv::bench::Compare::kAtLeast, 0.5, ""},
      fraction);
  // A FLOAT32 refinement's launch: one constant's 8 neighbours over the validation points (10,000
  // by default, 1,000,000 at most), wall time with the copies, against the host twin on one
  // thread: where the device starts to pay for a refinement.
  const std::vector<FlatProgram<float>> neighbours(programs.begin(), programs.begin() + 8);
  for (const size_t points : {size_t{10000}, size_t{1000000}}) {
    std::vector<float> vx(points);
    for (size_t i = 0; i < points; ++i) vx[i] = static_cast<float>(i) / points;
    std::vector<double> device_ms, host_ms;
    for (int run = 0; run < runs + 1; ++run) {
      auto start = std::chrono::steady_clock::now();
      if (!EvaluateBatch(device, neighbours, vx, &out, &error)) {
        std::printf("refinement batch: %s\n", error.c_str());
        return 1;
      }
      if (run > 0) {
        device_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
      }
      if (run == 0 || run > 3) continue;  // three host runs: it is slow
      start = std::chrono::steady_clock::now();
      float sink = 0;
      for (const FlatProgram<float>& p : neighbours) {
        for (float v : vx) sink += RunFlat(p, v);
      }
      host_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      g_sink = sink;  // keeps the loop
    }
    const std::string what = "refinement batch, 8 programs x " + std::to_string(points) + " points";
    report.Report(what + ", device with copies", device_ms, " ms", false);
    report.Report(what + ", host twin on one thread", host_ms, " ms", false);
  }
  const std::vector<FlatProgram<float>> host_programs(programs.begin(), programs.begin() + 64);
  std::vector<double> host_rate;
  for (int run = 0; run < runs; ++run) {
    host_rate.push_back(HostTwinPointsPerSecond(host_programs, x) / 1e9);
  }
  report.Report("host twin, 64 programs x 65536 points, all host threads", host_rate, " Gpoints/s",
                true);
  return report.ExitStatus();
}
