#include "evaluators/numerics/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::HistoryEntry Entry(const Program& p, double error, const char* metric, bool refined) {
  v1::HistoryEntry h;
  *h.mutable_candidate() = ToCandidate(p);
  v1::Evaluation* ev = h.mutable_evaluation();
  ev->set_status(v1::OK);
  (*ev->mutable_metrics())[metric] = error;
  if (refined) *ev->mutable_refined() = ToCandidate(p);
  return h;
}

Program Linear() {  // c0 * x + c1
  Program p;
  p.constants = {1.0, 1.0};
  p.instructions = {{Op::kMul, 0, 1, 0}, {Op::kAdd, 3, 2, 0}};
  return p;
}

struct JobFixture {
  JobFixture(double lower, double upper, bool float32)
      : validation(MakeValidationPoints(*FindTarget("exp2"), lower, upper, 10000, 7, float32)),
        float_validation(MakeValidationPoints(*FindTarget("exp2"), lower, upper, 10000, 7, true)),
        baselines(ComputeBaselineSet(*FindTarget("exp2"), lower, upper, 10,
                                     {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv})) {
    setup.target = FindTarget("exp2");
    setup.lower = lower;
    setup.upper = upper;
    setup.float32 = float32;
    setup.max_ops = 10;
    setup.validation = &validation;
    setup.float_validation = &float_validation;
    setup.baselines = &baselines;
  }
  Samples validation, float_validation;
  BaselineSet baselines;
  ReportSetup setup;
};

TEST(JobReportTest, RealReportHasFrontBaselinesAndBestProgramInDouble) {
  const JobFixture s(0, 1, false);
  v1::HistoryEntry failed = Entry(Linear(), 0, "max_rel_error", false);
  failed.mutable_evaluation()->set_status(v1::INFEASIBLE);
  const std::string report =
      JobReport(s.setup, {Entry(Linear(), 0.04, "max_rel_error", true),
                          Entry(testing::EvenOddRational(), 2e-9, "max_rel_error", true), failed});
  EXPECT_THAT(report, HasSubstr("AutoNumerics report: exp2 on [0, 1], real, max_ops 10"));
  EXPECT_THAT(report, HasSubstr("Pareto front (2 OK evaluations)"));
  EXPECT_THAT(report, HasSubstr("taylor"));
  EXPECT_THAT(report, HasSubstr("minimax"));
  EXPECT_THAT(report, HasSubstr("Best program (cost 9, max_rel_error 2e-09)"));
  EXPECT_THAT(report, HasSubstr("static inline double approx_exp2(double x)"));
  EXPECT_THAT(report, Not(HasSubstr("Exhaustive")));
}

TEST(JobReportTest, Float32ReportVerifiesTheBestProgramsOnEveryFloat) {
  // A narrow interval keeps the exhaustive check small.
  const JobFixture s(0.5, 0.5078125, true);
  const std::string report =
      JobReport(s.setup, {Entry(Linear(), 30, "max_ulp", false),
                          Entry(testing::EvenOddRational(), 2, "max_ulp", false)});
  EXPECT_THAT(report, HasSubstr("Pareto front (2 OK evaluations)"));
  EXPECT_THAT(report, HasSubstr("Smallest float32 minimax degree within 1 ULP"));
  EXPECT_THAT(report, HasSubstr("static inline float approx_exp2(float x)"));
  EXPECT_THAT(report, HasSubstr("Exhaustive float32 check of the 2 best programs"));
  EXPECT_THAT(report, HasSubstr("Best verified program"));
  EXPECT_THAT(report, HasSubstr("Exhaustive float32 check: 131073 floats"));
}

TEST(JobReportTest, SaysWhenNoCandidateIsWithinBudget) {
  JobFixture s(0, 1, false);
  s.setup.max_ops = 4;
  const std::string report =
      JobReport(s.setup, {Entry(testing::EvenOddRational(), 2e-9, "max_rel_error", true)});
  EXPECT_THAT(report, HasSubstr("Pareto front (1 OK evaluations)"));
  EXPECT_THAT(report, HasSubstr("No OK candidate with cost <= 4."));
}

