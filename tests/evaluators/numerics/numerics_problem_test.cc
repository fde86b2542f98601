#include "evaluators/numerics/numerics_problem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "evaluators/numerics/probe.h"
#include "evaluators/numerics/program.h"
#include "evaluators/numerics/render.h"
#include "evaluators/numerics/targets.h"
#include "evaluators/numerics/verify_float.h"
#include "google/protobuf/util/message_differencer.h"
#include "search/functional_hash.h"
#include "search/nsga2.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv {
namespace {

using numerics::Op;
using numerics::Program;
using numerics::ToCandidate;
using ::testing::HasSubstr;

v1::NumericsSpec Spec(const std::string& target, double lower, double upper) {
  v1::NumericsSpec spec;
  spec.set_target(target);
  spec.set_lower(lower);
  spec.set_upper(upper);
  return spec;
}

std::unique_ptr<Problem> Make(const v1::NumericsSpec& spec) {
  auto p = CreateNumericsProblem(spec);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

Program Times(double c) {  // x * c
  Program p;
  p.constants = {c};
  p.instructions = {{Op::kMul, 0, 1, 0}};
  return p;
}

TEST(NumericsProblemTest, CreateReportsTheSpecError) {
  // exp overflows long double past x = 11356: no job is built on [0, 12000] (the baselines' own
  // "not finite" failure is covered in baselines_test.cc).
  for (const auto& [spec, error] :
       {std::pair{Spec("foo", 0, 1), "numerics.target: unknown target"},
        std::pair{Spec("exp", 0, 12000), "numerics.upper: exp(12000) overflows in long double"}}) {
    auto p = CreateNumericsProblem(spec);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(p.status().message()), ::testing::StartsWith(error));
  }
}

TEST(NumericsProblemTest, CanonicalSpecSeparatesWhatEvaluationsDependOn) {
  auto a = Make(Spec("exp2", 0, 1));
  v1::NumericsSpec f = Spec("exp2", 0, 1);
  f.set_mode(v1::FLOAT32);
  v1::NumericsSpec fit = Spec("exp2", 0, 1);
  fit.set_fit_points(512);
  EXPECT_NE(a->CanonicalSpec(), Make(Spec("exp2", 0, 2))->CanonicalSpec());
  EXPECT_NE(a->CanonicalSpec(), Make(Spec("exp", 0, 1))->CanonicalSpec());
  EXPECT_NE(a->CanonicalSpec(), Make(f)->CanonicalSpec());
  EXPECT_NE(a->CanonicalSpec(), Make(fit)->CanonicalSpec());
  EXPECT_EQ(a->Domain(), "numerics");
  EXPECT_EQ(a->ObjectiveNames(), (std::vector<std::string>{"log10_error", "cost"}));
}

TEST(NumericsProblemTest, ShowsTheErrorAsTenToItsLogInTheModesUnit) {
  auto real = Make(Spec("exp2", 0, 1));
  v1::NumericsSpec f = Spec("exp2", 0, 1);
  f.set_mode(v1::FLOAT32);
  auto float32 = Make(f);
  const auto r = real->ObjectiveDisplays();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name(), "log10_error");
  EXPECT_EQ(r[0].label(), "max rel. error");
  EXPECT_EQ(r[0].unit(), "");
  EXPECT_EQ(r[0].scale(), v1::ObjectiveDisplay::LOG10);
  EXPECT_EQ(r[1].name(), "cost");
  EXPECT_EQ(r[1].unit(), "ops");
  EXPECT_EQ(r[1].scale(), v1::ObjectiveDisplay::LINEAR);
  const auto u = float32->ObjectiveDisplays();
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].label(), "max error");
  EXPECT_EQ(u[0].unit(), "ULP");
  EXPECT_EQ(u[0].scale(), v1::ObjectiveDisplay::LOG10);
}

