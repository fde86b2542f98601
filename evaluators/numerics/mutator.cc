#include "evaluators/numerics/mutator.h"

#include <algorithm>
#include <utility>

#include "evaluators/numerics/program_edit.h"

namespace evolv::numerics {

Mutator::Mutator(std::vector<Op> ops, int max_ops) : ops_(std::move(ops)), max_ops_(max_ops) {}

Program Mutator::Mutate(const Program& parent, Rng& rng) const {
  Program p = parent;
  if (p.instructions.size() > static_cast<size_t>(4 * max_ops_ + 8) || p.constants.size() > 32) {
    p = Compact(p);
  }
  Program child;
  bool within = false;
  for (int attempt = 0; attempt < 8 && !within; ++attempt) {
    child = p;
    MutateInPlace(child, rng);
    within = Cost(child) <= max_ops_;
  }
  if (!within) {
    child = Compact(p);
    if (!child.constants.empty()) child.constants[rng.Below(child.constants.size())] = rng.Normal();
  }
  return child;
}

uint32_t Mutator::RandomOperand(const Program& p, uint32_t limit, Rng& rng) const {
  const uint32_t first_instr = static_cast<uint32_t>(1 + p.constants.size());
  const double u = rng.Uniform();
  if (u < 0.35 || limit <= 1) return 0;
  if ((u < 0.55 || limit <= first_instr) && !p.constants.empty()) {
    return 1 + static_cast<uint32_t>(rng.Below(std::min<uint32_t>(p.constants.size(), limit - 1)));
  }
  if (limit <= first_instr) return 0;
  uint32_t v = limit - 1;  // geometric walk back from the most recent value
  while (v > first_instr && rng.Bernoulli(0.4)) --v;
  return v;
}

Op Mutator::RandomOp(Rng& rng) const { return ops_[rng.Below(ops_.size())]; }

Op Mutator::OpOr(Op preferred, Rng& rng) const {
  return std::find(ops_.begin(), ops_.end(), preferred) != ops_.end() ? preferred : RandomOp(rng);
}

uint32_t Mutator::Partner(Program& p, uint32_t* v, uint32_t* limit, Rng& rng) const {
  const double u = rng.Uniform();
  if (u < 0.2) return *v;
  if (u < 0.45) return 0;
  if (u < 0.75) {
    const uint32_t first = static_cast<uint32_t>(1 + p.constants.size());
    const uint32_t c = AddConstant(p, rng.Normal());
    if (*v >= first) ++*v;
    ++*limit;
    return c;
  }
  return RandomOperand(p, *limit, rng);
}

void Mutator::MutateInPlace(Program& p, Rng& rng) const {
  p = Compact(p);
  const size_t n = p.instructions.size();
  const double u = rng.Uniform();
  if (n == 0 || u < 0.25) {  // extend the result: r' = r op z or z op r
    uint32_t r = p.result(), limit = p.num_values();
    const uint32_t z = Partner(p, &r, &limit, rng);
    const bool left = rng.Bernoulli(0.7);
    p.instructions.push_back({RandomOp(rng), left ? r : z, left ? z : r, 0});
  } else if (u < 0.37) {  // extend the result by a new subexpression: t = a op b; r' = r op t
    uint32_t limit = p.num_values();
    uint32_t a = rng.Bernoulli(0.6) ? 0 : RandomOperand(p, limit, rng);
    const uint32_t b = Partner(p, &a, &limit, rng);
    const uint32_t r = p.result();
    p.instructions.push_back({RandomOp(rng), a, b, 0});
    p.instructions.push_back({RandomOp(rng), r, p.result(), 0});
  } else if (u < 0.55) {  // grow one edge: instruction i reads w = v op z instead of v
    const size_t i = rng.Below(n);
    const int slot = static_cast<int>(rng.Below(Arity(p.instructions[i].op)));
    uint32_t v = slot == 0   ? p.instructions[i].a
                 : slot == 1 ? p.instructions[i].b
                             : p.instructions[i].c;
    uint32_t limit = p.value_of(i);
    const uint32_t z = Partner(p, &v, &limit, rng);
    const bool left = rng.Bernoulli(0.6);
    InsertInstruction(p, i, {RandomOp(rng), left ? v : z, left ? z : v, 0});
    Instruction& reader = p.instructions[i + 1];
    (slot == 0 ? reader.a : slot == 1 ? reader.b : reader.c) = p.value_of(i);
  } else if (u < 0.63) {  // share x*x: some operand reading x reads x*x instead
    size_t sq = n;
    for (size_t i = 0; i < n && sq == n; ++i) {
      const Instruction& in = p.instructions[i];
      if (in.op == Op::kMul && in.a == 0 && in.b == 0) sq = i;
    }
    if (sq == n) {
      InsertInstruction(p, 0, {OpOr(Op::kMul, rng), 0, 0, 0});
      sq = 0;
    }
    std::vector<std::pair<size_t, int>> readers;
    for (size_t i = sq + 1; i < p.instructions.size(); ++i) {
      const Instruction& in = p.instructions[i];
      if (in.a == 0) readers.push_back({i, 0});
      if (in.b == 0) readers.push_back({i, 1});
    }
    if (!readers.empty()) {
      const auto [i, slot] = readers[rng.Below(readers.size())];
      (slot == 0 ? p.instructions[i].a : p.instructions[i].b) = p.value_of(sq);
    }
  } else if (u < 0.69) {  // mirror: r = A op B becomes (A op B) / (A op' B)
    const Instruction last = p.instructions.back();
    const uint32_t r = p.result();
    const Op mirrored = OpOr(last.op == Op::kSub ? Op::kAdd : Op::kSub, rng);
    p.instructions.push_back({mirrored, last.a, last.b, mirrored == Op::kFma ? last.c : 0});
    p.instructions.push_back({OpOr(Op::kDiv, rng), r, p.result(), 0});
  } else if (u < 0.80) {  // rewire an operand to another earlier value
    const size_t pos = rng.Below(n);
    Instruction& in = p.instructions[pos];
    const uint32_t v = RandomOperand(p, p.value_of(pos), rng);
    const int slot = static_cast<int>(rng.Below(Arity(in.op)));
    (slot == 0 ? in.a : slot == 1 ? in.b : in.c) = v;
  } else if (u < 0.88) {  // change an op
    const size_t pos = rng.Below(n);
    Instruction& in = p.instructions[pos];
    in.op = RandomOp(rng);
    in.c = in.op == Op::kFma ? RandomOperand(p, p.value_of(pos), rng) : 0;
  } else if (u < 0.96) {  // remove an instruction, rewiring its users to an operand
    const size_t pos = rng.Below(n);
    const Instruction& in = p.instructions[pos];
    RemoveInstruction(p, pos, rng.Bernoulli(0.5) ? in.a : in.b);
  } else if (!p.constants.empty()) {  // restart a constant (the fit starts from it)
    p.constants[rng.Below(p.constants.size())] = rng.Normal();
  }
}

}  // namespace evolv::numerics
