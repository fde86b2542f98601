#include "search/problem.h"

#include <algorithm>
#include <cmath>

namespace evolv {

v1::Evaluation UnscoredEvaluation(v1::EvaluationStatus status, const std::string& error,
                                  int objectives) {
  v1::Evaluation e;
  e.set_status(status);
  e.set_error(error);
  for (int i = 0; i < objectives; ++i) e.add_objectives(INFINITY);
  return e;
}

Problem::HitDifference Problem::CompareHit(const v1::Evaluation& cached,
                                           const v1::Evaluation& fresh) const {
  return CompareObjectives(cached, fresh, 1e-9);
}

Problem::HitDifference Problem::CompareObjectives(const v1::Evaluation& cached,
                                                  const v1::Evaluation& fresh, double tolerance,
                                                  const std::vector<double>& floors) {
  HitDifference d;
  if (cached.status() != fresh.status() || cached.objectives_size() != fresh.objectives_size()) {
    d.difference = INFINITY;
    d.within = false;
    return d;
  }
  for (int i = 0; i < cached.objectives_size(); ++i) {
    const double x = cached.objectives(i), y = fresh.objectives(i);
    if (x == y || (std::isnan(x) && std::isnan(y))) continue;
    const double floor = static_cast<size_t>(i) < floors.size() ? floors[i] : 0.0;
    const double gap = std::abs(x - y) / std::max({std::abs(x), std::abs(y), floor});
    d.difference = std::max(d.difference, std::isnan(gap) ? INFINITY : gap);
  }
  d.within = d.difference <= tolerance;
  return d;
}

std::vector<v1::Evaluation> Problem::EvaluateBatch(
    const std::vector<const v1::Candidate*>& candidates,
    const std::vector<EvalContext>& contexts) const {
  std::vector<v1::Evaluation> out;
  out.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i)
    out.push_back(Evaluate(*candidates[i], contexts[i]));
  return out;
}

absl::StatusOr<v1::Evaluation> Problem::ClientEvaluation(
    const v1::Candidate& candidate,
    const google::protobuf::Map<std::string, double>& values) const {
  (void)candidate;
  (void)values;
  return absl::FailedPreconditionError("the " + Domain() +
                                       " domain's candidates are not evaluated by clients");
}

std::vector<v1::ObjectiveDisplay> Problem::ObjectiveDisplays() const {
  std::vector<v1::ObjectiveDisplay> displays;
  for (const std::string& name : ObjectiveNames()) {
    displays.emplace_back().set_name(name);
  }
  return displays;
}

bool IsChartName(std::string_view name) {
  constexpr size_t kMaxStem = 64;
  if (name.empty() || name.size() > kMaxStem) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return lower_or_digit(c) || c == '_' || c == '-'; });
}

bool IsFigureName(std::string_view name) {
  constexpr std::string_view kSuffix = ".png";
  if (name.size() <= kSuffix.size()) return false;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
  return IsChartName(name.substr(0, name.size() - kSuffix.size()));
}

}  // namespace evolv