TEST(NumericsProblemTest, JobsDifferingOnlyInFeasibilityLimitsShareKeys) {
  auto a = Make(Spec("exp2", 0, 1));
  v1::NumericsSpec limits = Spec("exp2", 0, 1);
  limits.set_max_ops(4);
  limits.add_ops("mul");
  limits.add_ops("add");
  limits.add_ops("fma");
  auto b = Make(limits);
  v1::NumericsSpec spelled = Spec("exp2", 0, 1);
  spelled.set_fit_points(1024);  // the default, spelled out
  EXPECT_EQ(a->CanonicalSpec(), b->CanonicalSpec());
  EXPECT_EQ(a->CanonicalSpec(), Make(spelled)->CanonicalSpec());
  const v1::Candidate c = ToCandidate(numerics::testing::EvenOddRational());
  EXPECT_EQ(FunctionalKey(*a, c), FunctionalKey(*b, c));
}

TEST(NumericsProblemTest, CheckFeasibleRejectsOverBudgetAndForeignOps) {
  v1::NumericsSpec spec = Spec("exp2", 0, 1);
  spec.set_max_ops(8);
  auto problem = Make(spec);
  const auto over = problem->CheckFeasible(ToCandidate(numerics::testing::EvenOddRational()));
  ASSERT_TRUE(over.has_value());
  EXPECT_EQ(over->status(), v1::INFEASIBLE);
  EXPECT_EQ(over->error(), "cost 9 exceeds numerics.max_ops 8");
  EXPECT_TRUE(std::isinf(over->objectives(0)) && std::isinf(over->objectives(1)));
  EXPECT_EQ(over->metrics().at("cost"), 9);
  EXPECT_FALSE(problem->CheckFeasible(ToCandidate(Times(2))).has_value());

  v1::NumericsSpec no_div = Spec("exp2", 0, 1);
  no_div.add_ops("add");
  no_div.add_ops("mul");
  auto restricted = Make(no_div);
  const auto foreign = restricted->CheckFeasible(ToCandidate(numerics::testing::EvenOddRational()));
  ASSERT_TRUE(foreign.has_value());
  EXPECT_EQ(foreign->error(), "op 'sub' is not in numerics.ops");
  Program dead_div = Times(2);  // a dead division does not count
  dead_div.instructions.insert(dead_div.instructions.begin(), {Op::kDiv, 0, 1, 0});
  dead_div.instructions[1] = {Op::kMul, 0, 1, 0};
  EXPECT_FALSE(restricted->CheckFeasible(ToCandidate(dead_div)).has_value());
  // An unreadable candidate is Evaluate's to report (FAILED), not infeasible.
  EXPECT_FALSE(problem->CheckFeasible(v1::Candidate()).has_value());
}

TEST(NumericsProblemTest, EvaluateRechecksFeasibilityAndFailsGarbage) {
  v1::NumericsSpec spec = Spec("exp2", 0, 1);
  spec.set_max_ops(8);
  auto problem = Make(spec);
  const v1::Candidate c = ToCandidate(numerics::testing::EvenOddRational());
  const v1::Evaluation ev = problem->Evaluate(c, EvalContext{});
  EXPECT_EQ(ev.status(), v1::INFEASIBLE);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ev, *problem->CheckFeasible(c)));
  v1::NumericsProgram bad;
  auto* in = bad.add_instructions();
  in->set_op(v1::ADD);
  in->set_a(5);
  const v1::Evaluation failed = problem->Evaluate(PackCandidate(bad), EvalContext{});
  EXPECT_EQ(failed.status(), v1::FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("operand a = 5"));
  EXPECT_EQ(problem->Evaluate(v1::Candidate(), EvalContext{}).error(),
            "candidate holds no numerics program");
}

TEST(NumericsProblemTest, EvaluateFitsAndRefines) {
  auto problem = Make(Spec("exp2", 0, 1));
  const v1::Candidate c = ToCandidate(numerics::testing::EvenOddRational());
  const v1::Evaluation ev = problem->Evaluate(c, EvalContext{7, 0});
  ASSERT_EQ(ev.status(), v1::OK) << ev.error();
  ASSERT_EQ(ev.objectives_size(), 2);
  EXPECT_LT(ev.objectives(0), -7.5);
  EXPECT_EQ(ev.objectives(1), 9);
  EXPECT_NEAR(std::pow(10.0, ev.objectives(0)), ev.metrics().at("max_rel_error"), 1e-20);
  EXPECT_EQ(ev.metrics().at("cost"), 9);
  EXPECT_EQ(ev.metrics().at("instructions"), 9);
  EXPECT_GT(ev.metrics().at("fit_seconds"), 0);
  auto refined = numerics::FromCandidate(ev.refined());
  ASSERT_TRUE(refined.ok()) << refined.status();
  EXPECT_NE(refined->constants[0], numerics::testing::EvenOddRational().constants[0]);
  // A pure function of (candidate, seed).
  EXPECT_EQ(problem->Evaluate(c, EvalContext{7, 0}).objectives(0), ev.objectives(0));
}

