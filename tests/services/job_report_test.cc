// A job's report: built from a problem's Report and Figures within the limits, written to a
// directory, and cached by evolvd per (job, history size).
#include "services/job_report.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "services/evolvd/job_reports.h"
#include "tests/support/png_decode.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

using testing::ToyProblem;

std::vector<v1::HistoryEntry> History(size_t n) { return std::vector<v1::HistoryEntry>(n); }

// The toy problem with the figures it is given instead of its own.
class FiguresProblem : public ToyProblem {
 public:
  explicit FiguresProblem(std::vector<Figure> figures)
      : ToyProblem(2, 0, 0), figures_(std::move(figures)) {}
  std::vector<Figure> Figures(const std::vector<v1::HistoryEntry>&) const override {
    return figures_;
  }

 private:
  std::vector<Figure> figures_;
};

// Expects building `problem`'s report to be refused as Internal with a message holding `what`
// and `domain`.
void ExpectRefused(const Problem& problem, const std::string& what, const std::string& domain) {
  auto report = BuildJobReport("job1", problem, History(1));
  ASSERT_FALSE(report.ok()) << what;
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(report.status().message().find(what), std::string::npos) << report.status();
  EXPECT_NE(report.status().message().find(domain), std::string::npos) << report.status();
}

TEST(JobReportTest, HoldsTheProblemsTextAndFigures) {
  const ToyProblem toy(2, 0, 0);
  auto report = BuildJobReport("job1", toy, History(3));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->job_id(), "job1");
  EXPECT_EQ(report->history_size(), 3u);
  EXPECT_EQ(report->text(), "toy: 3 results\n");
  ASSERT_EQ(report->figures_size(), 1);
  EXPECT_EQ(report->figures(0).name(), "gradient.png");
  EXPECT_EQ(report->figures(0).caption(), "toy gradient after 3 results");
  auto decoded = testing::DecodePng(report->figures(0).png());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->width, ToyProblem::kGradientSide);
  EXPECT_EQ(decoded->pixels.back(), 255);
}

TEST(JobReportTest, AProblemBreakingTheFigureRulesIsInternalNamingTheFigure) {
  struct Case {
    std::vector<Figure> figures;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{{"../escape.png", "", "x"}}, "figure name '../escape.png' is not"},
      {{{"Upper.png", "", "x"}}, "figure name 'Upper.png'"},
      {{{"no-suffix", "", "x"}}, "figure name 'no-suffix'"},
      {{{std::string(65, 'a') + ".png", "", "x"}}, "is not [a-z0-9]"},
      {{{"a.png", "", "x"}, {"a.png", "", "y"}}, "figure name 'a.png' repeats"},
      {std::vector<Figure>(kMaxReportFigures + 1, Figure{"a.png", "", "x"}), "33 figures"},
      {{{"big.png", "", std::string(kMaxReportFigureBytes + 1, 'x')}}, "at big.png"},
      {{{"long.png", std::string(kMaxFigureCaptionBytes + 1, 'c'), "x"}}, "long.png's caption"},
  };
  for (const Case& c : cases) ExpectRefused(FiguresProblem(c.figures), c.message, "toy");
  // The longest name and the most figures are fine.
  const FiguresProblem fine({{std::string(64, 'z') + ".png", "", "x"}, {"0_-9.png", "", "y"}});
  EXPECT_TRUE(BuildJobReport("job1", fine, History(1)).ok());
}

// The toy problem with the charts it is given instead of its own.
class ChartsProblem : public ToyProblem {
 public:
  explicit ChartsProblem(std::vector<v1::ReportChart> charts)
      : ToyProblem(2, 0, 0), charts_(std::move(charts)) {}
  std::vector<v1::ReportChart> Charts(const std::vector<v1::HistoryEntry>&) const override {
    return charts_;
  }

 private:
  std::vector<v1::ReportChart> charts_;
};

