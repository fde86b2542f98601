// How a job's progress reads for people: the one-line report shared by `evolv run`, `evolv watch`
// and `evolv status`, and its parts that `evolv list` and the closing summary show. Everything
// here reads only the JobProgress (and its ObjectiveDisplay), so it knows no domain.
#pragma once

#include <string>

#include "evolv/v1/job.pb.h"

namespace evolv {

// "mm:ss" or "h:mm:ss"; "--:--" for a negative or non-finite duration.
std::string FormatDuration(double seconds);

// An objective's stored value as `display` says to show it, with its label and unit: a LOG10
// objective shows 10^value ("max rel. error 6.2e-08", "max error 166 ULP"), a NEGATED one (a
// maximized quantity) -value ("accuracy 0.912"), a LINEAR one its value ("iterations 16"). Three
// significant digits, whole numbers from 1,000 to 1e6 in full, "inf" for +inf. The label is the
// name when empty; a display with neither shows the value alone.
std::string FormatObjective(const v1::ObjectiveDisplay& display, double value);

// The work done of the job's measure and budget: "120/5000 instances" (a strategy's own units),
// "300/20000 evals" (an evaluation budget) or "22401 evals", then ", 05:00 budget" for a
// budget in seconds.
std::string FormatWork(const v1::JobProgress& progress);

// The best first objective so far as FormatObjective shows it ("max rel. error 6.2e-08"); ""
// before any OK result, and when the strategy's units make the best single evaluation
// incidental (a bandit's evaluations are of different instances).
std::string FormatBest(const v1::JobProgress& progress);

// FormatWork, the strategy's note, "best " FormatBest (when not empty), the cache hit rate, the
// rate (evals/s or the strategy's units per second) and the ETA: the earliest end of the evaluation
// budget, the strategy's units and the budget in seconds; the elapsed time when none bounds the
// job. With `bar`, a 24-character bar of the same fraction leads the line (for terminals).
std::string ProgressLine(const v1::JobProgress& progress, bool bar);

}  // namespace evolv
