// numerics_cuda_test: the CUDA path of the numerics domain against its host twin (the same
// header code compiled for the CPU, which tests/evaluators/numerics/device_program_test.cc holds
// to the CPU interpreter bit for bit and to glibc's long double references). Plain main, for a
// GPU machine without GoogleTest: each check prints PASS or FAIL; the exit code is 0 when all
// pass, 1 when one fails and 77 (ctest's SKIP_RETURN_CODE) when there is no device.
//   numerics_cuda_test [--device K]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "evaluators/common/cuda_checks.h"
#include "evaluators/numerics/cuda/numerics_cuda.h"

namespace evolv::numerics::cuda {
namespace {

int g_device = 0;
using cuda_checks::Expect;

bool Same(float a, float b) { return (a != a && b != b) || BitsOf(a) == BitsOf(b); }
bool Same(double a, double b) {
  uint64_t u, v;
  std::memcpy(&u, &a, sizeof u);
  std::memcpy(&v, &b, sizeof v);
  return (a != a && b != b) || u == v;
}

// A random program over edge constants; operands lean to recent slots so chains form.
template <typename T>
FlatProgram<T> RandomProgram(std::mt19937& rng) {
  const T kEdge[] = {T(0),      -T(0),   T(1),      T(-3),       T(0.5), T(1e-40),
                     T(3.4e38), T(1e30), T(-1e-30), T(INFINITY), T(NAN)};
  std::uniform_real_distribution<double> uniform(-4, 4);
  FlatProgram<T> p;
  const int steps = 1 + static_cast<int>(rng() % kMaxFlatSteps);
  auto operand = [&](int slots) -> int16_t {
    if (rng() % 3 == 0) {
      p.constants.push_back(rng() % 2 ? kEdge[rng() % std::size(kEdge)] : T(uniform(rng)));
      return static_cast<int16_t>(-static_cast<int>(p.constants.size()));
    }
    return static_cast<int16_t>(rng() % 2 ? slots - 1 - rng() % std::min(slots, 3) : rng() % slots);
  };
  for (int i = 0; i < steps; ++i) {
    FlatStep s;
    s.op = rng() % 8 == 0 ? FlatOp::kFma : static_cast<FlatOp>(rng() % 4);
    s.a = static_cast<int16_t>(i);  // one operand depends on x, as ToFlatProgram's steps do
    s.b = operand(i + 1);
    if (s.op == FlatOp::kFma) s.c = operand(i + 1);
    if (rng() % 2) std::swap(s.a, s.b);
    p.steps.push_back(s);
  }
  p.result = static_cast<int16_t>(steps);
  return p;
}

template <typename T>
std::vector<T> EdgeInputs(std::mt19937& rng, size_t n) {
  std::vector<T> x = {T(0),      -T(0),     T(1),        T(-1),        T(1e-45),
                      T(-1e-40), T(3.4e38), T(INFINITY), -T(INFINITY), T(NAN)};
  std::uniform_real_distribution<double> uniform(-8, 8);
  while (x.size() < n) x.push_back(T(uniform(rng)));
  return x;
}

template <typename T>
void BatchMatchesHost(const char* type) {
  std::mt19937 rng(2026);
  std::vector<FlatProgram<T>> programs;
  for (int j = 0; j < 300; ++j) programs.push_back(RandomProgram<T>(rng));
  const std::vector<T> x = EdgeInputs<T>(rng, 5000);
  std::vector<T> out;
  std::string error;
  if (!EvaluateBatch(g_device, programs, x, &out, &error)) return Expect(false, error);
  int shown = 0;
  for (size_t j = 0; j < programs.size(); ++j) {
    for (size_t i = 0; i < x.size(); ++i) {
      const T want = RunFlat(programs[j], x[i]);
      const T got = out[j * x.size() + i];
      if (!Same(got, want) && shown++ < 5) {
        Expect(false, std::string(type) + " program " + std::to_string(j) + " at " +
                          std::to_string(static_cast<double>(x[i])) + ": device " +
                          std::to_string(static_cast<double>(got)) + ", host " +
                          std::to_string(static_cast<double>(want)));
      }
    }
  }
}

// Host twin of VerifyAllFloats over [lower, upper]: VerifyOrderedRangeOnHost on all the
// machine's threads, each over a contiguous part, the first largest error winning.
ExhaustiveResult VerifyOnHost(const FlatProgram<float>& p, DeviceTarget t, float lower,
                              float upper) {
  const int64_t first = OrderedOf(lower), last = OrderedOf(upper), span = last - first + 1;
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<ExhaustiveResult> part(threads);
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w) {
    pool.emplace_back([&, w] {
      part[w] = VerifyOrderedRangeOnHost(p, t, first + span * w / threads,
                                         first + span * (w + 1) / threads - 1);
    });
  }
  for (std::thread& th : pool) th.join();
  ExhaustiveResult out;
  out.worst_x = lower;
  out.checked = static_cast<uint64_t>(span);
  for (const ExhaustiveResult& r : part) {
    out.slow_path += r.slow_path;
    if (r.max_ulp > out.max_ulp) {
      out.max_ulp = r.max_ulp;
      out.worst_x = r.worst_x;
    }
  }
  return out;
}

// p(x) = c0 + x (c1 + x (c2 + x c3)): a cubic, three float constants.
FlatProgram<float> Cubic(float c0, float c1, float c2, float c3) {
  FlatProgram<float> p;
  p.constants = {c3, c2, c1, c0};
  p.steps = {{0, -1, 0, FlatOp::kMul}, {1, -2, 0, FlatOp::kAdd}, {0, 2, 0, FlatOp::kMul},
             {3, -3, 0, FlatOp::kAdd}, {0, 4, 0, FlatOp::kMul},  {5, -4, 0, FlatOp::kAdd}};
  p.result = 6;
  return p;
}

struct Case {
  DeviceTarget target;
  float lower, upper;
  FlatProgram<float> program;
};

// One binade or less each (at most 2^23 floats), so the host twin keeps up; sin and cos also far
// from 0, where the reduction by pi/2 matters.
std::vector<Case> Cases() {
  return {
      {DeviceTarget::kExp, 0.5f, 1.0f, Cubic(1.0f, 1.0f, 0.5f, 0.2f)},
      {DeviceTarget::kExp2, -1.0f, -0.5f, Cubic(1.0f, 0.69f, 0.24f, 0.056f)},
      {DeviceTarget::kLog, 1.0f, 2.0f, Cubic(-1.8f, 2.5f, -0.9f, 0.18f)},
      {DeviceTarget::kLog2, 1.0f, 2.0f, Cubic(-2.6f, 3.6f, -1.3f, 0.26f)},
      {DeviceTarget::kLog1p, 0.5f, 1.0f, Cubic(0.0f, 0.99f, -0.43f, 0.13f)},
      {DeviceTarget::kErf, 0.5f, 1.0f, Cubic(0.0f, 1.13f, -0.02f, -0.27f)},
      {DeviceTarget::kSin, 1.0f, 2.0f, Cubic(0.0f, 1.0f, 0.0f, -0.16f)},
      {DeviceTarget::kSin, 1000.0f, 1024.0f, Cubic(0.0f, 1.0f, 0.0f, 0.0f)},
      {DeviceTarget::kCos, 0.5f, 1.0f, Cubic(1.0f, 0.0f, -0.5f, 0.02f)},
      {DeviceTarget::kCos, -1024.0f, -1000.0f, Cubic(1.0f, 0.0f, 0.0f, 0.0f)},
      {DeviceTarget::kTanh, 0.25f, 0.5f, Cubic(0.0f, 1.0f, 0.0f, -0.3f)},
      {DeviceTarget::kSigmoid, 2.0f, 4.0f, Cubic(0.5f, 0.25f, 0.0f, -0.02f)},
  };
}

// Every reference the host computes in double-double, and a spread of others, equal on device.
void ReferencesMatchHost() {
  for (const Case& c : Cases()) {
    std::vector<float> x;
    uint64_t host_slow = 0;
    const int64_t first = OrderedOf(c.lower), last = OrderedOf(c.upper);
    for (int64_t k = first; k <= last; ++k) {
      const float v = FloatOfOrdered(k);
      const uint64_t before = host_slow;
      CorrectlyRoundedFloat(c.target, v, &host_slow);
      if (host_slow != before || k % 997 == 0) x.push_back(v);
    }
    std::vector<float> got;
    uint64_t device_slow = 0;
    std::string error;
    const char* name = kDeviceTargetNames[static_cast<int>(c.target)];
    if (!ReferenceFloats(g_device, c.target, x, &got, &device_slow, &error)) {
      return Expect(false, std::string(name) + ": " + error);
    }
    int shown = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      uint64_t unused = 0;
      const float want = CorrectlyRoundedFloat(c.target, x[i], &unused);
      if (!Same(got[i], want) && shown++ < 3) {
        char line[200];
        std::snprintf(line, sizeof line, "%s(%a): device %a, host %a", name, x[i], got[i], want);
        Expect(false, line);
      }
    }
    std::printf("    %-8s %zu points, %llu host / %llu device double-double\n", name, x.size(),
                static_cast<unsigned long long>(host_slow),
                static_cast<unsigned long long>(device_slow));
  }
}

