// Fast batch evaluation of a Program in one arithmetic type: long double (REAL mode) or float
// (FLOAT32 mode).
//
// Compiling keeps only live instructions, folds constant-only subexpressions into constants
// (computed in T, so folding never changes a result), and turns each x-dependent instruction into
// a step over fixed-size blocks of inputs: one tight, vectorizable loop per step per block, with
// constant operands as scalars. Results are exactly what evaluating the program one instruction
// at a time in T gives (IEEE semantics, no reassociation), so float results match C code
// compiled from Render() bit for bit.
//
// A CompiledProgram is immutable after construction; Run is const and thread-safe.
#pragma once

#include <cstddef>
#include <vector>

#include "evaluators/numerics/program.h"

namespace evolv::numerics {

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
  // Steps executed per input (live x-dependent instructions).
  int num_steps() const { return static_cast<int>(steps_.size()); }

 private:
  enum class Kind : uint8_t { kRegReg, kRegConst, kConstReg, kFma };
  struct Step {
    Op op;
    Kind kind;
    int a, b, c;  // register slots, or indices into constants_ for constant operands
    int dst;      // register slot; the last step writes to the output instead
  };
  std::vector<Step> steps_;
  std::vector<T> constants_;     // folded constant values used as scalar operands
  std::vector<int> fma_consts_;  // slot -> constant index for broadcast slots (fma operands)
  int num_slots_ = 1;            // slot 0 is x
  // When there are no steps the result is x (result_constant_ < 0) or a constant.
  int result_constant_ = -1;
};

extern template class CompiledProgram<float>;
extern template class CompiledProgram<long double>;

}  // namespace evolv::numerics
