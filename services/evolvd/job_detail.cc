#include "services/evolvd/job_detail.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "search/pareto.h"

namespace evolv {
namespace {

// Best first objective after each evaluation: every `stride`-th point, every improvement and the
// last point. Returns the history index of the best OK evaluation, or history.size() if none.
size_t AddBestCurve(const std::vector<v1::HistoryEntry>& history, v1::JobDetail* detail) {
  const size_t n = history.size();
  const size_t stride = std::max<size_t>(1, n / kMaxCurvePoints);
  double best = std::numeric_limits<double>::infinity();
  size_t best_index = n;
  for (size_t i = 0; i < n; ++i) {
    const v1::Evaluation& e = history[i].evaluation();
    const double value =
        e.objectives_size() > 0 ? e.objectives(0) : std::numeric_limits<double>::quiet_NaN();
    bool improved = false;
    if (e.status() == v1::OK && std::isfinite(value) && value < best) {
      best = value;
      best_index = i;
      improved = true;
    }
    if (std::isfinite(best) && (improved || i % stride == 0 || i + 1 == n)) {
      v1::ChartPoint* point = detail->add_best_curve();
      point->set_evaluations(i + 1);
      point->set_best_objective(best);
    }
  }
  return best_index;
}

// History indices of the non-dominated OK evaluations with finite objectives, sorted by their
// objectives, at most kMaxParetoRows.
std::vector<size_t> ParetoIndices(const std::vector<v1::HistoryEntry>& history) {
  std::vector<Objectives> points;
  std::vector<size_t> where;
  for (size_t i = 0; i < history.size(); ++i) {
    const v1::Evaluation& e = history[i].evaluation();
    if (e.status() != v1::OK) continue;
    if (!std::all_of(e.objectives().begin(), e.objectives().end(),
                     [](double v) { return std::isfinite(v); })) {
      continue;
    }
    points.emplace_back(e.objectives().begin(), e.objectives().end());
    where.push_back(i);
  }
  std::vector<size_t> front = ParetoFront(points);
  std::sort(front.begin(), front.end(), [&](size_t a, size_t b) { return points[a] < points[b]; });
  if (front.size() > kMaxParetoRows) front.resize(kMaxParetoRows);
  for (size_t& k : front) k = where[k];
  return front;
}

}  // namespace

absl::StatusOr<v1::JobDetail> BuildJobDetail(const v1::JobRecord& job, const Store& store,
                                             EvaluationQueries& rows) {
  auto history = store.ReadHistory(job.id());
  if (!history.ok()) return history.status();
  v1::JobDetail detail;
  *detail.mutable_job() = job;
  *detail.mutable_problem() = rows.problems().Describe(job.spec());

  const size_t best = AddBestCurve(*history, &detail);
  if (best < history->size()) *detail.mutable_best() = rows.Row(job, (*history)[best], true);
  if (detail.problem().objective_names_size() > 1) {
    for (size_t i : ParetoIndices(*history)) {
      *detail.add_pareto_front() = rows.Row(job, (*history)[i], false);
    }
  }
  const size_t n = history->size();
  for (size_t i = 0; i < kRecentRows && i < n; ++i) {
    *detail.add_recent() = rows.Row(job, (*history)[n - 1 - i], true);
  }
  return detail;
}

}  // namespace evolv
