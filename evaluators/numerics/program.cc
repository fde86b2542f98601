#include "evaluators/numerics/program.h"

#include "absl/strings/str_cat.h"
#include "search/problem.h"

namespace evolv::numerics {

int Arity(Op op) { return op == Op::kFma ? 3 : 2; }

const char* OpName(Op op) {
  switch (op) {
    case Op::kAdd:
      return "add";
    case Op::kSub:
      return "sub";
    case Op::kMul:
      return "mul";
    case Op::kDiv:
      return "div";
    case Op::kFma:
      return "fma";
  }
  return "?";
}

bool ParseOpName(const std::string& name, Op* op) {
  for (Op o : {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kFma}) {
    if (name == OpName(o)) {
      *op = o;
      return true;
    }
  }
  return false;
}

absl::Status Validate(const Program& p) {
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const Instruction& in = p.instructions[i];
    const uint32_t limit = p.value_of(i);
    if (static_cast<uint8_t>(in.op) > static_cast<uint8_t>(Op::kFma)) {
      return absl::InvalidArgumentError(absl::StrCat("instruction ", i, ": unknown op"));
    }
    const uint32_t operands[3] = {in.a, in.b, in.c};
    const char* names[3] = {"a", "b", "c"};
    for (int k = 0; k < Arity(in.op); ++k) {
      if (operands[k] >= limit) {
        return absl::InvalidArgumentError(absl::StrCat("instruction ", i, ": operand ", names[k],
                                                       " = ", operands[k],
                                                       " is not an earlier value (< ", limit, ")"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Program> FromProto(const v1::NumericsProgram& proto) {
  Program p;
  p.constants.assign(proto.constants().begin(), proto.constants().end());
  for (int i = 0; i < proto.instructions_size(); ++i) {
    const v1::NumericsInstruction& pi = proto.instructions(i);
    Instruction in;
    switch (pi.op()) {
      case v1::ADD:
        in.op = Op::kAdd;
        break;
      case v1::SUB:
        in.op = Op::kSub;
        break;
      case v1::MUL:
        in.op = Op::kMul;
        break;
      case v1::DIV:
        in.op = Op::kDiv;
        break;
      case v1::FMA:
        in.op = Op::kFma;
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("instruction ", i, ": unknown op ", static_cast<int>(pi.op())));
    }
    in.a = pi.a();
    in.b = pi.b();
    in.c = in.op == Op::kFma ? pi.c() : 0;
    p.instructions.push_back(in);
  }
  if (absl::Status s = Validate(p); !s.ok()) return s;
  return p;
}

v1::NumericsProgram ToProto(const Program& p) {
  v1::NumericsProgram proto;
  for (double c : p.constants) proto.add_constants(c);
  for (const Instruction& in : p.instructions) {
    v1::NumericsInstruction* pi = proto.add_instructions();
    static constexpr v1::NumericsOp kOps[] = {v1::ADD, v1::SUB, v1::MUL, v1::DIV, v1::FMA};
    pi->set_op(kOps[static_cast<int>(in.op)]);
    pi->set_a(in.a);
    pi->set_b(in.b);
    if (in.op == Op::kFma) pi->set_c(in.c);
  }
  return proto;
}

absl::StatusOr<Program> FromCandidate(const v1::Candidate& candidate) {
  v1::NumericsProgram proto;
  if (!UnpackCandidate(candidate, &proto)) {
    return absl::InvalidArgumentError("candidate holds no numerics program");
  }
  return FromProto(proto);
}

v1::Candidate ToCandidate(const Program& p) { return PackCandidate(ToProto(p)); }

std::vector<bool> LiveValues(const Program& p) {
  std::vector<bool> live(p.num_values(), false);
  live[p.result()] = true;
  for (size_t i = p.instructions.size(); i-- > 0;) {
    if (!live[p.value_of(i)]) continue;
    const Instruction& in = p.instructions[i];
    live[in.a] = true;
    live[in.b] = true;
    if (in.op == Op::kFma) live[in.c] = true;
  }
  return live;
}

std::vector<bool> DependsOnX(const Program& p) {
  std::vector<bool> dep(p.num_values(), false);
  dep[0] = true;
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const Instruction& in = p.instructions[i];
    dep[p.value_of(i)] = dep[in.a] || dep[in.b] || (in.op == Op::kFma && dep[in.c]);
  }
  return dep;
}

int Cost(const Program& p) {
  const std::vector<bool> live = LiveValues(p), dep = DependsOnX(p);
  int cost = 0;
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    if (live[p.value_of(i)] && dep[p.value_of(i)]) ++cost;
  }
  return cost;
}

int LiveInstructions(const Program& p) {
  const std::vector<bool> live = LiveValues(p);
  int n = 0;
  for (size_t i = 0; i < p.instructions.size(); ++i) n += live[p.value_of(i)] ? 1 : 0;
  return n;
}

Program Compact(const Program& p) {
  const std::vector<bool> live = LiveValues(p);
  std::vector<uint32_t> remap(p.num_values(), 0);
  Program out;
  for (size_t k = 0; k < p.constants.size(); ++k) {
    if (live[1 + k]) {
      out.constants.push_back(p.constants[k]);
      remap[1 + k] = static_cast<uint32_t>(out.constants.size());
    }
  }
  const uint32_t base = static_cast<uint32_t>(1 + out.constants.size());
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    if (!live[p.value_of(i)]) continue;
    Instruction in = p.instructions[i];
    in.a = remap[in.a];
    in.b = remap[in.b];
    in.c = in.op == Op::kFma ? remap[in.c] : 0;
    remap[p.value_of(i)] = base + static_cast<uint32_t>(out.instructions.size());
    out.instructions.push_back(in);
  }
  return out;
}

}  // namespace evolv::numerics
