#include "evaluators/numerics/numerics_problem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "evaluators/numerics/program.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv {
namespace {

using numerics::Op;
using numerics::Program;
using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::JobSpec Spec(const std::string& target, double lower, double upper) {
  v1::JobSpec spec;
  spec.mutable_numerics()->set_target(target);
  spec.mutable_numerics()->set_lower(lower);
  spec.mutable_numerics()->set_upper(upper);
  return spec;
}

std::unique_ptr<Problem> Make(const v1::JobSpec& spec) {
  auto p = CreateNumericsProblem(spec);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

v1::Candidate Cand(const Program& p) {
  v1::Candidate c;
  *c.mutable_program() = numerics::ToProto(p);
  return c;
}

std::string Error(const v1::JobSpec& spec) {
  auto p = CreateNumericsProblem(spec);
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

TEST(CreateNumericsProblemTest, RejectsBadSpecsNamingTheField) {
  EXPECT_THAT(Error(v1::JobSpec()), StartsWith("numerics:"));
  EXPECT_EQ(Error(Spec("foo", 0, 1)),
            "numerics.target: unknown target 'foo' (one of exp, exp2, log, log2, log1p, erf, "
            "sin, cos, tanh, sigmoid)");
  EXPECT_EQ(Error(Spec("exp2", 1, 0)),
            "numerics.lower: interval is empty or reversed (lower 1 >= upper 0)");
  EXPECT_EQ(Error(Spec("log", -1, 1)), "numerics.lower: log is undefined on [-1, 1] (needs x > 0)");
  EXPECT_THAT(Error(Spec("log1p", -1, 1)), HasSubstr("needs x > -1"));
  EXPECT_THAT(Error(Spec("exp", 0, INFINITY)), StartsWith("numerics.upper: must be finite"));
  EXPECT_THAT(Error(Spec("exp", NAN, 1)), StartsWith("numerics.lower: must be finite"));
  v1::JobSpec s = Spec("exp2", 0, 1);
  s.mutable_numerics()->set_max_ops(65);
  EXPECT_EQ(Error(s), "numerics.max_ops: 65 exceeds the limit 64");
  s = Spec("exp2", 0, 1);
  s.mutable_numerics()->set_fit_points(15);
  EXPECT_THAT(Error(s), StartsWith("numerics.fit_points: 15 is outside 16..65536"));
  s = Spec("exp2", 0, 1);
  s.mutable_numerics()->set_validation_points(9999);
  EXPECT_THAT(Error(s), StartsWith("numerics.validation_points: 9999"));
  s = Spec("exp2", 0, 1);
  s.mutable_numerics()->add_ops("pow");
  EXPECT_THAT(Error(s), StartsWith("numerics.ops[0]: unknown op 'pow'"));
}

TEST(NumericsProblemTest, CanonicalSpecSeparatesMeaningfulFields) {
  auto a = Make(Spec("exp2", 0, 1));
  auto b = Make(Spec("exp2", 0, 2));
  v1::JobSpec f = Spec("exp2", 0, 1);
  f.mutable_numerics()->set_mode(v1::FLOAT32);
  auto c = Make(f);
  v1::JobSpec same = Spec("exp2", 0, 1);
  same.mutable_numerics()->set_fit_points(1024);  // the default, spelled out
  same.set_seed(99);                              // not part of the problem
  EXPECT_NE(a->CanonicalSpec(), b->CanonicalSpec());
  EXPECT_NE(a->CanonicalSpec(), c->CanonicalSpec());
  EXPECT_EQ(a->CanonicalSpec(), Make(same)->CanonicalSpec());
  EXPECT_EQ(a->Domain(), "numerics");
  EXPECT_EQ(a->ObjectiveNames(), (std::vector<std::string>{"log10_error", "cost"}));
}

TEST(NumericsProblemTest, ProbeIdentifiesEqualFunctions) {
  auto problem = Make(Spec("exp2", 0, 1));
  Program twice;  // x * 2
  twice.constants = {2.0};
  twice.instructions = {{Op::kMul, 0, 1, 0}};
  Program sum;  // x + x
  sum.instructions = {{Op::kAdd, 0, 0, 0}};
  Program with_dead = twice;  // x * 2 with a dead x - 2
  with_dead.instructions.insert(with_dead.instructions.begin(), {Op::kSub, 0, 1, 0});
  with_dead.instructions[1] = {Op::kMul, 0, 1, 0};
  Program square;
  square.instructions = {{Op::kMul, 0, 0, 0}};
  EXPECT_EQ(problem->Probe(Cand(twice)), problem->Probe(Cand(sum)));
  EXPECT_EQ(problem->Probe(Cand(twice)), problem->Probe(Cand(with_dead)));
  EXPECT_NE(problem->Probe(Cand(twice)), problem->Probe(Cand(square)));
  EXPECT_EQ(problem->Probe(Cand(twice)).size(), 16u * 8u);
}

TEST(NumericsProblemTest, EvaluateFitsAndRefines) {
  auto problem = Make(Spec("exp2", 0, 1));
  const v1::Evaluation ev =
      problem->Evaluate(Cand(numerics::testing::EvenOddRational()), EvalContext{7, 0});
  ASSERT_EQ(ev.status(), v1::OK) << ev.error();
  ASSERT_EQ(ev.objectives_size(), 2);
  EXPECT_LT(ev.objectives(0), -7.5);
  EXPECT_EQ(ev.objectives(1), 9);
  EXPECT_NEAR(std::pow(10.0, ev.objectives(0)), ev.metrics().at("max_rel_error"), 1e-20);
  EXPECT_EQ(ev.metrics().at("cost"), 9);
  EXPECT_EQ(ev.metrics().at("instructions"), 9);
  EXPECT_GT(ev.metrics().at("fit_seconds"), 0);
  ASSERT_TRUE(ev.refined().has_program());
  EXPECT_NE(ev.refined().program().constants(0), numerics::testing::EvenOddRational().constants[0]);
  // Deterministic.
  const v1::Evaluation again =
      problem->Evaluate(Cand(numerics::testing::EvenOddRational()), EvalContext{7, 0});
  EXPECT_EQ(again.objectives(0), ev.objectives(0));
}

TEST(NumericsProblemTest, Float32ScoresInUlps) {
  v1::JobSpec spec = Spec("exp2", 0, 1);
  spec.mutable_numerics()->set_mode(v1::FLOAT32);
  auto problem = Make(spec);
  const v1::Evaluation ev =
      problem->Evaluate(Cand(numerics::testing::EvenOddRational()), EvalContext{1, 0});
  ASSERT_EQ(ev.status(), v1::OK) << ev.error();
  const double ulp = ev.metrics().at("max_ulp");
  EXPECT_GE(ulp, 1);
  EXPECT_LT(ulp, 100);
  EXPECT_DOUBLE_EQ(ev.objectives(0), std::log10(ulp + 1e-3));
}

TEST(NumericsProblemTest, OverBudgetIsInfeasibleAndGarbageFails) {
  v1::JobSpec spec = Spec("exp2", 0, 1);
  spec.mutable_numerics()->set_max_ops(8);
  auto problem = Make(spec);
  const v1::Evaluation ev =
      problem->Evaluate(Cand(numerics::testing::EvenOddRational()), EvalContext{});
  EXPECT_EQ(ev.status(), v1::INFEASIBLE);
  EXPECT_EQ(ev.error(), "cost 9 exceeds numerics.max_ops 8");
  EXPECT_TRUE(std::isinf(ev.objectives(0)) && std::isinf(ev.objectives(1)));
  v1::Candidate bad;
  auto* in = bad.mutable_program()->add_instructions();
  in->set_op(v1::ADD);
  in->set_a(5);
  const v1::Evaluation failed = problem->Evaluate(bad, EvalContext{});
  EXPECT_EQ(failed.status(), v1::FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("operand a = 5"));
}

TEST(NumericsProblemTest, RandomIsEmptyAndMutationsStayValidAndGrow) {
  auto problem = Make(Spec("exp2", 0, 1));
  Rng rng(3);
  v1::Candidate c = problem->Random(rng);
  EXPECT_EQ(c.program().instructions_size(), 0);
  int max_size = 0;
  std::set<std::string> probes;
  for (int i = 0; i < 2000; ++i) {
    c = problem->Mutate(c, rng);
    auto p = numerics::FromProto(c.program());
    ASSERT_TRUE(p.ok()) << p.status();
    max_size = std::max(max_size, c.program().instructions_size());
    probes.insert(problem->Probe(c));
  }
  EXPECT_GE(max_size, 5);
  EXPECT_GT(probes.size(), 100u);  // mutations change the function
}

// Random mutation walks from the empty program, as a search takes them.
std::vector<Program> Walks(const Problem& problem, int walks, int steps) {
  Rng rng(5);
  std::vector<Program> out;
  for (int w = 0; w < walks; ++w) {
    v1::Candidate c = problem.Random(rng);
    for (int s = 0; s < steps; ++s) {
      c = problem.Mutate(c, rng);
      auto p = numerics::FromProto(c.program());
      EXPECT_TRUE(p.ok()) << p.status();
      if (p.ok()) out.push_back(*p);
    }
  }
  return out;
}

TEST(NumericsProblemTest, MutationsStayWithinMaxOps) {
  v1::JobSpec spec = Spec("exp2", 0, 1);
  spec.mutable_numerics()->set_max_ops(6);
  auto problem = Make(spec);
  int at_budget = 0;
  for (const Program& p : Walks(*problem, 20, 40)) {
    EXPECT_LE(numerics::Cost(p), 6);
    at_budget += numerics::Cost(p) == 6;
  }
  EXPECT_GT(at_budget, 50);
}

TEST(NumericsProblemTest, MutationsReachQuotientsSquaringAndSharedSquares) {
  auto problem = Make(Spec("exp2", 0, 1));
  int quotients = 0, squarings = 0, shared_squares = 0;
  for (const Program& p : Walks(*problem, 40, 12)) {
    const std::vector<bool> dep = numerics::DependsOnX(p);
    for (size_t i = 0; i < p.instructions.size(); ++i) {
      const numerics::Instruction& in = p.instructions[i];
      quotients += in.op == Op::kDiv && dep[in.a] && dep[in.b];
      squarings += in.op == Op::kMul && in.a == in.b && in.a != 0 && dep[in.a];
      if (in.op == Op::kMul && in.a == 0 && in.b == 0) {
        int readers = 0;
        for (const numerics::Instruction& other : p.instructions) {
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

TEST(NumericsProblemTest, RenderFormats) {
  auto problem = Make(Spec("exp2", 0, 1));
  Program p;
  p.constants = {2.0};
  p.instructions = {{Op::kMul, 0, 1, 0}};
  EXPECT_EQ(problem->Render(Cand(p), RenderFormat::kC),
            "static inline double approx_exp2(double x) {\n  const double c0 = 2;\n"
            "  const double v2 = x * c0;\n  return v2;\n}\n");
  EXPECT_THAT(problem->Render(Cand(p), RenderFormat::kCFloat), HasSubstr("const float c0 = 2.0f;"));
  EXPECT_EQ(problem->Render(Cand(p), RenderFormat::kText), "c0 = 2\nv2 = x * c0\nreturn v2\n");
}

TEST(NumericsProblemTest, ReportHasFrontBaselinesAndBestProgram) {
  v1::JobSpec spec = Spec("exp2", 0, 1);
  spec.mutable_numerics()->set_mode(v1::FLOAT32);
  auto problem = Make(spec);
  std::vector<v1::HistoryEntry> history;
  Program lin;
  lin.constants = {1.0, 1.0};
  lin.instructions = {{Op::kMul, 0, 1, 0}, {Op::kAdd, 3, 2, 0}};
  for (const Program& p : {lin, numerics::testing::EvenOddRational()}) {
    v1::HistoryEntry h;
    *h.mutable_candidate() = Cand(p);
    *h.mutable_evaluation() = problem->Evaluate(h.candidate(), EvalContext{});
    history.push_back(h);
  }
  // A narrow interval keeps the exhaustive check small; reuse a narrow problem for the report.
  v1::JobSpec narrow = Spec("exp2", 0.5, 0.5078125);
  narrow.mutable_numerics()->set_mode(v1::FLOAT32);
  const std::string report = Make(narrow)->Report(history);
  EXPECT_THAT(report, HasSubstr("Pareto front (2 OK evaluations)"));
  EXPECT_THAT(report, HasSubstr("minimax"));
  EXPECT_THAT(report, HasSubstr("Smallest float32 minimax degree within 1 ULP"));
  EXPECT_THAT(report, HasSubstr("static inline float approx_exp2(float x)"));
  EXPECT_THAT(report, HasSubstr("Exhaustive float32 check of the 2 best programs"));
  EXPECT_THAT(report, HasSubstr("Best verified program"));
  EXPECT_THAT(report, HasSubstr("Exhaustive float32 check: 131073 floats"));
}

}  // namespace
}  // namespace evolv
