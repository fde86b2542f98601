// A numerics program in the form the device runs: only the live instructions that depend on x,
// in program order, with every constant-only subexpression already folded into a constant of T
// (evaluators/numerics/device_program.h builds it from a Program, with the CPU interpreter's own
// folding). Running it applies each step once in T with IEEE rounding and no contraction, so a
// float program gives the CPU interpreter's bits exactly.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "evaluators/numerics/cuda/portable.h"

namespace evolv::numerics::cuda {

// Steps a program may have on the device: a numerics job's max_ops bound (64) counts exactly the
// live x-dependent instructions.
inline constexpr int kMaxFlatSteps = 64;

enum class FlatOp : uint8_t { kAdd, kSub, kMul, kDiv, kFma };

// Operands: o >= 0 reads slot o (slot 0 is x, step i writes slot i + 1); o < 0 reads constant
// -o - 1. c is read by kFma only.
struct FlatStep {
  int16_t a = 0, b = 0, c = 0;
  FlatOp op = FlatOp::kAdd;
};

template <typename T>
struct FlatProgram {
  std::vector<FlatStep> steps;
  std::vector<T> constants;
  int16_t result = 0;  // an operand, as in FlatStep
};

// Each operation rounded once to T. On the device these are the _rn intrinsics, which the
// compiler never contracts into an fma; on the host, plain IEEE arithmetic (the main build's
// interpreter and this twin are compiled without contraction).
namespace rn {
#if defined(__CUDA_ARCH__)
__device__ inline float Add(float a, float b) { return __fadd_rn(a, b); }
__device__ inline float Sub(float a, float b) { return __fsub_rn(a, b); }
__device__ inline float Mul(float a, float b) { return __fmul_rn(a, b); }
__device__ inline float Div(float a, float b) { return __fdiv_rn(a, b); }
__device__ inline float Fma(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ inline double Add(double a, double b) { return __dadd_rn(a, b); }
__device__ inline double Sub(double a, double b) { return __dsub_rn(a, b); }
__device__ inline double Mul(double a, double b) { return __dmul_rn(a, b); }
__device__ inline double Div(double a, double b) { return __ddiv_rn(a, b); }
__device__ inline double Fma(double a, double b, double c) { return __fma_rn(a, b, c); }
#else
template <typename T>
T Add(T a, T b) {
  return a + b;
}
template <typename T>
T Sub(T a, T b) {
  return a - b;
}
template <typename T>
T Mul(T a, T b) {
  return a * b;
}
template <typename T>
T Div(T a, T b) {
  return a / b;
}
template <typename T>
T Fma(T a, T b, T c) {
  return std::fma(a, b, c);
}
#endif
}  // namespace rn

template <typename T>
EVOLV_HD inline T ApplyFlat(FlatOp op, T a, T b, T c) {
  switch (op) {
    case FlatOp::kAdd:
      return rn::Add(a, b);
    case FlatOp::kSub:
      return rn::Sub(a, b);
    case FlatOp::kMul:
      return rn::Mul(a, b);
    case FlatOp::kDiv:
      return rn::Div(a, b);
    default:
      return rn::Fma(a, b, c);
  }
}

// The program at x. steps[0..num_steps) and constants as in FlatProgram; num_steps <=
// kMaxFlatSteps.
template <typename T>
EVOLV_HD inline T RunFlat(const FlatStep* steps, int num_steps, const T* constants, int16_t result,
                          T x) {
  T slot[kMaxFlatSteps + 1];
  slot[0] = x;
  auto read = [&](int16_t o) { return o >= 0 ? slot[o] : constants[-o - 1]; };
  for (int i = 0; i < num_steps; ++i) {
    const FlatStep s = steps[i];
    slot[i + 1] = ApplyFlat(s.op, read(s.a), read(s.b), s.op == FlatOp::kFma ? read(s.c) : T(0));
  }
  return read(result);
}

template <typename T>
T RunFlat(const FlatProgram<T>& p, T x) {
  return RunFlat(p.steps.data(), static_cast<int>(p.steps.size()), p.constants.data(), p.result, x);
}

}  // namespace evolv::numerics::cuda
