#include "evaluators/numerics/report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/render.h"
#include "evaluators/numerics/verify_float.h"

namespace evolv::numerics {
namespace {

constexpr char kCostRule[] =
    "Cost = ops that depend on x; constant-only ops are folded, dead ones dropped: a program of "
    "cost k is shown as k instructions.";

// The baseline table, the baselines that could not be computed and why, and for each cost k on
// the searched front (cost, error) the best baseline of at most k ops in the job's ops, with the
// ratio searched / baseline.
std::string BaselineSection(const ReportSetup& setup,
                            const std::vector<std::pair<int, double>>& front) {
  const BaselineSet& set = *setup.baselines;
  const bool float32 = setup.float32;
  std::vector<BaselineRow> rows =
      MeasureBaselines(set, *setup.validation, *setup.float_validation, float32);
  auto error = [float32](const BaselineRow& r) {
    return float32 ? r.max_ulp : static_cast<double>(r.rel_error);
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const BaselineRow& a, const BaselineRow& b) {
    return a.baseline->ops != b.baseline->ops ? a.baseline->ops < b.baseline->ops
                                              : error(a) < error(b);
  });
  std::string out = absl::StrCat(
      "\nBaselines (ops by the search's cost rule; max_rel_error in long double on the validation "
      "points, max_ulp in float",
      float32 ? " after refining the constants over neighbouring floats" : "",
      "; the best degrees of each form per op count)\n");
  for (const std::string& note : set.notes) absl::StrAppend(&out, "  ", note, "\n");
  absl::StrAppend(&out, absl::StrFormat("%-8s  %4s  %14s  %10s  %s\n", "family", "ops",
                                        "max_rel_error", "max_ulp", "form"));
  bool outside_ops = false;
  std::set<std::pair<int, std::string>> shown;  // (ops, kind)
  for (const BaselineRow& r : rows) {
    const Baseline& b = *r.baseline;
    if (!shown.insert({b.ops, b.kind}).second) continue;
    outside_ops |= !b.uses_allowed_ops;
    absl::StrAppend(&out, absl::StrFormat("%-8s  %4d  %14.4g  %10.4g  %s%s%s\n", b.family, b.ops,
                                          static_cast<double>(r.rel_error), r.max_ulp, b.form,
                                          b.relative ? "" : " (absolute error fit)",
                                          b.uses_allowed_ops ? "" : " *"));
  }
  if (outside_ops) {
    absl::StrAppend(&out, "  * uses an op outside numerics.ops: not compared below\n");
  }
  if (!set.failures.empty()) {
    absl::StrAppend(&out, "Baselines not computed:\n");
    for (const BaselineFailure& f : set.failures) {
      absl::StrAppend(&out, "  ", f.form, ": ", f.reason, "\n");
    }
  }
  if (float32) {
    int ops = 0;
    const int d = SmallestFloatMinimaxDegree(*setup.target, setup.lower, setup.upper,
                                             *setup.float_validation, 16, &ops);
    absl::StrAppend(&out, "Smallest float32 minimax degree within 1 ULP: ",
                    d < 0 ? std::string("none up to 16") : absl::StrCat(d, " (", ops, " ops)"),
                    "\n");
  }

  const char* metric = float32 ? "max_ulp" : "max_rel_error";
  absl::StrAppend(&out,
                  "\nSearched front vs the best baseline with at most as many ops (ratio = "
                  "searched / baseline ",
                  metric, "; below 1 the search wins)\n",
                  absl::StrFormat("%6s  %14s  %14s  %4s  %10s  %s\n", "cost", "searched",
                                  "baseline", "ops", "ratio", "baseline form"));
  for (const auto& [cost, searched] : front) {
    const BaselineRow* best = nullptr;
    for (const BaselineRow& r : rows) {
      if (r.baseline->ops <= cost && r.baseline->uses_allowed_ops &&
          (best == nullptr || error(r) < error(*best))) {
        best = &r;
      }
    }
    if (best == nullptr) {
      absl::StrAppend(&out, absl::StrFormat("%6d  %14.4g  %14s  %4s  %10s  %s\n", cost, searched,
                                            "-", "-", "-", "(no baseline this cheap)"));
      continue;
    }
    const double base = error(*best);
    absl::StrAppend(
        &out, absl::StrFormat("%6d  %14.4g  %14.4g  %4d  %10.4g  %s %s\n", cost, searched, base,
                              best->baseline->ops, base > 0 ? searched / base : INFINITY,
                              best->baseline->family, best->baseline->form));
  }
  return out;
}

}  // namespace

