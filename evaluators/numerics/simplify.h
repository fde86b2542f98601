// The exported form of a program: the same function in one precision, written with only the work
// that depends on x. For display and export (render.h); the search, its stored candidates and the
// cache keys never see it.
//
// SimplifyForExport(p, precision):
//  - folds every value that does not depend on x into a constant, computed as
//    CompiledProgram<T> computes it (FoldConstants<T>, interpreter.h): T = float for kFloat;
//    long double for kReal, then rounded to double;
//  - drops dead instructions and unused constants; constants with the same bits are merged;
//    constants of `p` come first, in their order, then folded ones in program order;
//  - rewrites y / +-inf as y * +-0. In IEEE arithmetic both give +-0 with the sign of y times the
//    sign of the divisor for finite y, and NaN for infinite or NaN y (payloads aside), so the
//    common shape "term divided by an overflowed constant" keeps a finite constant at no change.
//    No other rewrite is made: removing the resulting zero term would change the result for some
//    inputs (y infinite, or a signed zero), so it stays, and so does its cost.
//
// The exported program has one instruction per live x-dependent instruction of `p`, in order:
// program.instructions.size() == Cost(p). In kFloat, CompiledProgram<float> runs it bit for bit as
// it runs `p` (the same scalars, the same ops; NaN payloads aside).
//
// A live constant can still be non-finite (x + inf, or a constant-only part that overflows in T
// and is read other than as a divisor); FiniteConstants says whether the program can be written
// with finite constants only.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "evaluators/numerics/program.h"

namespace evolv::numerics {

enum class ExportPrecision { kFloat, kReal };

struct ExportedProgram {
  // Only live x-dependent instructions; every constant is read. Empty when the function is x or a
  // constant.
  Program program;
  // For each instruction of `program`, the value of the source program it computes (so a
  // rendering can keep the source's names).
  std::vector<uint32_t> source_value;
  // Set when no instruction that depends on x reaches the result: the function's constant value
  // (then `program` has no instructions and no constants).
  std::optional<double> constant_result;
};

// `p` must be valid (see Validate).
ExportedProgram SimplifyForExport(const Program& p, ExportPrecision precision);

// Whether every constant of `e` (and its constant result) is finite.
bool FiniteConstants(const ExportedProgram& e);

}  // namespace evolv::numerics
