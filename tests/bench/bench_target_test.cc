#include "bench/bench_target.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace evolv::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs TakeRuns over `args` (argv[0] added) and returns N; `rest` gets what argv keeps.
int Take(std::vector<std::string> args, std::vector<std::string>* rest) {
  args.insert(args.begin(), "bench");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  const int runs = TakeRuns(argc, argv.data());
  rest->assign(argv.begin() + 1, argv.begin() + argc);
  EXPECT_EQ(argv[argc], nullptr);
  return runs;
}

TEST(TakeRunsTest, DefaultsToFiveAndLeavesArgumentsAlone) {
  std::vector<std::string> rest;
  EXPECT_EQ(Take({"2000", "1"}, &rest), kDefaultRuns);
  EXPECT_EQ(kDefaultRuns, 5);
  EXPECT_EQ(rest, (std::vector<std::string>{"2000", "1"}));
}

TEST(TakeRunsTest, RemovesEitherSpellingAndKeepsPositionalOrder) {
  std::vector<std::string> rest;
  EXPECT_EQ(Take({"2000", "--runs", "3", "1"}, &rest), 3);
  EXPECT_EQ(rest, (std::vector<std::string>{"2000", "1"}));
  EXPECT_EQ(Take({"--runs=7", "--benchmark_filter=NONE"}, &rest), 7);
  EXPECT_EQ(rest, (std::vector<std::string>{"--benchmark_filter=NONE"}));
}

TEST(TakeRunsTest, BadCountExitsTwoNamingTheFlag) {
  std::vector<std::string> rest;
  for (const char* bad : {"0", "101", "x", "3x", ""}) {
    EXPECT_EXIT(Take({"--runs", bad}, &rest), ::testing::ExitedWithCode(2), "--runs")
        << "value '" << bad << "'";
  }
  EXPECT_EXIT(Take({"--runs"}, &rest), ::testing::ExitedWithCode(2), "--runs");
}

// Checks one target and returns what the report printed.
std::string CheckPrints(TargetReport& report, const Target& target, std::vector<double> runs) {
  ::testing::internal::CaptureStdout();
  report.Check(target, std::move(runs));
  return ::testing::internal::GetCapturedStdout();
}

TEST(TargetReportTest, AtLeastTargetPassesOnTheMedianAndWorstIsTheLowestRun) {
  TargetReport report;
  const std::string out =
      CheckPrints(report, {"speedup", Compare::kAtLeast, 1.8, "x"}, {1.9, 1.2, 2.0, 1.85, 1.81});
  EXPECT_THAT(out, HasSubstr("runs   speedup: 1.90 1.20 2.00 1.85 1.81x\n"));
  EXPECT_THAT(out, HasSubstr("target speedup: median 1.85x, worst 1.20x of 5 runs; "
                             "target >= 1.8x: PASS\n"));
  EXPECT_EQ(report.ExitStatus(), 0);
}

TEST(TargetReportTest, AtMostTargetMissesWhenTheMedianIsAboveAndWorstIsTheHighestRun) {
  TargetReport report;
  const std::string out =
      CheckPrints(report, {"round trip p50", Compare::kAtMost, 200, " us"}, {150, 250, 300, 210});
  // Even count: the median is the mean of the middle two (210, 250).
  EXPECT_THAT(out, HasSubstr("target round trip p50: median 230.00 us, worst 300.00 us of 4 "
                             "runs; target <= 200 us: MISS\n"));
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(report.ExitStatus(), 1);
  EXPECT_THAT(::testing::internal::GetCapturedStdout(), HasSubstr("[round trip p50]"));
}

TEST(TargetReportTest, BelowTargetIsStrict) {
  TargetReport report;
  EXPECT_THAT(CheckPrints(report, {"hit p99", Compare::kBelow, 50, " us"}, {50}),
              HasSubstr("target < 50 us: MISS"));
  EXPECT_THAT(CheckPrints(report, {"hit p50", Compare::kBelow, 50, " us"}, {49.9}),
              HasSubstr("target < 50 us: PASS"));
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(report.ExitStatus(), 1);
  const std::string missed = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(missed, HasSubstr("[hit p99]"));
  EXPECT_THAT(missed, Not(HasSubstr("[hit p50]")));
}

TEST(TargetReportTest, AtMostTargetIsMetAtTheBound) {
  TargetReport report;
  EXPECT_THAT(CheckPrints(report, {"p50", Compare::kAtMost, 200, " us"}, {200, 190, 400}),
              HasSubstr("median 200.00 us, worst 400.00 us of 3 runs; target <= 200 us: PASS"));
  EXPECT_EQ(report.ExitStatus(), 0);
}

TEST(TargetReportTest, AFigureWithoutATargetIsPrintedAndNeverMisses) {
  TargetReport report;
  ::testing::internal::CaptureStdout();
  report.Report("round trip p50", {400, 300, 500}, " us", false);
  report.Report("evaluations per second", {9, 7, 8}, "/s", true);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("runs   round trip p50: 400.00 300.00 500.00 us\n"));
  EXPECT_THAT(out, HasSubstr("figure round trip p50: median 400.00 us, worst 500.00 us of 3 runs "
                             "(no target)\n"));
  EXPECT_THAT(out, HasSubstr("figure evaluations per second: median 8.00/s, worst 7.00/s"));
  EXPECT_EQ(report.ExitStatus(), 0);
}

}  // namespace
}  // namespace evolv::bench
