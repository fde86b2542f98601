#include "services/progress_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace evolv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::ObjectiveDisplay Display(const std::string& name, const std::string& label,
                             const std::string& unit, v1::ObjectiveDisplay::Scale scale) {
  v1::ObjectiveDisplay display;
  display.set_name(name);
  display.set_label(label);
  display.set_unit(unit);
  display.set_scale(scale);
  return display;
}

TEST(ProgressLineTest, ObjectivesReadWithLabelUnitAndTheirScale) {
  const auto relative = Display("log10_error", "max rel. error", "", v1::ObjectiveDisplay::LOG10);
  const auto ulp = Display("log10_error", "max error", "ULP", v1::ObjectiveDisplay::LOG10);
  EXPECT_EQ(FormatObjective(relative, std::log10(6.2e-8)), "max rel. error 6.2e-08");
  EXPECT_EQ(FormatObjective(ulp, std::log10(166.0)), "max error 166 ULP");
  EXPECT_EQ(FormatObjective(ulp, 2.21), "max error 162 ULP");
  EXPECT_EQ(FormatObjective(Display("fd", "FD", "", v1::ObjectiveDisplay::LINEAR), 0.03961),
            "FD 0.0396");
  // No label: the name; whole numbers up to 1e6 in full.
  EXPECT_EQ(FormatObjective(Display("iterations", "", "", v1::ObjectiveDisplay::LINEAR), 16),
            "iterations 16");
  EXPECT_EQ(FormatObjective(Display("iterations", "", "", v1::ObjectiveDisplay::LINEAR), 22401),
            "iterations 22401");
  // A maximized quantity, stored negated: shown as itself.
  EXPECT_EQ(FormatObjective(Display("accuracy", "", "", v1::ObjectiveDisplay::NEGATED), -0.912),
            "accuracy 0.912");
  // A record from before displays existed: the value alone.
  EXPECT_EQ(FormatObjective(v1::ObjectiveDisplay(), -7.21), "-7.21");
  EXPECT_EQ(FormatObjective(relative, INFINITY), "max rel. error inf");
}

TEST(ProgressLineTest, AnEvaluationBudgetCountsEvaluationsWithTheirEta) {
  v1::JobProgress p;
  p.set_evaluations(300);
  p.set_budget_evaluations(1200);
  p.set_evals_per_second(100);
  p.set_best_objective(std::log10(6.2e-8));
  *p.mutable_objective() =
      Display("log10_error", "max rel. error", "", v1::ObjectiveDisplay::LOG10);
  EXPECT_EQ(FormatWork(p), "300/1200 evals");
  const std::string line = ProgressLine(p, false);
  EXPECT_THAT(line, HasSubstr("300/1200 evals  best max rel. error 6.2e-08"));
  EXPECT_THAT(line, HasSubstr("100 evals/s  ETA 00:09"));
  EXPECT_THAT(ProgressLine(p, true), HasSubstr("[######..................] 300/1200 evals"));
}

TEST(ProgressLineTest, SlowEvaluationsShowTheirRateWithTwoDigits) {
  v1::JobProgress p;
  p.set_evaluations(4);
  p.set_budget_evaluations(30);
  p.set_evals_per_second(0.123);
  EXPECT_THAT(ProgressLine(p, false), HasSubstr("0.12 evals/s"));
  p.set_evals_per_second(0);
  EXPECT_THAT(ProgressLine(p, false), HasSubstr(" 0 evals/s"));
}

TEST(ProgressLineTest, ATimeBudgetShowsItsLengthAndTheTimeLeft) {
  v1::JobProgress p;
  p.set_evaluations(22401);
  p.set_budget_seconds(300);
  p.set_elapsed_seconds(120);
  p.set_evals_per_second(186);
  EXPECT_EQ(FormatWork(p), "22401 evals, 05:00 budget");
  EXPECT_THAT(ProgressLine(p, false), HasSubstr("ETA 03:00"));
  EXPECT_THAT(ProgressLine(p, true), HasSubstr("[#########...............] 22401 evals"));
  // Unbounded (no budget at all): elapsed time, no bar.
  v1::JobProgress open;
  open.set_evaluations(5);
  open.set_elapsed_seconds(61);
  EXPECT_THAT(ProgressLine(open, true), HasSubstr("elapsed 01:01"));
  EXPECT_THAT(ProgressLine(open, true), Not(HasSubstr("[")));
}

TEST(ProgressLineTest, AStrategysOwnUnitsSetTheRateAndEtaAndMayHideTheBest) {
  v1::JobProgress p;
  p.set_evaluations(1100);
  p.set_budget_evaluations(50000);  // the natural end: 5000 instances of 10 evaluations
  p.set_evals_per_second(110);
  p.set_best_objective(16);
  p.set_note("mean iterations: tsallis_inf 41.2");
  *p.mutable_objective() = Display("iterations", "", "", v1::ObjectiveDisplay::LINEAR);
  v1::WorkUnits* units = p.mutable_units();
  units->set_name("instances");
  units->set_done(110);
  units->set_total(5000);
  units->set_per_second(11);
  units->set_best_is_incidental(true);
  EXPECT_EQ(FormatWork(p), "110/5000 instances");
  EXPECT_EQ(FormatBest(p), "");
  const std::string line = ProgressLine(p, false);
  EXPECT_THAT(line, HasSubstr("110/5000 instances  mean iterations: tsallis_inf 41.2  cache"));
  EXPECT_THAT(line, HasSubstr("11 instances/s  ETA 07:24"));  // 4890 instances at 11/s
  EXPECT_THAT(line, Not(HasSubstr("best")));
}

TEST(ProgressLineTest, NoBestBeforeTheFirstResult) {
  v1::JobProgress p;
  p.set_best_objective(INFINITY);
  EXPECT_EQ(FormatBest(p), "");
  p.set_evaluations(3);
  EXPECT_EQ(FormatBest(p), "");
  p.set_best_objective(2.5);
  EXPECT_EQ(FormatBest(p), "2.5");
}

}  // namespace
}  // namespace evolv
