#include "evaluators/numerics/simplify.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <utility>

#include "evaluators/numerics/interpreter.h"

namespace evolv::numerics {
namespace {

std::vector<double> Folded(const Program& p, ExportPrecision precision) {
  std::vector<double> out;
  if (precision == ExportPrecision::kFloat) {
    for (float v : FoldConstants<float>(p)) out.push_back(v);
  } else {
    for (long double v : FoldConstants<long double>(p)) out.push_back(static_cast<double>(v));
  }
  return out;
}

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

}  // namespace

ExportedProgram SimplifyForExport(const Program& p, ExportPrecision precision) {
  const std::vector<bool> live = LiveValues(p), dep = DependsOnX(p);
  const std::vector<double> folded = Folded(p, precision);
  ExportedProgram out;
  if (!dep[p.result()]) {
    out.constant_result = folded[p.result()];
    return out;
  }

  // The kept instructions, each with the constant value it reads in each operand slot that does
  // not depend on x (after the y / +-inf rewrite).
  struct Kept {
    uint32_t value;  // in p
    Instruction in;
    double constant[3] = {0, 0, 0};
  };
  std::vector<Kept> kept;
  std::vector<std::pair<uint32_t, double>> sources;  // (value of p it comes from, constant)
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    if (!live[p.value_of(i)] || !dep[p.value_of(i)]) continue;
    Kept k{p.value_of(i), p.instructions[i]};
    const uint32_t operands[3] = {k.in.a, k.in.b, k.in.c};
    for (int s = 0; s < Arity(k.in.op); ++s) k.constant[s] = folded[operands[s]];
    if (k.in.op == Op::kDiv && !dep[k.in.b] && std::isinf(k.constant[1])) {
      k.in.op = Op::kMul;
      k.constant[1] = std::copysign(0.0, k.constant[1]);
    }
    for (int s = 0; s < Arity(k.in.op); ++s) {
      if (!dep[operands[s]]) sources.emplace_back(operands[s], k.constant[s]);
    }
    kept.push_back(k);
  }

  std::stable_sort(sources.begin(), sources.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::map<uint64_t, uint32_t> constant_value;  // bits -> value index in the exported program
  for (const auto& [from, c] : sources) {
    if (constant_value.count(Bits(c)) != 0) continue;
    out.program.constants.push_back(c);
    constant_value[Bits(c)] = static_cast<uint32_t>(out.program.constants.size());
  }

  std::vector<uint32_t> remap(p.num_values(), 0);  // x-dependent value of p -> exported value
  for (const Kept& k : kept) {
    Instruction in = k.in;
    uint32_t* operands[3] = {&in.a, &in.b, &in.c};
    for (int s = 0; s < Arity(in.op); ++s) {
      *operands[s] = dep[*operands[s]] ? remap[*operands[s]] : constant_value[Bits(k.constant[s])];
    }
    if (in.op != Op::kFma) in.c = 0;
    remap[k.value] = out.program.value_of(out.program.instructions.size());
    out.program.instructions.push_back(in);
    out.source_value.push_back(k.value);
  }
  return out;
}

bool FiniteConstants(const ExportedProgram& e) {
  if (e.constant_result.has_value() && !std::isfinite(*e.constant_result)) return false;
  return std::all_of(e.program.constants.begin(), e.program.constants.end(),
                     [](double c) { return std::isfinite(c); });
}

}  // namespace evolv::numerics