std::string JobReport(const ReportSetup& setup, const std::vector<v1::HistoryEntry>& history) {
  const Target& target = *setup.target;
  const bool float32 = setup.float32;
  const int max_ops = setup.max_ops;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  struct Row {
    double error;
    int cost;
    Program program;
  };
  const char* error_name = float32 ? "max_ulp" : "max_rel_error";
  std::vector<Row> rows;
  for (const v1::HistoryEntry& h : history) {
    const v1::Evaluation& ev = h.evaluation();
    if (ev.status() != v1::OK) continue;
    const v1::Candidate& c = ev.refined().has_value() ? ev.refined() : h.candidate();
    auto parsed = FromCandidate(c);
    auto it = ev.metrics().find(error_name);
    if (!parsed.ok() || it == ev.metrics().end() || !std::isfinite(it->second)) continue;
    rows.push_back({it->second, Cost(*parsed), *parsed});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.error < b.error;
  });
  std::string out =
      absl::StrFormat("AutoNumerics report: %s on [%.17g, %.17g], %s, max_ops %d\n", target.name,
                      setup.lower, setup.upper, float32 ? "float32" : "real", max_ops);
  absl::StrAppend(&out, kCostRule, "\n");
  absl::StrAppend(&out, "\nPareto front (", rows.size(), " OK evaluations)\n",
                  absl::StrFormat("%6s  %14s\n", "cost", error_name));
  double best_so_far = kInf;
  const Row* best = nullptr;
  for (const Row& r : rows) {
    if (r.error < best_so_far) {
      best_so_far = r.error;
      absl::StrAppend(&out, absl::StrFormat("%6d  %14.4g\n", r.cost, r.error));
    }
    if (r.cost <= max_ops && (best == nullptr || r.error < best->error)) best = &r;
  }

  // The baselines, and the front beside them.
  std::vector<std::pair<int, double>> front;
  double front_error = kInf;
  for (const Row& r : rows) {
    if (r.error < front_error) {
      front_error = r.error;
      front.push_back({r.cost, r.error});
    }
  }
  absl::StrAppend(&out, BaselineSection(setup, front));

  if (best == nullptr) {
    absl::StrAppend(&out, "\nNo OK candidate with cost <= ", max_ops, ".\n");
    return out;
  }
  if (!float32) {
    absl::StrAppend(&out, "\nBest program (cost ", best->cost, ", ", error_name, " ",
                    absl::StrFormat("%.4g", best->error), ")\n",
                    RenderC(best->program, absl::StrCat("approx_", target.name), float32));
    return out;
  }
  // Validation points sample the interval; the claim is about every float in it. Verify the few
  // best programs (by validation error, then cost) exhaustively and show the best verified one.
  constexpr size_t kVerified = 6;
  std::vector<const Row*> finalists;
  std::vector<std::string> seen;
  std::vector<const Row*> by_error;
  for (const Row& r : rows) {
    if (r.cost <= max_ops) by_error.push_back(&r);
  }
  std::stable_sort(by_error.begin(), by_error.end(), [](const Row* a, const Row* b) {
    return a->error != b->error ? a->error < b->error : a->cost < b->cost;
  });
  for (const Row* r : by_error) {
    if (finalists.size() == kVerified) break;
    std::string text = RenderC(r->program, "f", true);  // the same float function, once
    if (std::find(seen.begin(), seen.end(), text) != seen.end()) continue;
    seen.push_back(std::move(text));
    finalists.push_back(r);
  }
  absl::StrAppend(&out, "\nExhaustive float32 check of the ", finalists.size(),
                  " best programs (every float in the interval)\n",
                  absl::StrFormat("%6s  %14s  %14s\n", "cost", "validation_ulp", "max_ulp"));
  const Row* verified_best = nullptr;
  ExhaustiveResult verified;
  for (const Row* r : finalists) {
    const ExhaustiveResult v = VerifyAllFloats(r->program, target, static_cast<float>(setup.lower),
                                               static_cast<float>(setup.upper));
    absl::StrAppend(&out, absl::StrFormat("%6d  %14.4g  %14.4g\n", r->cost, r->error, v.max_ulp));
    if (verified_best == nullptr || v.max_ulp < verified.max_ulp ||
        (v.max_ulp == verified.max_ulp && r->cost < verified_best->cost)) {
      verified_best = r;
      verified = v;
    }
  }
  absl::StrAppend(
      &out, "\nBest verified program (cost ", verified_best->cost, ")\n",
      RenderC(verified_best->program, absl::StrCat("approx_", target.name), true),
      absl::StrFormat("\nExhaustive float32 check: %llu floats, max %g ULP at x = %.9g "
                      "(%llu near-midpoint references in long double, %.2f s)\n",
                      static_cast<unsigned long long>(verified.checked), verified.max_ulp,
                      verified.worst_x, static_cast<unsigned long long>(verified.slow_path),
                      verified.seconds));
  return out;
}

}  // namespace evolv::numerics
