// The numerics domain's closing report for a job (Problem::Report): the Pareto front of
// (cost, error) over the OK evaluations, the classical baselines (baselines.h: minimax
// polynomials and rationals, Taylor, Padé) with, for each cost k on the front, the best baseline
// of at most k ops and the ratio of the errors, and the best program as C; in FLOAT32 mode the
// few best programs are also verified exhaustively on every float of the interval and the best
// verified one is shown.
//
// Pure apart from the time it reports for the exhaustive check; thread-safe. The exhaustive check
// runs on all hardware threads and costs a run of the program per float in the interval.
#pragma once

#include <string>
#include <vector>

#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/targets.h"
#include "evolv/v1/checkpoint.pb.h"

namespace evolv::numerics {

// What the report needs of the job's resolved spec and its point sets.
struct ReportSetup {
  const Target* target = nullptr;
  double lower = 0, upper = 1;
  bool float32 = false;
  int max_ops = 10;
  // The job's validation points (the baselines' relative error is measured on them).
  const Samples* validation = nullptr;
  // Float inputs for the baselines' ULP column (the validation points themselves in FLOAT32
  // mode).
  const Samples* float_validation = nullptr;
  // The job's baselines (ComputeBaselineSet for this target, interval, max_ops and ops).
  const BaselineSet* baselines = nullptr;
};

// The report for `history` (in index order). Rows are the OK evaluations with a finite error
// metric ("max_ulp" in FLOAT32 mode, else "max_rel_error"), each for its refined program when the
// evaluation has one; programs that do not parse are skipped.
std::string JobReport(const ReportSetup& setup, const std::vector<v1::HistoryEntry>& history);

}  // namespace evolv::numerics
