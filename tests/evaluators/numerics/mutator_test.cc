#include "evaluators/numerics/mutator.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <algorithm>
#include <set>

#include "evaluators/numerics/interpreter.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

const std::vector<Op> kDefaultOps = {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv};

// Mutation walks from the empty program, as a search takes them.
std::vector<Program> Walks(const Mutator& mutator, int walks, int steps, uint64_t seed = 5) {
  Rng rng(seed);
  std::vector<Program> out;
  for (int w = 0; w < walks; ++w) {
    Program p;
    p.constants = {rng.Normal()};
    for (int s = 0; s < steps; ++s) {
      p = mutator.Mutate(p, rng);
      out.push_back(p);
    }
  }
  return out;
}

// The draws a mutation makes, and their order, are part of every numerics job's history: a
// refactoring that changes them changes what every seeded job finds. This pins them.
TEST(MutatorTest, ChildrenAndDrawsArePinned) {
  Rng rng(42);
  std::string children;
  const Mutator mutator(kDefaultOps, 10);
  Program p;
  for (int step = 0; step < 3000; ++step) {
    if (step % 60 == 0) p = Program{{rng.Normal()}, {}};
    p = mutator.Mutate(p, rng);
    children += ToProto(p).SerializeAsString();
  }
  const uint64_t next = rng.Next();
  children.append(reinterpret_cast<const char*>(&next), sizeof next);
  EXPECT_EQ(XXH64(children.data(), children.size(), 0), 0x1a847ef9c9330660ull);
}

TEST(MutatorTest, ChildrenAreValidAndChangeTheFunction) {
  const Mutator mutator(kDefaultOps, 10);
  const std::vector<Program> children = Walks(mutator, 20, 100);
  std::set<std::vector<long double>> functions;
  size_t longest = 0;
  for (const Program& p : children) {
    ASSERT_TRUE(Validate(p).ok()) << Validate(p);
    longest = std::max(longest, p.instructions.size());
    std::vector<long double> y = {0.125L, 0.5L, 0.875L};
    CompiledProgram<long double>(p).Run(y.data(), y.data(), y.size());
    functions.insert(y);
  }
  EXPECT_GE(longest, 5u);
  EXPECT_GT(functions.size(), children.size() / 3);  // most mutations change the function
}

TEST(MutatorTest, ChildrenStayWithinMaxOpsAndReachIt) {
  const Mutator mutator(kDefaultOps, 6);
  int at_budget = 0;
  for (const Program& p : Walks(mutator, 20, 40)) {
    EXPECT_LE(Cost(p), 6);
    at_budget += Cost(p) == 6;
  }
  EXPECT_GT(at_budget, 50);
}

TEST(MutatorTest, ChildrenUseOnlyTheAllowedOps) {
  const Mutator mutator({Op::kAdd, Op::kMul, Op::kFma}, 10);
  std::set<Op> seen;
  for (const Program& p : Walks(mutator, 20, 40)) {
    for (const Instruction& in : p.instructions) seen.insert(in.op);
  }
  EXPECT_EQ(seen, (std::set<Op>{Op::kAdd, Op::kMul, Op::kFma}));
}

TEST(MutatorTest, OverBudgetParentsGetAConstantRestartedInstead) {
  const Mutator mutator(kDefaultOps, 4);
  const Program parent = testing::EvenOddRational();  // cost 9 > 4: every child is over
  Rng rng(1);
  const Program child = mutator.Mutate(parent, rng);
  EXPECT_EQ(child.instructions, parent.instructions);
  int changed = 0;
  for (size_t k = 0; k < parent.constants.size(); ++k) {
    changed += child.constants[k] != parent.constants[k];
  }
  EXPECT_EQ(changed, 1);
}

TEST(MutatorTest, MutationsReachQuotientsSquaringAndSharedSquares) {
  int quotients = 0, squarings = 0, shared_squares = 0;
  for (const Program& p : Walks(Mutator(kDefaultOps, 10), 40, 12)) {
    const std::vector<bool> dep = DependsOnX(p);
    for (size_t i = 0; i < p.instructions.size(); ++i) {
      const Instruction& in = p.instructions[i];
      quotients += in.op == Op::kDiv && dep[in.a] && dep[in.b];
      squarings += in.op == Op::kMul && in.a == in.b && in.a != 0 && dep[in.a];
      if (in.op == Op::kMul && in.a == 0 && in.b == 0) {
        int readers = 0;
        for (const Instruction& other : p.instructions) {
          readers += (other.a == p.value_of(i)) + (other.b == p.value_of(i));
        }
        shared_squares += readers >= 2;
      }
    }
  }
  EXPECT_GT(quotients, 20);  // P(x)/Q(x) with both sides depending on x
  EXPECT_GT(squarings, 20);  // r * r: range reduction by squaring
  EXPECT_GT(shared_squares, 5);
}

TEST(MutatorTest, RandomOperandIsAnEarlierValue) {
  const Mutator mutator(kDefaultOps, 10);
  const Program p = testing::EvenOddRational();  // 4 constants, values 5..13 are instructions
  Rng rng(9);
  std::set<uint32_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const uint32_t limit = 1 + static_cast<uint32_t>(rng.Below(p.num_values()));
    const uint32_t v = mutator.RandomOperand(p, limit, rng);
    ASSERT_LT(v, std::max<uint32_t>(limit, 1));
    seen.insert(v);
  }
  EXPECT_TRUE(seen.count(0));   // x
  EXPECT_TRUE(seen.count(1));   // a constant
  EXPECT_TRUE(seen.count(12));  // a recent instruction
}

TEST(MutatorTest, PartnerKeepsTheCombinedValueWhenItAddsAConstant) {
  const Mutator mutator(kDefaultOps, 10);
  Rng rng(4);
  int added = 0;
  for (int i = 0; i < 200; ++i) {
    Program p = testing::EvenOddRational();
    uint32_t v = 9, limit = 10;  // v: c1 + c3 x2
    const uint32_t partner = mutator.Partner(p, &v, &limit, rng);
    ASSERT_LT(partner, limit);
    ASSERT_TRUE(Validate(p).ok());
    if (p.constants.size() == 5) {
      ++added;
      EXPECT_EQ(partner, 5u);  // the new constant
      EXPECT_EQ(v, 10u);       // the same instruction, renumbered
      EXPECT_EQ(limit, 11u);
    } else {
      EXPECT_EQ(v, 9u);
    }
  }
  EXPECT_GT(added, 30);
}

}  // namespace
}  // namespace evolv::numerics
