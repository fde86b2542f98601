#include "evaluators/numerics/program_edit.h"

namespace evolv::numerics {

uint32_t AddConstant(Program& p, double value) {
  const uint32_t v = static_cast<uint32_t>(1 + p.constants.size());
  for (Instruction& in : p.instructions) {
    for (uint32_t* o : {&in.a, &in.b, &in.c}) {
      if (*o >= v) ++*o;
    }
  }
  p.constants.push_back(value);
  return v;
}

void InsertInstruction(Program& p, size_t pos, Instruction in) {
  const uint32_t v = p.value_of(pos);
  for (size_t i = pos; i < p.instructions.size(); ++i) {
    Instruction& x = p.instructions[i];
    for (uint32_t* o : {&x.a, &x.b, &x.c}) {
      if (*o >= v) ++*o;
    }
  }
  p.instructions.insert(p.instructions.begin() + pos, in);
}

void RemoveInstruction(Program& p, size_t pos, uint32_t replacement) {
  const uint32_t v = p.value_of(pos);
  p.instructions.erase(p.instructions.begin() + pos);
  for (size_t i = pos; i < p.instructions.size(); ++i) {
    Instruction& x = p.instructions[i];
    for (uint32_t* o : {&x.a, &x.b, &x.c}) {
      if (*o == v) {
        *o = replacement;
      } else if (*o > v) {
        --*o;
      }
    }
  }
}

Program ReorderConstants(const Program& p, const std::vector<size_t>& first) {
  const size_t n = p.constants.size();
  std::vector<size_t> order = first;  // new position -> old index
  std::vector<bool> placed(n, false);
  for (size_t k : order) placed[k] = true;
  for (size_t k = 0; k < n; ++k) {
    if (!placed[k]) order.push_back(k);
  }
  std::vector<uint32_t> value(p.num_values());               // old value -> new value
  for (uint32_t v = 0; v < value.size(); ++v) value[v] = v;  // x and instructions keep theirs
  Program out;
  for (size_t i = 0; i < n; ++i) {
    out.constants.push_back(p.constants[order[i]]);
    value[1 + order[i]] = static_cast<uint32_t>(1 + i);
  }
  for (Instruction in : p.instructions) {
    in.a = value[in.a];
    in.b = value[in.b];
    if (in.op == Op::kFma) in.c = value[in.c];
    out.instructions.push_back(in);
  }
  return out;
}

}  // namespace evolv::numerics
