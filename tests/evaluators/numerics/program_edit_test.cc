#include "evaluators/numerics/program_edit.h"

#include <gtest/gtest.h>

#include "evaluators/numerics/interpreter.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

// The program's outputs at a few points, in long double.
std::vector<long double> Outputs(const Program& p) {
  std::vector<long double> x = {0.0L, 0.25L, 0.5L, 0.875L};
  CompiledProgram<long double>(p).Run(x.data(), x.data(), x.size());
  return x;
}

TEST(ProgramEditTest, AddConstantRenumbersInstructionValuesAndKeepsTheFunction) {
  const Program before = testing::EvenOddRational();
  Program p = before;
  EXPECT_EQ(AddConstant(p, 7.5), 5u);
  ASSERT_TRUE(Validate(p).ok());
  EXPECT_EQ(p.constants.size(), 5u);
  EXPECT_EQ(p.constants.back(), 7.5);
  EXPECT_EQ(p.instructions[1].b, 6u);  // read x*x, value 5, now 6
  EXPECT_EQ(p.instructions[1].a, 3u);  // constants keep their values
  EXPECT_EQ(Outputs(p), Outputs(before));
  EXPECT_EQ(Cost(p), Cost(before));
}

TEST(ProgramEditTest, InsertInstructionRenumbersLaterOperands) {
  const Program before = testing::EvenOddRational();
  Program p = before;
  InsertInstruction(p, 2, {Op::kAdd, 0, 5, 0});  // x + x*x, read by nobody yet
  ASSERT_TRUE(Validate(p).ok());
  EXPECT_EQ(p.instructions.size(), before.instructions.size() + 1);
  EXPECT_EQ(p.instructions[2], (Instruction{Op::kAdd, 0, 5, 0}));
  EXPECT_EQ(p.instructions[3], (Instruction{Op::kAdd, 1, 6, 0}));  // reads earlier values only
  EXPECT_EQ(p.instructions.back(), (Instruction{Op::kDiv, 12, 13, 0}));  // renumbered
  EXPECT_EQ(Outputs(p), Outputs(before));
  EXPECT_EQ(Cost(p), Cost(before));     // the new value is dead
  p.instructions[3].b = p.value_of(2);  // rewired: E reads the new value
  EXPECT_NE(Outputs(p), Outputs(before));
}

TEST(ProgramEditTest, RemoveInstructionRewiresItsReaders) {
  Program p;  // (x * c0) + x
  p.constants = {3.0};
  p.instructions = {{Op::kMul, 0, 1, 0}, {Op::kAdd, 2, 0, 0}};
  RemoveInstruction(p, 0, 1);  // readers of x*c0 read c0 instead: c0 + x
  ASSERT_TRUE(Validate(p).ok());
  ASSERT_EQ(p.instructions.size(), 1u);
  EXPECT_EQ(p.instructions[0], (Instruction{Op::kAdd, 1, 0, 0}));
  EXPECT_EQ(Outputs(p)[1], 3.25L);
}

TEST(ProgramEditTest, RemoveInstructionShiftsLaterValuesDown) {
  Program p = testing::EvenOddRational();
  RemoveInstruction(p, 1, 3);  // c2 * x2 becomes c2: E = c0 + c2
  ASSERT_TRUE(Validate(p).ok());
  EXPECT_EQ(p.instructions[1], (Instruction{Op::kAdd, 1, 3, 0}));
  EXPECT_EQ(p.instructions.back(), (Instruction{Op::kDiv, 10, 11, 0}));
  EXPECT_EQ(Cost(p), 7);
}

TEST(ProgramEditTest, ReorderConstantsPutsTheGivenOnesFirstAndKeepsTheFunction) {
  const Program before = testing::EvenOddRational();  // constants 1.0, 0.3, 0.1, 0.01
  const Program p = ReorderConstants(before, {3, 1});
  ASSERT_TRUE(Validate(p).ok());
  EXPECT_EQ(p.constants, (std::vector<double>{0.01, 0.3, 1.0, 0.1}));
  EXPECT_EQ(p.instructions[1], (Instruction{Op::kMul, 4, 5, 0}));  // c2 (0.1) is now value 4
  EXPECT_EQ(p.instructions[2], (Instruction{Op::kAdd, 3, 6, 0}));  // c0 (1.0) is now value 3
  EXPECT_EQ(Outputs(p), Outputs(before));
  EXPECT_EQ(ReorderConstants(before, {}), before);
}

}  // namespace
}  // namespace evolv::numerics
