// Programs and helpers shared by the numerics tests.
#pragma once

#include <cmath>
#include <cstring>

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

}  // namespace evolv::numerics::testing
