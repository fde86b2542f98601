#include "evaluators/numerics/render.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

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

// Names of values: x, c<k> for constants, v<value index> for instructions.
std::string Name(const Program& p, uint32_t v) {
  if (v == 0) return "x";
  if (v <= p.constants.size()) return absl::StrCat("c", v - 1);
  return absl::StrCat("v", v);
}

std::string Expression(const Program& p, const Instruction& in, bool use_float) {
  if (in.op == Op::kFma) {
    return absl::StrCat(use_float ? "fmaf(" : "fma(", Name(p, in.a), ", ", Name(p, in.b), ", ",
                        Name(p, in.c), ")");
  }
  return absl::StrCat(Name(p, in.a), " ", Symbol(in.op), " ", Name(p, in.b));
}

std::string Constant(double c, bool use_float) {
  if (std::isnan(c)) return "NAN";
  if (std::isinf(c)) return c > 0 ? "INFINITY" : "-INFINITY";
  if (!use_float) return absl::StrFormat("%.17g", c);
  std::string s = absl::StrFormat("%.9g", static_cast<float>(c));
  if (s.find_first_of(".e") == std::string::npos) s += ".0";  // "1f" is not a float literal
  return s + "f";
}

}  // namespace

std::string RenderC(const Program& p, const std::string& function_name, bool use_float) {
  const char* type = use_float ? "float" : "double";
  const std::vector<bool> live = LiveValues(p);
  std::string out = absl::StrCat("static inline ", type, " ", function_name, "(", type, " x) {\n");
  for (size_t k = 0; k < p.constants.size(); ++k) {
    if (!live[1 + k]) continue;
    absl::StrAppend(&out, "  const ", type, " c", k, " = ", Constant(p.constants[k], use_float),
                    ";\n");
  }
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const uint32_t v = p.value_of(i);
    if (!live[v]) continue;
    absl::StrAppend(&out, "  const ", type, " v", v, " = ",
                    Expression(p, p.instructions[i], use_float), ";\n");
  }
  absl::StrAppend(&out, "  return ", Name(p, p.result()), ";\n}\n");
  return out;
}

std::string RenderText(const Program& p) {
  const std::vector<bool> live = LiveValues(p);
  std::string out;
  for (size_t k = 0; k < p.constants.size(); ++k) {
    absl::StrAppend(&out, "c", k, " = ", Constant(p.constants[k], false),
                    live[1 + k] ? "" : "  # unused", "\n");
  }
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const uint32_t v = p.value_of(i);
    absl::StrAppend(&out, "v", v, " = ", Expression(p, p.instructions[i], false),
                    live[v] ? "" : "  # dead", "\n");
  }
  absl::StrAppend(&out, "return ", Name(p, p.result()), "\n");
  return out;
}

}  // namespace evolv::numerics