TEST(NumericsProblemTest, Float32ScoresInUlps) {
  v1::NumericsSpec spec = Spec("exp2", 0, 1);
  spec.set_mode(v1::FLOAT32);
  auto problem = Make(spec);
  const v1::Evaluation ev =
      problem->Evaluate(ToCandidate(numerics::testing::EvenOddRational()), EvalContext{1, 0});
  ASSERT_EQ(ev.status(), v1::OK) << ev.error();
  const double ulp = ev.metrics().at("max_ulp");
  EXPECT_GE(ulp, 1);
  EXPECT_LT(ulp, 100);
  EXPECT_DOUBLE_EQ(ev.objectives(0), std::log10(ulp + 1e-3));
}

// verify_every_float: the error is the refined program's over every float of the interval (the
// validation points' stays a metric), the same whichever device the worker names (this machine's
// cuda:0, if any, or the CPU when there is none), and jobs with and without it never share keys.
TEST(NumericsProblemTest, VerifyEveryFloatScoresTheWorstFloatOfTheInterval) {
  v1::NumericsSpec spec = Spec("exp2", 0.5, 0.75);
  spec.set_mode(v1::FLOAT32);
  auto plain = Make(spec);
  spec.set_verify_every_float(true);
  auto every = Make(spec);
  EXPECT_NE(plain->CanonicalSpec(), every->CanonicalSpec());
  const v1::Candidate c = ToCandidate(numerics::testing::EvenOddRational());
  const v1::Evaluation ev = every->Evaluate(c, EvalContext{1, 0});
  ASSERT_EQ(ev.status(), v1::OK) << ev.error();
  auto refined = numerics::FromCandidate(ev.refined());
  ASSERT_TRUE(refined.ok()) << refined.status();
  const numerics::ExhaustiveResult all =
      numerics::VerifyAllFloats(*refined, *numerics::FindTarget("exp2"), 0.5f, 0.75f);
  EXPECT_EQ(ev.metrics().at("max_ulp"), all.max_ulp);
  EXPECT_EQ(ev.metrics().at("worst_x"), all.worst_x);
  EXPECT_GE(ev.metrics().at("max_ulp"), ev.metrics().at("validation_max_ulp"));
  EXPECT_EQ(ev.metrics().at("every_float_on_device"), 0);
  EXPECT_DOUBLE_EQ(ev.objectives(0), std::log10(all.max_ulp + 1e-3));
  EXPECT_EQ(plain->Evaluate(c, EvalContext{1, 0}).metrics().count("every_float_seconds"), 0u);

  EvalContext on_device{1, 0};
  on_device.cuda_device = 0;
  const v1::Evaluation there = every->Evaluate(c, on_device);
  EXPECT_EQ(there.metrics().at("max_ulp"), all.max_ulp);
  EXPECT_EQ(there.metrics().at("worst_x"), all.worst_x);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(there.refined(), ev.refined()));
  // The refinement's neighbour batches ran where the verification did: both on a device, or
  // both on the CPU.
  EXPECT_EQ(ev.metrics().at("refined_on_device"), 0);
  EXPECT_EQ(there.metrics().at("refined_on_device"), there.metrics().at("every_float_on_device"));
}

