#include "evaluators/numerics/verify_float.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/interpreter.h"

namespace evolv::numerics {
namespace {

using cuda::FloatOfOrdered;
using cuda::OrderedOf;

// The device's rule (cuda::CorrectlyRoundedFloat) with the target's own references: its double,
// and where that is ambiguous its long double.
float CorrectlyRounded(const Target& target, float x, uint64_t* slow) {
  float y;
  if (cuda::RoundsSafelyToFloat(target.reference_double(x), &y)) return y;
  ++*slow;
  return static_cast<float>(target.reference(x));
}

struct Partial {
  double max_ulp = 0;
  float worst_x = 0;
  uint64_t slow = 0;
};

}  // namespace

ExhaustiveResult VerifyAllFloats(const Program& p, const Target& target, float lower, float upper,
                                 int threads) {
  const auto start_time = std::chrono::steady_clock::now();
  const CompiledProgram<float> compiled(p);
  const int64_t first = OrderedOf(lower), last = OrderedOf(upper);
  const uint64_t total = static_cast<uint64_t>(last - first + 1);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<uint64_t>(threads, std::max<uint64_t>(1, total / 4096)));
  std::vector<Partial> parts(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const int64_t lo = first + static_cast<int64_t>(total * t / threads);
      const int64_t hi = first + static_cast<int64_t>(total * (t + 1) / threads);  // exclusive
      constexpr int kChunk = 4096;
      std::vector<float> x(kChunk), y(kChunk);
      Partial& part = parts[t];
      for (int64_t k = lo; k < hi; k += kChunk) {
        const int len = static_cast<int>(std::min<int64_t>(kChunk, hi - k));
        for (int i = 0; i < len; ++i) x[i] = FloatOfOrdered(k + i);
        compiled.Run(x.data(), y.data(), len);
        for (int i = 0; i < len; ++i) {
          const double e = cuda::UlpError(y[i], CorrectlyRounded(target, x[i], &part.slow));
          if (e > part.max_ulp) {
            part.max_ulp = e;
            part.worst_x = x[i];
          }
        }
      }
    });
  }
  for (std::thread& th : pool) th.join();
  ExhaustiveResult out;
  out.checked = total;
  for (const Partial& part : parts) {  // parts are in increasing x: the first max wins
    out.slow_path += part.slow;
    if (part.max_ulp > out.max_ulp) {
      out.max_ulp = part.max_ulp;
      out.worst_x = part.worst_x;
    }
  }
  if (out.max_ulp == 0) out.worst_x = lower;
  out.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return out;
}

}  // namespace evolv::numerics
