// Fast batch evaluation of a Program in one arithmetic type: long double (REAL mode) or float
// (FLOAT32 mode).
//
// Compiling keeps only live instructions, folds constant-only subexpressions into constants
// (computed in T, so folding never changes a result), and turns the x-dependent instructions
// into kernels over fixed-size blocks of kBlock inputs: one loop with a compile-time trip count
// per kernel per block (which GCC vectorizes), constant operands as scalars. An instruction whose
// value has exactly one user is fused into that user (t = a op1 b; d = t op2 c in one loop), which
// halves the loads and stores of chains like c0 + c1 * x. Results are exactly what evaluating the
// program one instruction at a time in T gives (IEEE semantics, every intermediate rounded to T,
// no reassociation), so float results match C code compiled from Render() bit for bit.
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

  // `p` must be valid (see Validate).
  explicit CompiledProgram(const Program& p);

  // out[i] = program(x[i]) for i < n. `out` may equal `x`.
  void Run(const T* x, T* out, size_t n) const;
  T RunOne(T x) const {
    T y;
    Run(&x, &y, 1);
    return y;
  }
  // Live x-dependent instructions executed per input (fused or not).
  int num_steps() const { return num_instructions_; }
  // Kernels run per block (fewer than num_steps() when instructions were fused).
  int num_kernels() const { return static_cast<int>(steps_.size()); }

 private:
  friend struct InterpreterKernels<T>;
  struct Step;
  using Kernel = void (*)(const Step& s, T* const* slot, const T* k, T* dst);
  struct Step {
    Kernel kernel;
    int a, b, c;  // register slots or indices into constants_, as the kernel reads them
    int dst;      // register slot; the last step writes to the output instead
  };
  std::vector<Step> steps_;
  std::vector<T> constants_;  // folded constant values used as scalar operands
  int num_slots_ = 1;         // slot 0 is x
  int num_instructions_ = 0;  // live x-dependent instructions
  // When there are no steps the result is x (result_constant_ < 0) or a constant.
  int result_constant_ = -1;
};

extern template class CompiledProgram<float>;
extern template class CompiledProgram<long double>;

}  // namespace evolv::numerics