// A batch (what a worker on a device evaluates together, verifying the refined programs in one
// launch) scores each candidate as Evaluate does alone, timing metrics aside; with or without a
// device named, and with an invalid candidate among them.
TEST(NumericsProblemTest, ABatchScoresEachCandidateAsEvaluateDoes) {
  v1::NumericsSpec spec = Spec("exp2", 0.5, 0.625);
  spec.set_mode(v1::FLOAT32);
  spec.set_verify_every_float(true);
  auto problem = Make(spec);
  std::mt19937 rng(5);
  std::vector<v1::Candidate> candidates = {ToCandidate(numerics::testing::EvenOddRational()),
                                           v1::Candidate()};
  for (int i = 0; i < 4; ++i)
    candidates.push_back(ToCandidate(numerics::testing::RandomProgram(rng)));
  std::vector<const v1::Candidate*> pointers;
  for (const v1::Candidate& c : candidates) pointers.push_back(&c);
  for (const int device : {-1, 0}) {
    std::vector<EvalContext> contexts;
    for (size_t i = 0; i < candidates.size(); ++i) {
      EvalContext context{100 + i, 0};
      context.cuda_device = device;
      contexts.push_back(context);
    }
    const std::vector<v1::Evaluation> batch = problem->EvaluateBatch(pointers, contexts);
    ASSERT_EQ(batch.size(), candidates.size());
    for (size_t i = 0; i < candidates.size(); ++i) {
      v1::Evaluation alone = problem->Evaluate(candidates[i], contexts[i]);
      v1::Evaluation together = batch[i];
      for (v1::Evaluation* e : {&alone, &together}) {
        e->mutable_metrics()->erase("fit_seconds");
        e->mutable_metrics()->erase("every_float_seconds");
      }
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(alone, together))
          << "candidate " << i << " on device " << device << ":\n"
          << alone.DebugString() << "\nvs\n"
          << together.DebugString();
    }
    EXPECT_EQ(batch[1].status(), v1::FAILED);
    EXPECT_EQ(batch[0].status(), v1::OK);
    EXPECT_GT(batch[0].metrics().count("worst_x"), 0u);
  }
}

TEST(NumericsProblemTest, ProbeIsTheFunctionalProbe) {
  v1::NumericsSpec spec = Spec("exp2", 0, 1);
  spec.set_mode(v1::FLOAT32);
  auto problem = Make(spec);
  const Program p = numerics::testing::EvenOddRational();
  EXPECT_EQ(problem->Probe(ToCandidate(p)), numerics::FunctionalProbe(0, 1, true).Bytes(p));
  EXPECT_EQ(problem->Probe(v1::Candidate()), "invalid");
}

TEST(NumericsProblemTest, RandomIsTheEmptyProgramAndMutateGrowsIt) {
  auto problem = Make(Spec("exp2", 0, 1));
  Rng rng(3);
  const v1::Candidate c = problem->Random(rng);
  auto p = numerics::FromCandidate(c);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->instructions.empty());
  auto child = numerics::FromCandidate(problem->Mutate(c, rng));
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(child->instructions.size(), 1u);
  // An unreadable parent mutates like the empty program.
  EXPECT_TRUE(numerics::FromCandidate(problem->Mutate(v1::Candidate(), rng)).ok());
}

TEST(NumericsProblemTest, RenderFormats) {
  auto problem = Make(Spec("exp2", 0, 1));
  const v1::Candidate c = ToCandidate(Times(2));
  EXPECT_EQ(problem->Render(c, RenderFormat::kC),
            "static inline double approx_exp2(double x) {\n  const double c0 = 2;\n"
            "  const double v2 = x * c0;\n  return v2;\n}\n");
  EXPECT_THAT(problem->Render(c, RenderFormat::kCFloat), HasSubstr("const float c0 = 2.0f;"));
  EXPECT_EQ(problem->Render(c, RenderFormat::kText), "c0 = 2\nv2 = x * c0\nreturn v2\n");
  EXPECT_THAT(problem->Render(c, RenderFormat::kJson), HasSubstr("NumericsProgram"));
}

// Found by tests/fuzz/numerics_program_fuzzer: the constants' packed field declares more bytes
// than the program holds. Protobuf's JSON printer looped forever on such bytes; every format
// now answers at once that the program is unreadable.
TEST(NumericsProblemTest, RenderOfAnUnreadableProgramReturnsAtOnceInEveryFormat) {
  auto problem = Make(Spec("exp2", 0, 1));
  v1::Candidate c;
  c.mutable_value()->set_type_url("type.googleapis.com/evolv.v1.NumericsProgram");
  c.mutable_value()->set_value(std::string("\x0a\xf6\x10\xc6\x05\xfe\x42\x2e\xe6\x3f", 10));
  for (RenderFormat format :
       {RenderFormat::kJson, RenderFormat::kText, RenderFormat::kC, RenderFormat::kCFloat}) {
    EXPECT_THAT(problem->Render(c, format), HasSubstr("invalid program"));
  }
}

