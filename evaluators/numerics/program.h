// Straight-line numeric programs (AutoNumerics-Zero): a DAG over + - * / (and fma) with one
// input x and a list of constants.
//
// Value table: value 0 is x, values 1..C are the constants, then one value per instruction, in
// order. An instruction's operands must index earlier values. The result is the last
// instruction's value, or x when there are no instructions.
//
// Program is a plain value type; all functions here are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evolv/v1/job.pb.h"
#include "evolv/v1/numerics.pb.h"

namespace evolv::numerics {

enum class Op : uint8_t { kAdd, kSub, kMul, kDiv, kFma };

// Number of operands an op reads (3 for kFma, else 2).
int Arity(Op op);
// "add", "sub", "mul", "div", "fma".
const char* OpName(Op op);
// Parses an op name as used in NumericsSpec.ops; false when unknown.
bool ParseOpName(const std::string& name, Op* op);

struct Instruction {
  Op op = Op::kAdd;
  uint32_t a = 0, b = 0, c = 0;  // c is read by kFma only
  bool operator==(const Instruction& o) const {
    return op == o.op && a == o.a && b == o.b && c == o.c;
  }
};

struct Program {
  std::vector<double> constants;
  std::vector<Instruction> instructions;

  uint32_t num_values() const {
    return static_cast<uint32_t>(1 + constants.size() + instructions.size());
  }
  // Value index of instruction i.
  uint32_t value_of(size_t i) const { return static_cast<uint32_t>(1 + constants.size() + i); }
  // Value index of the result (x when there are no instructions).
  uint32_t result() const { return instructions.empty() ? 0 : num_values() - 1; }
  bool operator==(const Program& o) const {
    return constants == o.constants && instructions == o.instructions;
  }
};

// Checks every operand refers to an earlier value and every op is known. Errors are
// InvalidArgument naming the instruction, e.g. "instruction 2: operand b = 7 is not an earlier
// value (< 5)".
absl::Status Validate(const Program& p);

// Converts from the wire form; invalid programs give the Validate error.
absl::StatusOr<Program> FromProto(const v1::NumericsProgram& proto);
v1::NumericsProgram ToProto(const Program& p);
// The program a search candidate holds (a NumericsProgram in Candidate.value); InvalidArgument
// ("candidate holds no numerics program", or the Validate error) otherwise.
absl::StatusOr<Program> FromCandidate(const v1::Candidate& candidate);
v1::Candidate ToCandidate(const Program& p);

// live[v] for each value v: whether v is reachable from the result (x and constants included).
std::vector<bool> LiveValues(const Program& p);
// depends_on_x[v]: whether value v is computed from x.
std::vector<bool> DependsOnX(const Program& p);
// Cost: number of live instructions whose value depends on x (constant-only parts are free).
int Cost(const Program& p);
// Number of live instructions (constant-only ones included).
int LiveInstructions(const Program& p);

// The same function without dead instructions and unused constants (order kept).
Program Compact(const Program& p);

}  // namespace evolv::numerics