// Occurrences of `needle` in `text`.
int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(JobReportTest, ShowsACostKProgramAsKInstructionsAndStatesTheCostRule) {
  Program p;  // x * (c1 * c1) + (c0 + c0), with x * x dead: cost 2, 4 live instructions
  p.constants = {0.5, 2.0};
  p.instructions = {
      {Op::kAdd, 1, 1, 0}, {Op::kMul, 2, 2, 0}, {Op::kMul, 0, 4, 0},
      {Op::kMul, 0, 0, 0}, {Op::kAdd, 5, 3, 0},
  };
  ASSERT_EQ(Cost(p), 2);
  ASSERT_EQ(LiveInstructions(p), 4);
  for (bool float32 : {false, true}) {
    JobFixture s(0.5, 0.5078125, float32);
    s.setup.max_ops = 2;
    const std::string report =
        JobReport(s.setup, {Entry(p, 0.5, float32 ? "max_ulp" : "max_rel_error", false)});
    SCOPED_TRACE(report);
    EXPECT_THAT(report, HasSubstr("Cost = ops that depend on x; constant-only ops are folded"));
    EXPECT_EQ(Count(report, float32 ? "  const float v" : "  const double v"), 2);
  }
}

TEST(JobReportTest, EachFrontCostStandsBesideTheBestBaselineOfAtMostThatManyOps) {
  const JobFixture s(0, 1, false);
  const std::string report =
      JobReport(s.setup, {Entry(Linear(), 0.04, "max_rel_error", true),
                          Entry(testing::EvenOddRational(), 2e-9, "max_rel_error", true)});
  const std::vector<BaselineRow> rows =
      MeasureBaselines(s.baselines, s.validation, s.float_validation, false);
  for (const auto& [cost, searched] : std::vector<std::pair<int, double>>{{2, 0.04}, {9, 2e-9}}) {
    const BaselineRow* best = nullptr;
    for (const BaselineRow& r : rows) {
      if (r.baseline->ops <= cost && (best == nullptr || r.rel_error < best->rel_error)) best = &r;
    }
    ASSERT_NE(best, nullptr);
    const double base = static_cast<double>(best->rel_error);
    EXPECT_THAT(report,
                HasSubstr(absl::StrFormat("%6d  %14.4g  %14.4g  %4d  %10.4g  %s %s\n", cost,
                                          searched, base, best->baseline->ops, searched / base,
                                          best->baseline->family, best->baseline->form)))
        << report;
  }
  EXPECT_THAT(report, HasSubstr("ratio = searched / baseline max_rel_error"));
}

TEST(JobReportTest, BaselinesThatCannotBeComputedGetALineWithTheReason) {
  const Target& exp = *FindTarget("exp");
  const Samples validation = MakeValidationPoints(exp, 0, 12000, 10000, 7, false);
  const Samples float_validation = MakeValidationPoints(exp, 0, 12000, 10000, 7, true);
  const BaselineSet baselines = ComputeBaselineSet(exp, 0, 12000, 10, {Op::kAdd, Op::kMul});
  ReportSetup setup;
  setup.target = &exp;
  setup.lower = 0;
  setup.upper = 12000;
  setup.validation = &validation;
  setup.float_validation = &float_validation;
  setup.baselines = &baselines;
  const std::string report = JobReport(setup, {Entry(Linear(), 0.5, "max_rel_error", true)});
  EXPECT_THAT(report, HasSubstr("Baselines not computed:\n  all baselines: exp is not finite at "
                                "x = 11358"));
  EXPECT_THAT(report, HasSubstr("(no baseline this cheap)"));
  EXPECT_THAT(report, HasSubstr("Best program (cost 2"));
}

}  // namespace
}  // namespace evolv::numerics