void VerifyMatchesHost() {
  for (const Case& c : Cases()) {
    const char* name = kDeviceTargetNames[static_cast<int>(c.target)];
    ExhaustiveResult device;
    std::string error;
    if (!VerifyAllFloats(g_device, c.program, c.target, c.lower, c.upper, &device, &error)) {
      Expect(false, std::string(name) + ": " + error);
      continue;
    }
    const ExhaustiveResult host = VerifyOnHost(c.program, c.target, c.lower, c.upper);
    char line[300];
    std::snprintf(line, sizeof line,
                  "%s on [%g, %g]: device %.0f ulp at %a (%llu floats, %.3f s), host %.0f ulp at "
                  "%a (%llu floats)",
                  name, c.lower, c.upper, device.max_ulp, device.worst_x,
                  static_cast<unsigned long long>(device.checked), device.seconds, host.max_ulp,
                  host.worst_x, static_cast<unsigned long long>(host.checked));
    std::printf("    %s\n", line);
    Expect(device.max_ulp == host.max_ulp && Same(device.worst_x, host.worst_x) &&
               device.checked == host.checked,
           line);
  }
}

// Programs verified in one launch give what each gives alone (the host twin), across groups of
// the kernel (more than 8 programs) and with programs of different lengths in one group.
void BatchedVerificationMatchesEachProgram() {
  const DeviceTarget target = DeviceTarget::kExp;
  const float lower = 0.5f, upper = 1.0f;
  std::vector<FlatProgram<float>> programs;
  for (int j = 0; j < 11; ++j) {
    programs.push_back(Cubic(1.0f + j * 1e-3f, 1.0f, 0.5f - j * 1e-2f, 0.2f));
    if (j % 3 == 1) {  // a quadratic: c1 + x (c2 + x c3)
      programs.back().steps.resize(4);
      programs.back().result = 4;
    }
  }
  std::vector<ExhaustiveResult> batch;
  std::string error;
  if (!VerifyAllFloats(g_device, programs, target, lower, upper, &batch, &error)) {
    Expect(false, "batch: " + error);
    return;
  }
  if (batch.size() != programs.size()) {
    Expect(false, "one result per program");
    return;
  }
  for (size_t j = 0; j < programs.size(); ++j) {
    const ExhaustiveResult host = VerifyOnHost(programs[j], target, lower, upper);
    char line[300];
    std::snprintf(line, sizeof line,
                  "program %zu: batch %.0f ulp at %a (%llu double-double), host %.0f ulp at %a "
                  "(%llu)",
                  j, batch[j].max_ulp, batch[j].worst_x,
                  static_cast<unsigned long long>(batch[j].slow_path), host.max_ulp, host.worst_x,
                  static_cast<unsigned long long>(host.slow_path));
    std::printf("    %s\n", line);
    Expect(batch[j].max_ulp == host.max_ulp && Same(batch[j].worst_x, host.worst_x) &&
               batch[j].checked == host.checked && batch[j].slow_path == host.slow_path,
           line);
  }
  std::vector<FlatProgram<float>> too_many(kMaxVerifyBatch + 1, programs.front());
  Expect(!VerifyAllFloats(g_device, too_many, target, lower, upper, &batch, &error),
         "a batch over kMaxVerifyBatch accepted");
}

