#include "evaluators/numerics/program.h"

#include <gtest/gtest.h>

#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

TEST(ProgramTest, EmptyProgramReturnsXAndCostsNothing) {
  Program p;
  p.constants = {2.0};
  EXPECT_EQ(p.result(), 0u);
  EXPECT_EQ(Cost(p), 0);
}

TEST(ProgramTest, CostCountsOnlyLiveXDependentOps) {
  Program p;
  p.constants = {2.0, 3.0};                // values 1, 2
  p.instructions = {{Op::kMul, 1, 2, 0},   // 3: constant-only, free
                    {Op::kAdd, 0, 0, 0},   // 4: dead
                    {Op::kMul, 0, 3, 0}};  // 5: result
  EXPECT_EQ(Cost(p), 1);
  EXPECT_EQ(LiveInstructions(p), 2);
  const std::vector<bool> live = LiveValues(p);
  EXPECT_FALSE(live[4]);
  EXPECT_TRUE(live[3]);
}

TEST(ProgramTest, RationalCostsNine) { EXPECT_EQ(Cost(testing::EvenOddRational()), 9); }

TEST(ProgramTest, ValidateRejectsForwardReferences) {
  v1::NumericsProgram proto;
  proto.add_constants(1.0);
  auto* in = proto.add_instructions();
  in->set_op(v1::ADD);
  in->set_a(0);
  in->set_b(2);  // itself: not an earlier value
  auto p = FromProto(proto);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "instruction 0: operand b = 2 is not an earlier value (< 2)");
}

TEST(ProgramTest, ValidateRejectsUnspecifiedOp) {
  v1::NumericsProgram proto;
  proto.add_instructions();  // NUMERICS_OP_UNSPECIFIED
  EXPECT_FALSE(FromProto(proto).ok());
}

TEST(ProgramTest, ProtoRoundTrip) {
  Program p = testing::EvenOddRational();
  p.instructions.push_back({Op::kFma, 13, 0, 1});
  auto back = FromProto(ToProto(p));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, p);
}

TEST(ProgramTest, CompactDropsDeadCodeAndUnusedConstants) {
  Program p;
  p.constants = {5.0, 2.0};                // values 1, 2; 5.0 is unused
  p.instructions = {{Op::kAdd, 0, 0, 0},   // 3: dead
                    {Op::kMul, 0, 2, 0}};  // 4: x * 2
  const Program c = Compact(p);
  EXPECT_EQ(c.constants, std::vector<double>{2.0});
  ASSERT_EQ(c.instructions.size(), 1u);
  EXPECT_EQ(c.instructions[0], (Instruction{Op::kMul, 0, 1, 0}));
}

}  // namespace
}  // namespace evolv::numerics
