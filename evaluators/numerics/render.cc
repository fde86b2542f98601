#include "evaluators/numerics/render.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "evaluators/numerics/simplify.h"

namespace evolv::numerics {
namespace {

const char* Symbol(Op op) {
  switch (op) {
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    default:
      return "/";
  }
}

// Names of the values of `p`: x, c<k> for constants, v<k> for instructions, where k is the
// instruction's value index in `p` or, when `source_value` is given, in the program it came from.
std::vector<std::string> Names(const Program& p, const std::vector<uint32_t>* source_value) {
  std::vector<std::string> names = {"x"};
  for (size_t k = 0; k < p.constants.size(); ++k) names.push_back(absl::StrCat("c", k));
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    names.push_back(absl::StrCat("v", source_value ? (*source_value)[i] : p.value_of(i)));
  }
  return names;
}

std::string Expression(const std::vector<std::string>& name, const Instruction& in,
                       bool use_float) {
  if (in.op == Op::kFma) {
    return absl::StrCat(use_float ? "fmaf(" : "fma(", name[in.a], ", ", name[in.b], ", ",
                        name[in.c], ")");
  }
  return absl::StrCat(name[in.a], " ", Symbol(in.op), " ", name[in.b]);
}

// A C literal for a finite constant.
std::string Literal(double c, bool use_float) {
  if (!use_float) return absl::StrFormat("%.17g", c);
  std::string s = absl::StrFormat("%.9g", static_cast<float>(c));
  if (s.find_first_of(".e") == std::string::npos) s += ".0";  // "1f" is not a float literal
  return s + "f";
}

// Any constant, as text ("inf", "-inf" and "nan" included).
std::string Text(double c) { return absl::StrFormat("%.17g", c); }

// The comment standing for a program whose exported form reads a non-finite constant.
std::string NotExportable(const ExportedProgram& e, const std::string& function_name,
                          bool use_float) {
  const Program& q = e.program;
  const std::vector<std::string> name = Names(q, &e.source_value);
  std::string why;
  if (e.constant_result.has_value()) {
    why = absl::StrCat("it is the constant ", Text(*e.constant_result));
  } else {
    for (size_t i = 0; i < q.instructions.size() && why.empty(); ++i) {
      const Instruction& in = q.instructions[i];
      for (uint32_t v : {in.a, in.b, in.c}) {
        if (v == 0 || v > q.constants.size() || std::isfinite(q.constants[v - 1])) continue;
        why = absl::StrCat("instruction ", name[q.value_of(i)], " = ",
                           Expression(name, in, use_float), " reads ", name[v], " = ",
                           Text(q.constants[v - 1]));
        break;
      }
    }
  }
  std::string out = absl::StrCat(
      "/* ", function_name, " is not exported: after folding its constant-only instructions in ",
      use_float ? "float" : "long double rounded to double", ",\n   ", why,
      ", and C with finite constants only cannot express it.\n   The folded program:\n");
  for (size_t k = 0; k < q.constants.size(); ++k) {
    absl::StrAppend(&out, "   ", name[1 + k], " = ", Text(q.constants[k]), "\n");
  }
  for (size_t i = 0; i < q.instructions.size(); ++i) {
    absl::StrAppend(&out, "   ", name[q.value_of(i)], " = ",
                    Expression(name, q.instructions[i], use_float), "\n");
  }
  absl::StrAppend(&out, "   return ",
                  e.constant_result.has_value() ? Text(*e.constant_result) : name[q.result()],
                  "\n*/\n");
  return out;
}

bool CallsFma(const Program& p) {
  for (const Instruction& in : p.instructions) {
    if (in.op == Op::kFma) return true;
  }
  return false;
}

}  // namespace

std::string RenderC(const Program& p, const std::string& function_name, bool use_float) {
  const ExportedProgram e =
      SimplifyForExport(p, use_float ? ExportPrecision::kFloat : ExportPrecision::kReal);
  if (!FiniteConstants(e)) return NotExportable(e, function_name, use_float);
  const Program& q = e.program;
  const std::vector<std::string> name = Names(q, &e.source_value);
  const char* type = use_float ? "float" : "double";
  std::string out = CallsFma(q) ? "#include <math.h>\n\n" : "";
  absl::StrAppend(&out, "static inline ", type, " ", function_name, "(", type, " x) {\n");
  if (e.constant_result.has_value()) {
    absl::StrAppend(&out, "  (void)x;\n  return ", Literal(*e.constant_result, use_float),
                    ";\n}\n");
    return out;
  }
  for (size_t k = 0; k < q.constants.size(); ++k) {
    absl::StrAppend(&out, "  const ", type, " ", name[1 + k], " = ",
                    Literal(q.constants[k], use_float), ";\n");
  }
  for (size_t i = 0; i < q.instructions.size(); ++i) {
    absl::StrAppend(&out, "  const ", type, " ", name[q.value_of(i)], " = ",
                    Expression(name, q.instructions[i], use_float), ";\n");
  }
  absl::StrAppend(&out, "  return ", name[q.result()], ";\n}\n");
  return out;
}

std::string RenderText(const Program& p) {
  const std::vector<bool> live = LiveValues(p), dep = DependsOnX(p);
  const std::vector<std::string> name = Names(p, nullptr);
  std::string out;
  for (size_t k = 0; k < p.constants.size(); ++k) {
    absl::StrAppend(&out, name[1 + k], " = ", Text(p.constants[k]), live[1 + k] ? "" : "  # unused",
                    "\n");
  }
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const uint32_t v = p.value_of(i);
    const char* mark = !live[v] ? "  # dead" : !dep[v] ? "  # constant-only, free" : "";
    absl::StrAppend(&out, name[v], " = ", Expression(name, p.instructions[i], false), mark, "\n");
  }
  absl::StrAppend(&out, "return ", name[p.result()], "\n");
  return out;
}

}  // namespace evolv::numerics
