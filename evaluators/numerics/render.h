// Human forms of a program: C source and a readable one-line-per-instruction text.
//
// The C form is the exported program (simplify.h) in double or float: constant-only instructions
// folded into constants (in float for the float form, in long double rounded to double for the
// double form), dead instructions dropped, y / +-inf written y * +-0. It has one instruction per
// unit of cost (Cost: the live instructions that depend on x), so a job's "at most k ops" shows at
// most k instructions. Constants are finite and printed so they round-trip exactly (%.17g for
// double; %.9g with an f suffix for float). The source stands on its own: it includes <math.h>
// when it calls fma()/fmaf(), and compiles with `cc -c -std=c99 -Wall -Wextra -Werror` (GCC, as a
// file of its own; clang flags an unused static inline function in a main file, so with clang
// include it, as it is meant to be). Instructions keep their names (v<k>) from the stored
// program and its text form; constants are numbered afresh.
//
// Compiled with IEEE semantics (no -ffast-math, -ffp-contract=off, FLT_EVAL_METHOD 0), the float
// form computes bit for bit what CompiledProgram<float> computes for the program. The double form
// runs the program in double where the REAL-mode interpreter runs it in long double; it differs by
// the rounding of each instruction to double (tests: within 1e-15 relative on their programs).
//
// A program whose exported form still reads a non-finite constant (x + inf; a constant-only part
// that overflows and is not a divisor) has no C form with finite constants: its C form is a
// comment saying so, naming the constant and the instruction that reads it, and listing the
// folded program (it still compiles, as an empty translation unit).
//
// The text form is the program as stored (every instruction, dead ones and constant-only ones
// marked), for diagnosing the search rather than for export.
//
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "evaluators/numerics/program.h"

namespace evolv::numerics {

// e.g. "static inline double approx_exp2(double x) {\n  const double c0 = 2;\n  const double
// v2 = x * c0;\n  return v2;\n}\n"
std::string RenderC(const Program& p, const std::string& function_name, bool use_float);
// e.g. "c0 = 0.5\nv2 = x * c0\nreturn v2\n"
std::string RenderText(const Program& p);

}  // namespace evolv::numerics