v1::ReportChart Chart(const std::string& name, int series, int points) {
  v1::ReportChart chart;
  chart.set_name(name);
  for (int s = 0; s < series; ++s) {
    v1::ChartSeries* out = chart.add_series();
    for (int i = 0; i < points; ++i) {
      out->add_x(i);
      out->add_y(i);
    }
  }
  return chart;
}

TEST(JobReportTest, HoldsTheProblemsCharts) {
  const ToyProblem toy(2, 0, 0);
  auto report = BuildJobReport("job1", toy, History(3));
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->charts_size(), 1);
  const v1::ReportChart& chart = report->charts(0);
  EXPECT_EQ(chart.name(), "results");
  EXPECT_EQ(chart.title(), "toy chart after 3 results");
  EXPECT_TRUE(chart.log_y());
  ASSERT_EQ(chart.series_size(), 1);
  EXPECT_EQ(chart.series(0).y_size(), ToyProblem::kChartPoints);
  EXPECT_EQ(chart.series(0).y(3), 9);
}

TEST(JobReportTest, AProblemBreakingTheChartLimitsIsInternalNamingTheDomainAndChart) {
  struct Case {
    std::vector<v1::ReportChart> charts;
    const char* message;
  };
  v1::ReportChart uneven = Chart("uneven", 1, 3);
  uneven.mutable_series(0)->add_x(7);
  v1::ReportChart long_title = Chart("titled", 1, 1);
  long_title.set_title(std::string(kMaxChartTextBytes + 1, 't'));
  const std::vector<Case> cases = {
      {std::vector<v1::ReportChart>(kMaxReportCharts + 1, Chart("a", 1, 1)), "drew 9 charts"},
      {{Chart("many", kMaxChartSeries + 1, 1)}, "many has 17 series"},
      {{Chart("long", 1, kMaxChartPoints + 1)}, "long: series '' has 2001 points"},
      {{uneven}, "uneven: series '' has 4 x and 3 y values"},
      {{Chart("Upper", 1, 1)}, "chart name 'Upper' is not"},
      {{Chart("", 1, 1)}, "chart name '' is not"},
      {{Chart("twice", 1, 1), Chart("twice", 1, 1)}, "chart name 'twice' repeats"},
      {{long_title}, "titled's title or an axis label exceeds 256 bytes"},
  };
  for (const Case& c : cases)
    ExpectRefused(ChartsProblem(c.charts), c.message, "charts: domain toy");
  // The limits themselves are fine.
  const ChartsProblem fine(std::vector<v1::ReportChart>(
      {Chart("a", kMaxChartSeries, kMaxChartPoints), Chart("b", 0, 0)}));
  EXPECT_TRUE(BuildJobReport("job1", fine, History(1)).ok());
  std::vector<v1::ReportChart> most;
  for (size_t i = 0; i < kMaxReportCharts; ++i)
    most.push_back(Chart("c" + std::to_string(i), 1, 1));
  EXPECT_TRUE(BuildJobReport("job1", ChartsProblem(most), History(1)).ok());
}

TEST(JobReportTest, WritesTheTextAndEachFigureIntoANewDirectory) {
  TempDir dir;
  auto report = BuildJobReport("job1", ToyProblem(2, 0, 0), History(2));
  ASSERT_TRUE(report.ok()) << report.status();
  const std::string out = dir.Sub("a/b");
  ASSERT_TRUE(WriteJobReport(*report, out).ok());
  EXPECT_EQ(Subprocess::Slurp(out + "/report.txt"), "toy: 2 results\n");
  EXPECT_EQ(Subprocess::Slurp(out + "/gradient.png"), report->figures(0).png());
  EXPECT_TRUE(CheckReportDir(out).ok());
}

TEST(JobReportTest, WritingRefusesBadNamesBeforeWritingAnything) {
  TempDir dir;
  v1::JobReport report;
  report.set_text("text");
  report.add_figures()->set_name("fine.png");
  report.add_figures()->set_name("../../etc/evil.png");
  const absl::Status status = WriteJobReport(report, dir.Sub("out"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("'../../etc/evil.png'"), std::string::npos) << status;
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("out")));
}