void RejectsWhatItCannotRun() {
  ExhaustiveResult r;
  std::string error;
  Expect(!VerifyAllFloats(g_device, Cubic(0, 1, 0, 0), DeviceTarget::kSin, 0.0f, 3e6f, &r, &error),
         "sin beyond 2^20 accepted");
  Expect(error.find("2^20") != std::string::npos, "error names the bound: " + error);
  FlatProgram<float> too_long = Cubic(0, 1, 0, 0);
  while (too_long.steps.size() <= kMaxFlatSteps) too_long.steps.push_back(too_long.steps.back());
  Expect(!VerifyAllFloats(g_device, too_long, DeviceTarget::kExp, 0.0f, 1.0f, &r, &error),
         "a program over the step limit accepted");
}

}  // namespace
}  // namespace evolv::numerics::cuda

int main(int argc, char** argv) {
  using namespace evolv::numerics::cuda;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--device") == 0) g_device = std::atoi(argv[i + 1]);
  }
  std::vector<DeviceInfo> devices;
  std::string error;
  if (!ListDevices(&devices, &error)) {
    std::printf("SKIPPED: no usable CUDA driver (%s)\n", error.c_str());
    return 77;
  }
  if (g_device < 0 || g_device >= static_cast<int>(devices.size())) {
    std::printf("SKIPPED: no CUDA device %d (%zu present)\n", g_device, devices.size());
    return 77;
  }
  const DeviceInfo& d = devices[g_device];
  std::printf("device %d: %s, %.1f GiB, compute capability %d.%d\n", d.index, d.name.c_str(),
              d.memory_bytes / 1073741824.0, d.major, d.minor);
  return evolv::cuda_checks::RunChecks({
      {"BatchFloatMatchesHostBitForBit", [] { BatchMatchesHost<float>("float"); }},
      {"BatchDoubleMatchesHostBitForBit", [] { BatchMatchesHost<double>("double"); }},
      {"ReferencesMatchHostWhereDoubleIsAmbiguous", ReferencesMatchHost},
      {"ExhaustiveVerificationMatchesHost", VerifyMatchesHost},
      {"BatchedVerificationMatchesEachProgram", BatchedVerificationMatchesEachProgram},
      {"RejectsWhatItCannotRun", RejectsWhatItCannotRun},
  });
}
