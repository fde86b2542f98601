#include "evaluators/numerics/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
        float_validation(MakeValidationPoints(*FindTarget("exp2"), lower, upper, 10000, 7, true)) {
    setup.target = FindTarget("exp2");
    setup.lower = lower;
    setup.upper = upper;
    setup.float32 = float32;
    setup.max_ops = 10;
    setup.validation = &validation;
    setup.float_validation = &float_validation;
  }
  Samples validation, float_validation;
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

}  // namespace
}  // namespace evolv::numerics