v1::Evaluation Ok(double log10_error, int cost, int instructions) {
  v1::Evaluation ev;
  ev.set_status(v1::OK);
  ev.add_objectives(log10_error);
  ev.add_objectives(cost);
  (*ev.mutable_metrics())["cost"] = cost;
  (*ev.mutable_metrics())["instructions"] = instructions;
  return ev;
}

TEST(CompareNumericsHitTest, LetsTheFittedErrorDifferWithinTheTolerance) {
  const Problem::HitDifference same = CompareNumericsHit(Ok(-7, 9, 9), Ok(-7, 9, 9));
  EXPECT_TRUE(same.within);
  EXPECT_EQ(same.difference, 0);
  const double inside = 0.5 * kHitLog10ErrorTolerance;
  const Problem::HitDifference near = CompareNumericsHit(Ok(-7, 9, 9), Ok(-7 + inside, 9, 9));
  EXPECT_TRUE(near.within);
  EXPECT_NEAR(near.difference, inside, 1e-15);
  const double outside = 2 * kHitLog10ErrorTolerance;
  const Problem::HitDifference far = CompareNumericsHit(Ok(-7, 9, 9), Ok(-7 - outside, 9, 9));
  EXPECT_FALSE(far.within);
  EXPECT_NEAR(far.difference, outside, 1e-15);
  EXPECT_FALSE(CompareNumericsHit(Ok(-7, 9, 9), Ok(INFINITY, 9, 9)).within);
  EXPECT_TRUE(CompareNumericsHit(Ok(INFINITY, 9, 9), Ok(INFINITY, 9, 9)).within);
}

TEST(CompareNumericsHitTest, RequiresEqualStatusCostAndInstructions) {
  EXPECT_FALSE(CompareNumericsHit(Ok(-7, 9, 9), Ok(-7, 8, 9)).within);   // cost
  EXPECT_FALSE(CompareNumericsHit(Ok(-7, 9, 9), Ok(-7, 9, 10)).within);  // instructions
  v1::Evaluation infeasible = Ok(INFINITY, 9, 9);
  infeasible.set_status(v1::INFEASIBLE);
  const Problem::HitDifference d = CompareNumericsHit(Ok(-7, 9, 9), infeasible);
  EXPECT_FALSE(d.within);
  EXPECT_TRUE(std::isinf(d.difference));
  v1::Evaluation no_metrics = Ok(-7, 9, 9);
  no_metrics.clear_metrics();
  EXPECT_FALSE(CompareNumericsHit(Ok(-7, 9, 9), no_metrics).within);
}

TEST(NumericsProblemTest, CompareHitIsTheNumericsContract) {
  auto problem = Make(Spec("exp2", 0, 1));
  const double gap = 0.5 * kHitLog10ErrorTolerance;
  EXPECT_TRUE(problem->CompareHit(Ok(-7, 9, 9), Ok(-7 + gap, 9, 9)).within);
  EXPECT_FALSE(problem->CompareHit(Ok(-7, 9, 9), Ok(-7, 9, 10)).within);
}

// Mutation walks from the empty program, as a search takes them (no evaluation needed): every
// key must hold candidates with one cost, one live instruction count and one number of free
// constants, or a hit would serve another cost.
TEST(NumericsProblemTest, KeysNeverMixCostsInstructionCountsOrFreeConstants) {
  for (bool float32 : {false, true}) {
    v1::NumericsSpec spec = Spec("exp2", 0, 1);
    spec.set_mode(float32 ? v1::FLOAT32 : v1::REAL);
    auto problem = Make(spec);
    Rng rng(11);
    std::map<CacheKey, std::tuple<int, int, int>> facts;
    int shared = 0;
    for (int walk = 0; walk < 60; ++walk) {
      v1::Candidate c = problem->Random(rng);
      for (int step = 0; step < 40; ++step) {
        c = problem->Mutate(c, rng);
        auto p = numerics::FromCandidate(c);
        ASSERT_TRUE(p.ok()) << p.status();
        const std::tuple<int, int, int> f = {numerics::Cost(*p), numerics::LiveInstructions(*p),
                                             numerics::FreeConstants(*p)};
        auto [it, inserted] = facts.try_emplace(FunctionalKey(*problem, c), f);
        if (!inserted) {
          ++shared;
          ASSERT_EQ(it->second, f) << "float32 " << float32 << "\n" << numerics::RenderText(*p);
        }
      }
    }
    EXPECT_GT(shared, 100) << "float32 " << float32;  // keys are shared, so the check has teeth
  }
}

