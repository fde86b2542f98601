#include "evaluators/numerics/report.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/render.h"
#include "evaluators/numerics/verify_float.h"

namespace evolv::numerics {

std::string JobReport(const ReportSetup& setup, const std::vector<v1::HistoryEntry>& history) {
  const Target& target = *setup.target;
  const bool float32 = setup.float32;
  const int max_ops = setup.max_ops;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  struct Row {
    double error;
    int cost;
    int instructions;
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
    rows.push_back({it->second, Cost(*parsed), LiveInstructions(*parsed), *parsed});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.error < b.error;
  });
  std::string out =
      absl::StrFormat("AutoNumerics report: %s on [%.17g, %.17g], %s, max_ops %d\n", target.name,
                      setup.lower, setup.upper, float32 ? "float32" : "real", max_ops);
  absl::StrAppend(&out, "\nPareto front (", rows.size(), " OK evaluations)\n",
                  absl::StrFormat("%6s  %14s  %12s\n", "cost", error_name, "instructions"));
  double best_so_far = kInf;
  const Row* best = nullptr;
  for (const Row& r : rows) {
    if (r.error < best_so_far) {
      best_so_far = r.error;
      absl::StrAppend(&out,
                      absl::StrFormat("%6d  %14.4g  %12d\n", r.cost, r.error, r.instructions));
    }
    if (r.cost <= max_ops && (best == nullptr || r.error < best->error)) best = &r;
  }

  absl::StrAppend(&out, "\nBaselines (Horner form, ops = 2 x degree; Taylor at x = ",
                  absl::StrFormat("%.17g", setup.lower), ")\n",
                  absl::StrFormat("%-8s  %6s  %4s  %14s  %10s\n", "method", "degree", "ops",
                                  "max_rel_error", "max_ulp"));
  for (const BaselineRow& b : ComputeBaselines(target, setup.lower, setup.upper, max_ops,
                                               *setup.validation, *setup.float_validation)) {
    absl::StrAppend(&out, absl::StrFormat("%-8s  %6d  %4d  %14.4g  %10.4g\n", b.method, b.degree,
                                          b.ops, static_cast<double>(b.rel_error), b.max_ulp));
  }
  if (float32) {
    const int d =
        SmallestFloatMinimaxDegree(target, setup.lower, setup.upper, *setup.float_validation);
    absl::StrAppend(&out, "Smallest float32 minimax degree within 1 ULP: ",
                    d < 0 ? std::string("none up to 16") : absl::StrCat(d, " (", 2 * d, " ops)"),
                    "\n");
  }

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
    std::string text = RenderText(r->program);
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
