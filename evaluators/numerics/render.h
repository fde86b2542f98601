// Human forms of a program: C source and a readable one-line-per-instruction text.
//
// The C form is a self-contained `static inline` function of one argument in double or float;
// constants are printed so they round-trip exactly (%.17g for double, %.9g with an f suffix for
// float, after rounding to float), and only live instructions are emitted. Compiled with IEEE
// semantics (no -ffast-math; FLT_EVAL_METHOD 0), the float version computes bit for bit what
// CompiledProgram<float> computes. fma becomes fma()/fmaf() from <math.h>.
//
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "evaluators/numerics/program.h"

namespace evolv::numerics {

// e.g. "static inline double approx_exp2(double x) { const double c0 = ...; ... return v5; }"
std::string RenderC(const Program& p, const std::string& function_name, bool use_float);
// e.g. "c0 = 0.5\nv2 = x * c0\nreturn v2\n"
std::string RenderText(const Program& p);

}  // namespace evolv::numerics