// A history of `programs` evaluated on `problem`.
std::vector<v1::HistoryEntry> Evaluated(const Problem& problem,
                                        const std::vector<Program>& programs) {
  std::vector<v1::HistoryEntry> history;
  for (const Program& p : programs) {
    v1::HistoryEntry& h = history.emplace_back();
    *h.mutable_candidate() = ToCandidate(p);
    *h.mutable_evaluation() = problem.Evaluate(h.candidate(), EvalContext{3, 0});
  }
  return history;
}

TEST(NumericsProblemTest, ChartsTheBestProgramsErrorAcrossTheInterval) {
  for (const bool float32 : {false, true}) {
    SCOPED_TRACE(float32 ? "FLOAT32" : "REAL");
    v1::NumericsSpec spec = Spec("exp2", 0, 1);
    if (float32) spec.set_mode(v1::FLOAT32);
    auto problem = Make(spec);
    const std::vector<v1::HistoryEntry> history =
        Evaluated(*problem, {Times(1.0), numerics::testing::EvenOddRational()});
    const char* metric = float32 ? "max_ulp" : "max_rel_error";
    const double best_error = history[1].evaluation().metrics().at(metric);
    ASSERT_LT(best_error, history[0].evaluation().metrics().at(metric));

    const std::vector<v1::ReportChart> charts = problem->Charts(history);
    ASSERT_EQ(charts.size(), 1u);
    const v1::ReportChart& chart = charts[0];
    EXPECT_EQ(chart.name(), "error-curve");
    EXPECT_THAT(chart.title(), HasSubstr("cost 9"));
    EXPECT_EQ(chart.log_y(), !float32);
    ASSERT_EQ(chart.series_size(), 1);
    const v1::ChartSeries& curve = chart.series(0);
    ASSERT_EQ(curve.x_size(), 401);
    ASSERT_EQ(curve.y_size(), 401);
    EXPECT_EQ(curve.x(0), 0);
    EXPECT_EQ(curve.x(400), 1);
    double max_error = 0;
    for (int i = 0; i < curve.y_size(); ++i) {
      ASSERT_TRUE(std::isfinite(curve.y(i))) << i;
      EXPECT_GE(curve.y(i), 0);
      if (i > 0) {
        EXPECT_GT(curve.x(i), curve.x(i - 1));
      }
      max_error = std::max(max_error, curve.y(i));
    }
    // The curve peaks where the validation found the best program's max error. In ULPs the
    // peaks are single floats that 401 points can step over: within one ULP below it there.
    if (float32) {
      EXPECT_LE(max_error, best_error);
      EXPECT_GE(max_error, best_error - 1);
    } else {
      EXPECT_NEAR(max_error, best_error, 0.1 * best_error);
    }
  }
  // Nothing to chart without an OK evaluation.
  auto problem = Make(Spec("exp2", 0, 1));
  EXPECT_TRUE(problem->Charts({}).empty());
}

}  // namespace
}  // namespace evolv

