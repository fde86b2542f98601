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
// A CompiledProgram is immutable after construction; Run is const and thread-safe (the register
// file is a per-thread buffer reused across calls).
#pragma once

#include <cstddef>
#include <vector>

#include "evaluators/numerics/program.h"

namespace evolv::numerics {

template <typename T>
struct InterpreterKernels;  // interpreter.cc

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

 private:
  friend struct InterpreterKernels<T>;
  struct Step;
  using Kernel = void (*)(const Step& s, T* const* slot, const T* k, T* dst);
  struct Step {
    Kernel kernel;
    int a, b, c, d;  // register slots or indices into constants_, as the kernel reads them
    int dst;         // register slot; the last step writes to the output instead
  };
  std::vector<Step> steps_;
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
extern template std::vector<long double> FoldConstants<long double>(const Program& p);

}  // namespace evolv::numerics