TEST(JobReportTest, AReportDirectoryMustNotBeAFile) {
  TempDir dir;
  std::ofstream(dir.Sub("file")) << "x";
  EXPECT_NE(CheckReportDir(dir.Sub("file")).message().find("exists and is not a directory"),
            std::string::npos);
  EXPECT_EQ(CheckReportDir("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckReportDir(dir.Sub("missing")).ok());
  EXPECT_TRUE(CheckReportDir(dir.path()).ok());
}

// The toy domain whose problems count the figures they draw.
struct CountingFigures {
  CountingFigures() {
    absl::Status status = registry.Register<test::ToySpec>(
        "toy",
        [this](const test::ToySpec& s) -> absl::StatusOr<std::unique_ptr<Problem>> {
          return std::make_unique<Counting>(s.dims() ? s.dims() : 4, &drawn);
        },
        test::ToySpec());
    EXPECT_TRUE(status.ok()) << status;
  }
  class Counting : public ToyProblem {
   public:
    Counting(int dims, std::atomic<int>* drawn) : ToyProblem(dims, 0, 0), drawn_(drawn) {}
    std::vector<Figure> Figures(const std::vector<v1::HistoryEntry>& history) const override {
      ++*drawn_;
      return ToyProblem::Figures(history);
    }

   private:
    std::atomic<int>* drawn_;
  };
  ProblemRegistry registry;
  std::atomic<int> drawn{0};
};

class JobReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.Sub("store"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  v1::JobRecord Job(const std::string& id) {
    testing::ToyJobOptions options;
    options.id = id;
    v1::JobRecord job = testing::ToyJob(options);
    EXPECT_TRUE(store_->PutJob(job).ok());
    return job;
  }

  void AddRow(const std::string& job_id, uint64_t index) {
    CheckpointBatch batch;
    batch.history.push_back({job_id, v1::HistoryEntry()});
    batch.history.back().entry.set_index(index);
    ASSERT_TRUE(store_->Commit(batch).ok());
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(JobReportsTest, ARepeatedAskIsServedFromTheCacheUntilTheHistoryGrows) {
  CountingFigures counting;
  ProblemCache problems(counting.registry);
  JobReports reports(*store_, problems);
  const v1::JobRecord job = Job("a");
  AddRow("a", 0);

  auto first = reports.Get(job);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->history_size(), 1u);
  EXPECT_EQ((*reports.Get(job))->text(), "toy: 1 results\n");
  EXPECT_EQ(counting.drawn, 1);

  AddRow("a", 1);
  auto second = reports.Get(job);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->history_size(), 2u);
  EXPECT_EQ((*second)->text(), "toy: 2 results\n");
  EXPECT_EQ(counting.drawn, 2);
}

TEST_F(JobReportsTest, KeepsTheLastFewReportsOnly) {
  CountingFigures counting;
  ProblemCache problems(counting.registry);
  JobReports reports(*store_, problems);
  std::vector<v1::JobRecord> jobs;
  for (size_t i = 0; i <= JobReports::kCapacity; ++i)
    jobs.push_back(Job("job" + std::to_string(i)));
  for (const auto& job : jobs) ASSERT_TRUE(reports.Get(job).ok());
  EXPECT_EQ(counting.drawn, static_cast<int>(JobReports::kCapacity) + 1);
  ASSERT_TRUE(reports.Get(jobs.back()).ok());  // still held
  EXPECT_EQ(counting.drawn, static_cast<int>(JobReports::kCapacity) + 1);
  ASSERT_TRUE(reports.Get(jobs.front()).ok());  // the oldest was dropped: drawn again
  EXPECT_EQ(counting.drawn, static_cast<int>(JobReports::kCapacity) + 2);
}

}  // namespace
}  // namespace evolv
