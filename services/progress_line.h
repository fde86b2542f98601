// The one-line progress report shared by `evolv run` and `evolv watch`.
#pragma once

#include <string>

#include "evolv/v1/job.pb.h"

namespace evolv {

// "mm:ss" or "h:mm:ss"; "--:--" for a negative or non-finite duration.
std::string FormatDuration(double seconds);

// evaluations (of budget), the strategy's note (e.g. "instance 120/5000"), best first
// objective, cache hit rate, evals/s and ETA (or elapsed time without an evaluation budget).
// With `bar`, a 24-character bar leads the line (for terminals). `objective` names the first
// objective ("" to leave it unnamed).
std::string ProgressLine(const v1::JobProgress& progress, const std::string& objective, bool bar);

}  // namespace evolv
