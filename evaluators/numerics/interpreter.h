// Fast batch evaluation of a Program in one arithmetic type: long double (REAL mode) or float
// (FLOAT32 mode).
//
// Compiling keeps only live instructions, folds constant-only subexpressions into constants
// (computed in T, so folding never changes a result), and turns the x-dependent instructions
// into kernels over fixed-size blocks of kBlock inputs: one loop with a compile-time trip count
// per kernel per block (which GCC vectorizes), constant operands as scalars. Chains of
// instructions whose values are read once, by the instruction extending the chain, run as one
// kernel of up to kMaxChain instructions (t = a op b; t = t op c; t = d op t), and so does the
// mirror form of rationals, (a +- b) op (a +- b), plus one link. Intermediates stay in SIMD
// registers and only values read more than once are stored: on a 10-op program the register
// file traffic, not the arithmetic, is what the interpreter pays over native code.
//
// Results are exactly what evaluating the program one instruction at a time in T gives (IEEE
// semantics, every intermediate rounded to T, no reassociation, no contraction into fma), so
// float results match C code compiled from Render() bit for bit. (Operands of + and * may be
// swapped, which changes at most the payload of a NaN.)
//
// Float kernels are compiled once per SIMD target with Google Highway (interpreter_simd.cc:
// AVX-512, AVX2, SSE4) besides the portable baseline (SSE2 on x86-64, auto-vectorized), and a
// CompiledProgram<float> takes those of the target selected when it is constructed: the best this
// CPU supports, unless SelectSimdTarget or the environment variable EVOLV_SIMD_TARGET (read at
// the first construction; an unknown name is reported on stderr and ignored) chose a lower one.
// Every target computes the same bits: the same operations in the same order, no contraction.
// Long double kernels are the baseline ones on every target.
//
// A CompiledProgram is immutable after construction; Run is const and thread-safe (the register
// file is a per-thread buffer reused across calls).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "evaluators/numerics/interpreter_tables.h"
#include "evaluators/numerics/program.h"

namespace evolv::numerics {

// The SIMD targets float programs can run on, on this CPU, best first; names are "avx512",
// "avx2", "sse4" and, always last, "baseline". Thread-safe.
std::vector<std::string> AvailableSimdTargets();
// Makes CompiledProgram<float> objects constructed from now on use `name`, one of
// AvailableSimdTargets() or "best" (the first of them). Objects already constructed keep theirs.
// InvalidArgument naming the simd target otherwise. Process-wide; thread-safe.
absl::Status SelectSimdTarget(std::string_view name);
// The target a CompiledProgram<float> constructed now uses. Thread-safe.
std::string CurrentSimdTarget();

template <typename T>
class CompiledProgram {
 public:
  static constexpr int kBlock = 256;
  // Longest fused chain: 3 in float (SIMD), 2 in long double (x87, where fusion gains little).
  static constexpr int kMaxChain = sizeof(T) == sizeof(float) ? 3 : 2;

  // `p` must be valid (see Validate).
  explicit CompiledProgram(const Program& p);

  // out[i] = program(x[i]) for i < n. `out` may equal `x`.
  void Run(const T* x, T* out, size_t n) const;
  T RunOne(T x) const {
    T y;
    Run(&x, &y, 1);
    return y;
  }
  // Live x-dependent instructions executed per input.
  int num_steps() const { return num_instructions_; }
  // Kernels run per block (fewer than num_steps() when chains were fused); all but the last store
  // one value per input to the register file.
  int num_kernels() const { return static_cast<int>(steps_.size()); }
  // The SIMD target whose kernels Run uses (see AvailableSimdTargets; "baseline" for long double).
  const char* simd_target() const { return simd_target_; }

 private:
  using Step = interpreter_internal::Step<T>;
  std::vector<Step> steps_;
  const char* simd_target_ = "baseline";
  std::vector<T> constants_;  // folded constant values used as scalar operands
  int num_slots_ = 1;         // slot 0 is x
  int num_instructions_ = 0;  // live x-dependent instructions
  // When there are no steps the result is x (result_constant_ < 0) or a constant.
  int result_constant_ = -1;
};

// folded[v] for every value v that does not depend on x: constants converted to T, constant-only
// instructions evaluated in T (fma as std::fma), exactly the scalars CompiledProgram<T> runs with;
// 0 for x-dependent values. Dead values are folded too. `p` must be valid.
template <typename T>
std::vector<T> FoldConstants(const Program& p);

extern template class CompiledProgram<float>;
extern template class CompiledProgram<long double>;
extern template std::vector<float> FoldConstants<float>(const Program& p);
extern template std::vector<double> FoldConstants<double>(const Program& p);
extern template std::vector<long double> FoldConstants<long double>(const Program& p);

}  // namespace evolv::numerics
