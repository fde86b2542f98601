#include "services/progress_line.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace evolv {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long s = static_cast<long>(seconds);
  char buffer[32];
  if (s >= 3600) {
    std::snprintf(buffer, sizeof(buffer), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%02ld:%02ld", s / 60, s % 60);
  }
  return buffer;
}

std::string ProgressLine(const v1::JobProgress& p, const std::string& objective, bool bar) {
  const auto& c = p.cache();
  const double lookups = static_cast<double>(c.hits() + c.misses());
  const double hit_rate = lookups > 0 ? 100.0 * c.hits() / lookups : 0.0;
  const double rate = p.evals_per_second();
  char buffer[256];
  std::string line;
  if (p.budget_evaluations() > 0) {
    const double fraction =
        std::min(1.0, static_cast<double>(p.evaluations()) / p.budget_evaluations());
    if (bar) {
      const int width = 24;
      const int filled = static_cast<int>(fraction * width);
      line = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    }
    std::snprintf(buffer, sizeof(buffer), "%llu/%llu evals",
                  static_cast<unsigned long long>(p.evaluations()),
                  static_cast<unsigned long long>(p.budget_evaluations()));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%llu evals",
                  static_cast<unsigned long long>(p.evaluations()));
  }
  line += buffer;
  if (!p.note().empty()) line += "  " + p.note();
  const double remaining =
      p.budget_evaluations() > 0 && rate > 0
          ? (static_cast<double>(p.budget_evaluations()) - p.evaluations()) / rate
          : NAN;
  std::snprintf(
      buffer, sizeof(buffer), "  best%s%s %.6g  cache hits %.1f%%  %.0f evals/s  %s %s",
      objective.empty() ? "" : " ", objective.c_str(), p.best_objective(), hit_rate, rate,
      p.budget_evaluations() > 0 ? "ETA" : "elapsed",
      FormatDuration(p.budget_evaluations() > 0 ? remaining : p.elapsed_seconds()).c_str());
  return line + buffer;
}

}  // namespace evolv
