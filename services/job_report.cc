#include "services/job_report.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"

namespace evolv {
namespace {

// Empty when every figure's name is a figure name and none repeats; else what is wrong.
std::string FigureNameProblem(const v1::JobReport& report) {
  std::set<std::string> seen;
  for (const v1::ReportFigure& figure : report.figures()) {
    if (!IsFigureName(figure.name())) {
      return absl::StrCat("figure name '", figure.name(),
                          "' is not [a-z0-9][a-z0-9_-]{0,63}\\.png");
    }
    if (!seen.insert(figure.name()).second) {
      return absl::StrCat("figure name '", figure.name(), "' repeats");
    }
  }
  return "";
}

// OK when `charts` keep the chart limits of job_report.h; else Internal naming the domain and
// the chart.
absl::Status CheckCharts(const std::string& domain, const std::vector<v1::ReportChart>& charts) {
  auto broken = [&](const std::string& what) {
    return absl::InternalError(absl::StrCat("charts: domain ", domain, ": ", what));
  };
  if (charts.size() > kMaxReportCharts) {
    return broken(absl::StrCat("drew ", charts.size(), " charts; the limit is ", kMaxReportCharts));
  }
  std::set<std::string> seen;
  for (const v1::ReportChart& chart : charts) {
    if (!IsChartName(chart.name())) {
      return broken(absl::StrCat("chart name '", chart.name().substr(0, 80),
                                 "' is not [a-z0-9][a-z0-9_-]{0,63}"));
    }
    if (!seen.insert(chart.name()).second) {
      return broken(absl::StrCat("chart name '", chart.name(), "' repeats"));
    }
    if (chart.title().size() > kMaxChartTextBytes || chart.x_label().size() > kMaxChartTextBytes ||
        chart.y_label().size() > kMaxChartTextBytes) {
      return broken(absl::StrCat(chart.name(), "'s title or an axis label exceeds ",
                                 kMaxChartTextBytes, " bytes"));
    }
    if (static_cast<size_t>(chart.series_size()) > kMaxChartSeries) {
      return broken(absl::StrCat(chart.name(), " has ", chart.series_size(),
                                 " series; the limit is ", kMaxChartSeries));
    }
    for (const v1::ChartSeries& series : chart.series()) {
      if (series.label().size() > kMaxChartTextBytes) {
        return broken(
            absl::StrCat(chart.name(), ": a series label exceeds ", kMaxChartTextBytes, " bytes"));
      }
      if (series.x_size() != series.y_size()) {
        return broken(absl::StrCat(chart.name(), ": series '", series.label(), "' has ",
                                   series.x_size(), " x and ", series.y_size(), " y values"));
      }
      if (static_cast<size_t>(series.x_size()) > kMaxChartPoints) {
        return broken(absl::StrCat(chart.name(), ": series '", series.label(), "' has ",
                                   series.x_size(), " points; the limit is ", kMaxChartPoints));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InternalError("cannot write " + path.string());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::JobReport> BuildJobReport(const std::string& job_id, const Problem& problem,
                                             const std::vector<v1::HistoryEntry>& history) {
  v1::JobReport report;
  report.set_job_id(job_id);
  report.set_history_size(history.size());
  report.set_text(problem.Report(history));
  std::vector<Figure> figures = problem.Figures(history);
  const std::string domain = problem.Domain();
  if (figures.size() > kMaxReportFigures) {
    return absl::InternalError(absl::StrCat("figures: domain ", domain, " drew ", figures.size(),
                                            " figures; the limit is ", kMaxReportFigures));
  }
  size_t bytes = 0;
  for (Figure& figure : figures) {
    bytes += figure.png.size();
    if (bytes > kMaxReportFigureBytes) {
      return absl::InternalError(absl::StrCat("figures: domain ", domain, "'s figures reach ",
                                              bytes, " bytes at ", figure.name, "; the limit is ",
                                              kMaxReportFigureBytes));
    }
    if (figure.caption.size() > kMaxFigureCaptionBytes) {
      return absl::InternalError(absl::StrCat("figures: domain ", domain, ": ", figure.name,
                                              "'s caption exceeds ", kMaxFigureCaptionBytes,
                                              " bytes"));
    }
    v1::ReportFigure* out = report.add_figures();
    out->set_name(std::move(figure.name));
    out->set_caption(std::move(figure.caption));
    out->set_png(std::move(figure.png));
  }
  if (std::string problem_text = FigureNameProblem(report); !problem_text.empty()) {
    return absl::InternalError(absl::StrCat("figures: domain ", domain, ": ", problem_text));
  }
  std::vector<v1::ReportChart> charts = problem.Charts(history);
  if (absl::Status s = CheckCharts(domain, charts); !s.ok()) return s;
  for (v1::ReportChart& chart : charts) *report.add_charts() = std::move(chart);
  return report;
}

absl::Status WriteJobReport(const v1::JobReport& report, const std::string& dir) {
  if (std::string problem_text = FigureNameProblem(report); !problem_text.empty()) {
    return absl::InvalidArgumentError("figures: " + problem_text);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError("cannot create the directory " + dir + ": " + ec.message());
  const std::filesystem::path root(dir);
  if (absl::Status s = WriteFile(root / "report.txt", report.text()); !s.ok()) return s;
  for (const v1::ReportFigure& figure : report.figures()) {
    if (absl::Status s = WriteFile(root / figure.name(), figure.png()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckReportDir(const std::string& dir) {
  std::error_code ec;
  if (dir.empty()) return absl::InvalidArgumentError("empty directory name");
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(dir + " exists and is not a directory");
  }
  return absl::OkStatus();
}

}  // namespace evolv
