#include "services/progress_line.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace evolv {
namespace {

// Three significant digits; whole numbers in full from 1,000 up to 1e6 ("22401", not "2.24e+04").
std::string FormatNumber(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[32];
  const double a = std::abs(v);
  if (a >= 1000 && a < 1e6) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", v);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.3g", v);
  }
  return buffer;
}

}  // namespace

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

std::string FormatObjective(const v1::ObjectiveDisplay& display, double value) {
  const double shown = display.scale() == v1::ObjectiveDisplay::LOG10     ? std::pow(10.0, value)
                       : display.scale() == v1::ObjectiveDisplay::NEGATED ? -value
                                                                          : value;
  const std::string& label = display.label().empty() ? display.name() : display.label();
  std::string text = label.empty() ? "" : label + " ";
  text += FormatNumber(shown);
  if (!display.unit().empty()) text += " " + display.unit();
  return text;
}

std::string FormatWork(const v1::JobProgress& p) {
  std::string text;
  if (p.has_units() && p.units().total() > 0) {
    text = std::to_string(p.units().done()) + "/" + std::to_string(p.units().total()) + " " +
           p.units().name();
  } else if (p.budget_evaluations() > 0) {
    text =
        std::to_string(p.evaluations()) + "/" + std::to_string(p.budget_evaluations()) + " evals";
  } else {
    text = std::to_string(p.evaluations()) + " evals";
  }
  if (p.budget_seconds() > 0) text += ", " + FormatDuration(p.budget_seconds()) + " budget";
  return text;
}

std::string FormatBest(const v1::JobProgress& p) {
  if (p.units().best_is_incidental()) return "";
  // A record stored before its first progress report holds 0, not +inf.
  if (p.evaluations() == 0 || (std::isinf(p.best_objective()) && p.best_objective() > 0)) {
    return "";
  }
  return FormatObjective(p.objective(), p.best_objective());
}

std::string ProgressLine(const v1::JobProgress& p, bool bar) {
  const bool units = p.has_units() && p.units().total() > 0;
  // The fraction done and the seconds left by each bound the job has; the first to end wins.
  double fraction = 0;
  double remaining = INFINITY;
  bool bounded = false;
  auto bound = [&](double done, double total, double rate) {
    if (total <= 0) return;
    bounded = true;
    fraction = std::max(fraction, std::min(1.0, done / total));
    if (rate > 0) remaining = std::min(remaining, std::max(0.0, total - done) / rate);
  };
  if (units) {
    bound(static_cast<double>(p.units().done()), static_cast<double>(p.units().total()),
          p.units().per_second());
  }
  bound(static_cast<double>(p.evaluations()), static_cast<double>(p.budget_evaluations()),
        p.evals_per_second());
  bound(p.elapsed_seconds(), p.budget_seconds(), 1.0);

  std::string line;
  if (bar && bounded) {
    const int width = 24;
    const int filled = static_cast<int>(fraction * width);
    line = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
  }
  line += FormatWork(p);
  if (!p.note().empty()) line += "  " + p.note();
  const std::string best = FormatBest(p);
  if (!best.empty()) line += "  best " + best;
  const auto& c = p.cache();
  const double lookups = static_cast<double>(c.hits() + c.misses());
  char buffer[160];
  std::snprintf(buffer, sizeof(buffer), "  cache hits %.1f%%  ",
                lookups > 0 ? 100.0 * c.hits() / lookups : 0.0);
  line += buffer;
  if (units) {
    line += FormatNumber(p.units().per_second()) + " " + p.units().name() + "/s";
  } else {
    // Slow evaluations (a network trained per evaluation) run well under one per second.
    const double rate = p.evals_per_second();
    std::snprintf(buffer, sizeof(buffer), rate > 0 && rate < 9.5 ? "%.2g evals/s" : "%.0f evals/s",
                  rate);
    line += buffer;
  }
  line += bounded ? "  ETA " + FormatDuration(remaining)
                  : "  elapsed " + FormatDuration(p.elapsed_seconds());
  return line;
}

}  // namespace evolv
