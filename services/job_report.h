// A job's report (text and PNG figures, v1::JobReport) built from its problem and history, and
// written to a directory: one path for evolvd (GetJobReport, the status page), `evolv report`
// and `evolv run --report-dir`.
//
// Limits (docs/limits.md): at most kMaxReportFigures figures, kMaxReportFigureBytes of PNG in
// all, captions of at most kMaxFigureCaptionBytes; names IsFigureName (search/problem.h) and
// distinct. Names are checked again before writing, as a report may come from a server.
// Charts (Problem::Charts): at most kMaxReportCharts, kMaxChartSeries series each,
// kMaxChartPoints points per series, x and y of equal length, titles and labels of at most
// kMaxChartTextBytes; names IsChartName and distinct. Charts are not written to a directory.
// Thread-safety: plain functions; safe from any thread (Problem's const methods are).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evolv/v1/service.pb.h"
#include "search/problem.h"

namespace evolv {

constexpr size_t kMaxReportFigures = 32;
constexpr size_t kMaxReportFigureBytes = size_t{16} << 20;
constexpr size_t kMaxFigureCaptionBytes = 1024;
constexpr size_t kMaxReportCharts = 8;
constexpr size_t kMaxChartSeries = 16;
constexpr size_t kMaxChartPoints = 2000;
constexpr size_t kMaxChartTextBytes = 256;

// Problem::Report, Problem::Figures and Problem::Charts over `history`, checked against the
// limits. Internal, naming the domain and the figure or chart, when the problem breaks them (a
// bug of its domain, not of the request).
absl::StatusOr<v1::JobReport> BuildJobReport(const std::string& job_id, const Problem& problem,
                                             const std::vector<v1::HistoryEntry>& history);

// Writes `dir`/report.txt (the text) and `dir`/NAME for each figure, creating `dir` (and its
// parents) when missing; files already there are replaced. InvalidArgument, before anything is
// written, when a figure's name is not IsFigureName or repeats; Internal when a file cannot be
// written (message naming it).
absl::Status WriteJobReport(const v1::JobReport& report, const std::string& dir);

// InvalidArgument when `dir` is empty or exists and is not a directory: checked when a command
// parses its arguments, so a long run does not fail at its end.
absl::Status CheckReportDir(const std::string& dir);

}  // namespace evolv