namespace evolv {
namespace {

// Seeds are the baselines that fit the job (numerics.max_ops, numerics.ops), least error first:
// on tanh [0, 1] at 10 ops the first is the rational x*P(x^2)/Q(x^2) below 1e-8, and evaluating
// it (constants fitted again) keeps it there. from_scratch turns them off.
TEST(NumericsProblemTest, SeedsAreTheBaselinesThatFitTheJob) {
  v1::NumericsSpec spec = Spec("tanh", 0, 1);
  spec.set_max_ops(10);
  auto problem = Make(spec);
  ASSERT_NE(problem, nullptr);
  const std::vector<v1::Candidate> seeds = problem->Seeds();
  ASSERT_GE(seeds.size(), 5u);
  for (const v1::Candidate& seed : seeds) {
    auto program = numerics::FromCandidate(seed);
    ASSERT_TRUE(program.ok());
    EXPECT_LE(numerics::Cost(*program), 10);
    EXPECT_EQ(problem->CheckFeasible(seed), std::nullopt);
  }
  const v1::Evaluation first = problem->Evaluate(seeds.front(), {1, 0});
  ASSERT_EQ(first.status(), v1::OK) << first.error();
  EXPECT_LT(first.metrics().at("max_rel_error"), 1e-8);
  const v1::Evaluation last = problem->Evaluate(seeds.back(), {1, 0});
  EXPECT_LE(first.metrics().at("max_rel_error"), last.metrics().at("max_rel_error"));

  // Without division only the polynomials are left; with a budget of 2 ops, nothing fits but
  // the lowest degrees.
  v1::NumericsSpec no_div = spec;
  for (const char* op : {"add", "sub", "mul"}) no_div.add_ops(op);
  for (const v1::Candidate& seed : Make(no_div)->Seeds()) {
    EXPECT_EQ(Make(no_div)->CheckFeasible(seed), std::nullopt);
  }
  v1::NumericsSpec tiny = spec;
  tiny.set_max_ops(2);
  for (const v1::Candidate& seed : Make(tiny)->Seeds()) {
    EXPECT_LE(numerics::Cost(*numerics::FromCandidate(seed)), 2);
  }

  spec.set_from_scratch(true);
  EXPECT_TRUE(Make(spec)->Seeds().empty());
}

}  // namespace
}  // namespace evolv

namespace evolv {
namespace {

// A small FLOAT32 search, guarding the float32 search from silently getting worse: NSGA-II
// (the default strategy) on exp2 over [0, 1] at 10 ops, 96 evaluations, run as the engine would
// (CheckFeasible, then Evaluate with the index as seed). Its best program of cost <= 10 is within
// 1 ULP on every float of [0, 1], the level of the nested minimax P4/Q1 (9 ops) that the seeds
// start from (the 10-op minimax polynomial gives 2; a search without seeds once ended at 6 ULP
// after 30 minutes).
TEST(NumericsSearchTest, AFloat32SearchKeepsTheNestedMinimaxLevelOnEveryFloat) {
  v1::NumericsSpec spec = Spec("exp2", 0, 1);
  spec.set_mode(v1::FLOAT32);
  spec.set_max_ops(10);
  auto problem = Make(spec);
  ASSERT_NE(problem, nullptr);
  v1::Nsga2Config config;
  config.set_parents(16);
  config.set_children(16);
  Nsga2 search(config, *problem, 1);
  std::vector<std::pair<double, Program>> found;  // (validation max_ulp, program), cost <= 10
  for (uint64_t i = 0; i < 96; ++i) {
    const v1::Candidate candidate = search.Ask(i);
    v1::Evaluation ev = problem->CheckFeasible(candidate).value_or(v1::Evaluation());
    if (ev.status() != v1::INFEASIBLE) ev = problem->Evaluate(candidate, {i, 0});
    search.Tell(i, candidate, ev);
    if (ev.status() != v1::OK) continue;
    auto program = numerics::FromCandidate(ev.has_refined() ? ev.refined() : candidate);
    ASSERT_TRUE(program.ok());
    if (numerics::Cost(*program) <= 10) found.push_back({ev.metrics().at("max_ulp"), *program});
  }
  ASSERT_FALSE(found.empty());
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  EXPECT_LE(found.front().first, 1.0);
  // As the report does: the validation points sample the interval, so the few best are verified
  // on every float and the best verified one counts.
  double verified = INFINITY;
  for (size_t k = 0; k < std::min<size_t>(4, found.size()); ++k) {
    verified = std::min(verified, numerics::VerifyAllFloats(found[k].second,
                                                            *numerics::FindTarget("exp2"), 0.0f,
                                                            1.0f)
                                      .max_ulp);
  }
  EXPECT_LE(verified, 1.0);
}

}  // namespace
}  // namespace evolv
