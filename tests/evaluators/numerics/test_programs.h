// Programs and helpers shared by the numerics tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <vector>

#include "evaluators/numerics/program.h"

namespace evolv::numerics::testing {

// Whether a and b are the same float, bit for bit; any two NaNs count as the same (IEEE leaves
// which NaN payload an operation returns open).
inline bool SameFloat(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// x2 = x*x; E = c0 + c2*x2; O = x*(c1 + c3*x2); (E+O)/(E-O): 9 ops.
inline Program EvenOddRational() {
  Program p;
  p.constants = {1.0, 0.3, 0.1, 0.01};  // values 1..4
  p.instructions = {
      {Op::kMul, 0, 0, 0},    // 5: x2
      {Op::kMul, 3, 5, 0},    // 6: c2 x2
      {Op::kAdd, 1, 6, 0},    // 7: E
      {Op::kMul, 4, 5, 0},    // 8: c3 x2
      {Op::kAdd, 2, 8, 0},    // 9: c1 + c3 x2
      {Op::kMul, 0, 9, 0},    // 10: O
      {Op::kAdd, 7, 10, 0},   // 11: E + O
      {Op::kSub, 7, 10, 0},   // 12: E - O
      {Op::kDiv, 11, 12, 0},  // 13
  };
  return p;
}

// Reference: evaluate one instruction at a time in T.
template <typename T>
inline T Naive(const Program& p, T x) {
  std::vector<T> v(p.num_values());
  v[0] = x;
  for (size_t k = 0; k < p.constants.size(); ++k) v[1 + k] = static_cast<T>(p.constants[k]);
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const Instruction& in = p.instructions[i];
    T r;
    switch (in.op) {
      case Op::kAdd:
        r = v[in.a] + v[in.b];
        break;
      case Op::kSub:
        r = v[in.a] - v[in.b];
        break;
      case Op::kMul:
        r = v[in.a] * v[in.b];
        break;
      case Op::kDiv:
        r = v[in.a] / v[in.b];
        break;
      default:
        r = std::fma(v[in.a], v[in.b], v[in.c]);
        break;
    }
    v[p.value_of(i)] = r;
  }
  return v[p.result()];
}

// A random valid program over the edge values of float: constants include 0, -0, infinities,
// NaN, denormals and the extremes; operands lean to recent values so chains and mirrors form.
inline Program RandomProgram(std::mt19937& rng) {
  constexpr double kEdge[] = {
      0.0,    -0.0,  1.0,  -3.0,   0.5,      1e-40,     -1e-45,
      3.4e38, 1e-38, 1e30, -1e-30, HUGE_VAL, -HUGE_VAL, std::numeric_limits<double>::quiet_NaN()};
  std::uniform_real_distribution<double> uniform(-4, 4);
  Program p;
  const int num_constants = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < num_constants; ++k) {
    p.constants.push_back(rng() % 2 ? kEdge[rng() % std::size(kEdge)] : uniform(rng));
  }
  const int num_instructions = 1 + static_cast<int>(rng() % 14);
  for (int i = 0; i < num_instructions; ++i) {
    const uint32_t n = p.num_values();
    auto pick = [&]() -> uint32_t {
      return static_cast<uint32_t>(rng() % 2 ? n - 1 - rng() % std::min<uint32_t>(n, 3)
                                             : rng() % n);
    };
    const Op op = rng() % 8 == 0 ? Op::kFma : static_cast<Op>(rng() % 4);
    p.instructions.push_back({op, pick(), pick(), op == Op::kFma ? pick() : 0});
  }
  return p;
}

// Inputs covering every float class: signed zeros, infinities, NaN, denormals, extremes, random
// bit patterns and ordinary values; 777 of them, so runs end in a partial block.
inline std::vector<float> EdgeInputs(std::mt19937& rng) {
  std::vector<float> x = {0.0f,      -0.0f,   1.0f,     -1.0f,    1e-45f,    -1e-40f,
                          1.17e-38f, 3.4e38f, -3.4e38f, INFINITY, -INFINITY, NAN};
  std::uniform_real_distribution<float> uniform(-8, 8);
  while (x.size() < 777) {
    if (rng() % 3 == 0) {
      const uint32_t bits = static_cast<uint32_t>(rng());
      float f;
      std::memcpy(&f, &bits, sizeof f);
      x.push_back(f);
    } else {
      x.push_back(uniform(rng));
    }
  }
  return x;
}

}  // namespace evolv::numerics::testing
