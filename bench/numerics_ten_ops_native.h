// The benchmark program of numerics_throughput written as C, compiled once with the project's
// flags (numerics_throughput.cc) and once with -march=native (numerics_native_march.cc). The loop
// has internal linkage so that each translation unit keeps its own copy, built with its own
// options. Pure; thread-safe.
#pragma once

namespace evolv::bench {
namespace {  // NOLINT(build/namespaces): one copy per translation unit, on purpose

constexpr float kTenOpsC[5] = {1.0f, 0.34657359f, 0.040037781f, 0.000962f, 1.0000001f};

// y[i] = ((E + O) / (E - O)) * c4 with x2 = x*x, E = c0 + c2*x2, O = x*(c1 + c3*x2).
inline void TenOpsLoop(const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) {
    const float v = x[i], x2 = v * v;
    const float e = kTenOpsC[0] + kTenOpsC[2] * x2;
    const float o = v * (kTenOpsC[1] + kTenOpsC[3] * x2);
    y[i] = (e + o) / (e - o) * kTenOpsC[4];
  }
}

}  // namespace
}  // namespace evolv::bench
