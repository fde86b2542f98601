#include "evaluators/numerics/numerics_problem.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "evaluators/common/cuda_devices.h"
#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/device_program.h"
#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/fitting.h"
#include "evaluators/numerics/mutator.h"
#include "evaluators/numerics/numerics_spec.h"
#include "evaluators/numerics/probe.h"
#include "evaluators/numerics/program.h"
#include "evaluators/numerics/program_edit.h"
#include "evaluators/numerics/render.h"
#include "evaluators/numerics/report.h"
#include "evaluators/numerics/targets.h"
#include "google/protobuf/util/json_util.h"

namespace evolv {
namespace {

using numerics::Op;
using numerics::Program;

constexpr uint64_t kValidationSeed = 0x76616c6964617465ULL;
constexpr double kInf = std::numeric_limits<double>::infinity();

// FLOAT32 validation also covers kDenseFloats consecutive floats at each end of the interval,
// where errors of polynomial and rational fits concentrate and an even grid samples sparsely,
// and on each side of the sample where |target| is smallest (a zero of the target such as log2
// at 1 or sin at 0): there a float's ULP is tiny and the ULP error peaks.
constexpr int kDenseFloats = 512;
void AddDenseFloats(const numerics::Target& target, double lower, double upper,
                    numerics::Samples& s) {
  const float lo_end = static_cast<float>(lower), hi_end = static_cast<float>(upper);
  size_t smallest = 0;
  for (size_t i = 1; i < s.y.size(); ++i) {
    if (fabsl(s.y[i]) < fabsl(s.y[smallest])) smallest = i;
  }
  const float center = s.x.empty() ? lo_end : static_cast<float>(s.x[smallest]);
  // Walk from each start toward `toward`, adding up to kDenseFloats floats inside the interval.
  auto walk = [&](float start, float toward) {
    float v = start;
    for (int k = 0; k < kDenseFloats && v >= lo_end && v <= hi_end; ++k) {
      s.x.push_back(v);
      s.y.push_back(target.reference(v));
      if (v == toward) break;
      v = std::nextafter(v, toward);
    }
  };
  walk(lo_end, hi_end);
  walk(hi_end, lo_end);
  walk(center, hi_end);
  walk(center, lo_end);
}

class NumericsProblem : public Problem {
 public:
  explicit NumericsProblem(numerics::ResolvedSpec spec)
      : spec_(std::move(spec)),
        target_(*spec_.target),
        mutator_(spec_.ops, spec_.max_ops),
        fit_(numerics::MakeFitPoints(target_, spec_.lower, spec_.upper, spec_.fit_points,
                                     spec_.float32)),
        validation_(numerics::MakeValidationPoints(target_, spec_.lower, spec_.upper,
                                                   spec_.validation_points, kValidationSeed,
                                                   spec_.float32)),
        probe_(spec_.lower, spec_.upper, spec_.float32) {
    if (spec_.float32) AddDenseFloats(target_, spec_.lower, spec_.upper, validation_);
  }

  std::string Domain() const override { return "numerics"; }

  // max_ops and ops only decide feasibility (CheckFeasible), so they stay out: jobs differing
  // only in them share rows.
  std::string CanonicalSpec() const override {
    return absl::StrFormat("target=%s;lower=%a;upper=%a;mode=%s;fit=%d;val=%d%s", target_.name,
                           spec_.lower, spec_.upper, spec_.float32 ? "float32" : "real",
                           spec_.fit_points, spec_.validation_points,
                           spec_.verify_every_float ? ";every_float" : "");
  }

  std::string EvaluatorVersion() const override { return "numerics/6"; }

  std::vector<std::string> ObjectiveNames() const override { return {"log10_error", "cost"}; }

  // The error as 10^log10_error: the max relative error (REAL), or max_ulp + 0.001 in ULPs
  // (FLOAT32); the cost in operations.
  std::vector<v1::ObjectiveDisplay> ObjectiveDisplays() const override {
    std::vector<v1::ObjectiveDisplay> displays(2);
    displays[0].set_name("log10_error");
    displays[0].set_label(spec_.float32 ? "max error" : "max rel. error");
    displays[0].set_unit(spec_.float32 ? "ULP" : "");
    displays[0].set_scale(v1::ObjectiveDisplay::LOG10);
    displays[1].set_name("cost");
    displays[1].set_label("cost");
    displays[1].set_unit("ops");
    return displays;
  }

  v1::Candidate Random(Rng& rng) const override {
    Program p;
    p.constants.push_back(rng.Normal());
    return numerics::ToCandidate(p);
  }

  v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const override {
    auto parsed = numerics::FromCandidate(parent);
    return numerics::ToCandidate(mutator_.Mutate(parsed.ok() ? *parsed : Program{}, rng));
  }

  // The baselines that fit max_ops and use only the job's ops, least relative error on the fit
  // points first (a cheap order; FLOAT32 evaluations refit their constants over floats); none
  // with from_scratch.
  std::vector<v1::Candidate> Seeds() const override {
    if (spec_.from_scratch) return {};
    const numerics::BaselineSet& set = Baselines();
    std::vector<numerics::BaselineRow> rows =
        numerics::MeasureBaselines(set, fit_, numerics::Samples(), false);
    std::stable_sort(rows.begin(), rows.end(),
                     [](const numerics::BaselineRow& a, const numerics::BaselineRow& b) {
                       return a.rel_error < b.rel_error;
                     });
    std::vector<v1::Candidate> seeds;
    for (const numerics::BaselineRow& row : rows) {
      const numerics::Baseline& b = *row.baseline;
      if (b.ops <= spec_.max_ops && b.uses_allowed_ops && !Infeasibility(b.program)) {
        seeds.push_back(numerics::ToCandidate(b.program));
      }
    }
    return seeds;
  }

  ProbeBytes Probe(const v1::Candidate& candidate) const override {
    auto parsed = numerics::FromCandidate(candidate);
    if (!parsed.ok()) return "invalid";
    return probe_.Bytes(*parsed);
  }

  std::optional<v1::Evaluation> CheckFeasible(const v1::Candidate& candidate) const override {
    auto parsed = numerics::FromCandidate(candidate);
    if (!parsed.ok()) return std::nullopt;  // Evaluate reports it as FAILED
    return Infeasibility(*parsed);
  }

  HitDifference CompareHit(const v1::Evaluation& cached,
                           const v1::Evaluation& fresh) const override {
    return CompareNumericsHit(cached, fresh);
  }

  // A batch of one: the same steps, whether a worker evaluates alone or together.
  v1::Evaluation Evaluate(const v1::Candidate& candidate,
                          const EvalContext& context) const override {
    return std::move(EvaluateBatch({&candidate}, {context}).front());
  }

  // Each candidate as Evaluate scores it; a FLOAT32 job with verify_every_float verifies the
  // batch's refined programs together (one device launch where the worker has a device).
  std::vector<v1::Evaluation> EvaluateBatch(
      const std::vector<const v1::Candidate*>& candidates,
      const std::vector<EvalContext>& contexts) const override {
    std::vector<Pending> pending;
    pending.reserve(candidates.size());
    std::vector<const Program*> programs;
    int cuda_device = -1;
    for (size_t i = 0; i < candidates.size(); ++i) {
      pending.push_back(Prepare(*candidates[i], contexts[i]));
      if (pending.back().verify) cuda_device = contexts[i].cuda_device;
    }
    for (const Pending& p : pending) {
      if (p.verify) programs.push_back(&p.refined);
    }
    std::vector<numerics::VerifiedOn> on;
    const std::vector<numerics::ExhaustiveResult> every =
        numerics::VerifyEveryFloat(programs, target_, static_cast<float>(spec_.lower),
                                   static_cast<float>(spec_.upper), cuda_device, &on);
    std::vector<v1::Evaluation> out;
    out.reserve(pending.size());
    size_t verified = 0;
    for (Pending& p : pending) {
      if (p.verify) {
        Finish(&p, every[verified], on[verified]);
        ++verified;
      }
      out.push_back(std::move(p.ev));
    }
    return out;
  }

  std::string Render(const v1::Candidate& candidate, RenderFormat format) const override {
    auto parsed = numerics::FromCandidate(candidate);
    if (!parsed.ok()) return absl::StrCat("invalid program: ", parsed.status().message());
    if (format == RenderFormat::kJson) {
      // The decoded program re-encoded, never the candidate's own bytes: protobuf's JSON printer
      // (3.21) loops forever on a packed field whose length runs past its message.
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(numerics::ToCandidate(*parsed), &json);
      return json;
    }
    if (format == RenderFormat::kText) return numerics::RenderText(*parsed);
    const bool use_float = format == RenderFormat::kCFloat || spec_.float32;
    return numerics::RenderC(*parsed, absl::StrCat("approx_", target_.name), use_float);
  }

  std::string Report(const std::vector<v1::HistoryEntry>& history) const override {
    // The baselines' ULP column runs on float inputs: the validation points in FLOAT32 mode,
    // else the same point set rounded to float.
    const numerics::Samples float_validation =
        spec_.float32
            ? numerics::Samples()
            : numerics::MakeValidationPoints(target_, spec_.lower, spec_.upper,
                                             spec_.validation_points, kValidationSeed, true);
    numerics::ReportSetup setup;
    setup.target = &target_;
    setup.lower = spec_.lower;
    setup.upper = spec_.upper;
    setup.float32 = spec_.float32;
    setup.max_ops = spec_.max_ops;
    setup.validation = &validation_;
    setup.float_validation = spec_.float32 ? &validation_ : &float_validation;
    setup.baselines = &Baselines();
    return numerics::JobReport(setup, history);
  }

  // "error-curve": the error of the report's best program (the OK evaluation with the least
  // error metric among those within max_ops, the cheapest on ties; its refined program when it
  // has one) at kCurvePoints evenly spaced points of [lower, upper]: relative error in REAL
  // mode (log y), ULPs from the correctly rounded float in FLOAT32 mode (inputs rounded to
  // float; linear y, as 0 ULP is common). No chart without such an evaluation.
  std::vector<v1::ReportChart> Charts(const std::vector<v1::HistoryEntry>& history) const override {
    const char* metric = spec_.float32 ? "max_ulp" : "max_rel_error";
    std::optional<Program> best;
    double best_error = kInf;
    int best_cost = 0;
    for (const v1::HistoryEntry& h : history) {
      const v1::Evaluation& ev = h.evaluation();
      if (ev.status() != v1::OK) continue;
      auto it = ev.metrics().find(metric);
      if (it == ev.metrics().end() || !std::isfinite(it->second)) continue;
      auto parsed =
          numerics::FromCandidate(ev.refined().has_value() ? ev.refined() : h.candidate());
      if (!parsed.ok()) continue;
      const int cost = numerics::Cost(*parsed);
      if (cost > spec_.max_ops) continue;
      if (!best || it->second < best_error || (it->second == best_error && cost < best_cost)) {
        best = *std::move(parsed);
        best_error = it->second;
        best_cost = cost;
      }
    }
    if (!best) return {};
    constexpr int kCurvePoints = 401;
    numerics::Samples points;
    for (int i = 0; i < kCurvePoints; ++i) {
      long double x = spec_.lower + (static_cast<long double>(spec_.upper) - spec_.lower) * i /
                                        (kCurvePoints - 1);
      if (spec_.float32) x = static_cast<float>(x);
      points.x.push_back(x);
      points.y.push_back(target_.reference(x));
    }
    v1::ReportChart chart;
    chart.set_name("error-curve");
    chart.set_title(absl::StrFormat("Error of the best program (cost %d) on [%g, %g]", best_cost,
                                    spec_.lower, spec_.upper));
    chart.set_x_label("x");
    chart.set_y_label(spec_.float32 ? "error (ULP)" : "relative error");
    chart.set_log_y(!spec_.float32);
    v1::ChartSeries* series = chart.add_series();
    series->set_label(absl::StrCat("approx_", target_.name));
    numerics::Samples one;
    one.x.resize(1);
    one.y.resize(1);
    for (int i = 0; i < kCurvePoints; ++i) {
      one.x[0] = points.x[i];
      one.y[0] = points.y[i];
      series->add_x(static_cast<double>(points.x[i]));
      series->add_y(spec_.float32 ? numerics::MaxUlpError(*best, one).max_ulp
                                  : static_cast<double>(numerics::MaxRelativeError(*best, one)));
    }
    return {std::move(chart)};
  }

 private:
  // An evaluation up to its exhaustive verification (verify_every_float), which EvaluateBatch
  // runs for a batch at once; without one, `ev` is already complete.
  struct Pending {
    v1::Evaluation ev;
    bool verify = false;        // Finish must add the verification
    Program refined;            // the program to verify
    double validation_ulp = 0;  // its max ULP on the validation points
    double fit_seconds = 0;
  };

  Pending Prepare(const v1::Candidate& candidate, const EvalContext& context) const {
    const auto start = std::chrono::steady_clock::now();
    Pending pending;
    v1::Evaluation& ev = pending.ev;
    auto fail = [&](v1::EvaluationStatus status, std::string error) {
      ev.set_status(status);
      ev.set_error(std::move(error));
      ev.clear_objectives();
      ev.add_objectives(kInf);
      ev.add_objectives(kInf);
      return std::move(pending);
    };
    auto parsed = numerics::FromCandidate(candidate);
    if (!parsed.ok()) return fail(v1::FAILED, std::string(parsed.status().message()));
    // The engine checks feasibility before the cache; this guards direct callers.
    if (std::optional<v1::Evaluation> infeasible = Infeasibility(*parsed)) {
      pending.ev = *std::move(infeasible);
      return pending;
    }
    // The fit as a function of the key: constants in the probe's canonical order (so restarts
    // and the solver treat corresponding constants alike in every program sharing the key), and
    // in FLOAT32 mode starting from their floats (which the probe holds).
    Program p = numerics::ReorderConstants(*parsed, probe_.CanonicalConstantOrder(*parsed));
    if (spec_.float32) {
      for (double& c : p.constants) c = static_cast<float>(c);
    }
    (*ev.mutable_metrics())["cost"] = numerics::Cost(p);
    (*ev.mutable_metrics())["instructions"] = numerics::LiveInstructions(p);
    numerics::FitOptions fit_options;
    fit_options.float_ulps = spec_.float32;  // scored in ULPs: fitted in ULPs
    const numerics::FitResult fit = numerics::FitConstants(p, fit_, context.seed, fit_options);
    pending.fit_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // FLOAT32 jobs are scored in ULPs; their relative error (a metric only) is the fit's, which
    // spares a long double pass over what may be many validation points.
    const double rel =
        spec_.float32 ? static_cast<double>(fit.max_rel_error)
                      : static_cast<double>(numerics::MaxRelativeError(fit.program, validation_));
    (*ev.mutable_metrics())["max_rel_error"] = rel;
    if (!spec_.float32) {
      pending.refined = fit.program;
      Complete(&pending, rel);
      return pending;
    }
    // Rounded to float, the real-arithmetic fit loses ULPs; a local search over neighbouring
    // floats wins them back (never worse than the rounded constants on the validation points).
    // On a worker's CUDA device, each constant's neighbours are scored in one launch.
    numerics::FloatBatchRunner on_device;
    std::string why_not;
    if (context.cuda_device >= 0) {
      on_device = [&](const std::vector<Program>& programs, const std::vector<float>& x,
                      std::vector<float>* out) {
        return why_not.empty() &&
               numerics::FloatBatchOnDevice(context.cuda_device, programs, x, out, &why_not);
      };
    }
    numerics::FloatRefineResult r = numerics::RefineFloatConstants(
        fit.program, validation_, numerics::kRefineRadius, numerics::kRefinePasses, on_device);
    if (!why_not.empty()) {
      SayNotOnDevice("numerics", "float refinement", context.cuda_device, why_not);
    }
    pending.refined = std::move(r.program);
    (*ev.mutable_metrics())["refined_constants"] = r.changed_constants;
    (*ev.mutable_metrics())["refined_on_device"] =
        r.batches > 0 && r.batches_by_runner == r.batches ? 1 : 0;
    if (spec_.verify_every_float) {
      pending.verify = true;
      pending.validation_ulp = r.error.max_ulp;
      return pending;
    }
    Complete(&pending, r.error.max_ulp);
    return pending;
  }

  // Adds the exhaustive verification of pending->refined, which ran on `on`, and completes it.
  void Finish(Pending* pending, const numerics::ExhaustiveResult& every,
              const numerics::VerifiedOn& on) const {
    auto& metrics = *pending->ev.mutable_metrics();
    metrics["validation_max_ulp"] = pending->validation_ulp;
    metrics["worst_x"] = every.worst_x;
    metrics["every_float_seconds"] = every.seconds;
    metrics["every_float_on_device"] = on.device ? 1 : 0;
    pending->verify = false;
    Complete(pending, every.max_ulp);
  }

  // The objectives from `error`: max ULP in FLOAT32 mode, else max relative error.
  void Complete(Pending* pending, double error) const {
    v1::Evaluation& ev = pending->ev;
    double log10_error;
    if (spec_.float32) {
      (*ev.mutable_metrics())["max_ulp"] = error;
      log10_error = std::log10(error + 1e-3);
    } else {
      log10_error = std::log10(std::max(error, 1e-300));
    }
    ev.set_status(v1::OK);
    ev.add_objectives(std::isnan(log10_error) ? kInf : log10_error);
    ev.add_objectives((*ev.mutable_metrics())["cost"]);
    (*ev.mutable_metrics())["fit_seconds"] = pending->fit_seconds;
    *ev.mutable_refined() = numerics::ToCandidate(pending->refined);
  }

  // INFEASIBLE (objectives +inf, metrics cost and instructions) when `p` is over max_ops or
  // uses an op outside ops.
  std::optional<v1::Evaluation> Infeasibility(const Program& p) const {
    const int cost = numerics::Cost(p);
    std::string error;
    if (cost > spec_.max_ops) {
      error = absl::StrCat("cost ", cost, " exceeds numerics.max_ops ", spec_.max_ops);
    } else {
      for (Op op : UsedOps(p)) {
        if (std::find(spec_.ops.begin(), spec_.ops.end(), op) == spec_.ops.end()) {
          error = absl::StrCat("op '", numerics::OpName(op), "' is not in numerics.ops");
          break;
        }
      }
    }
    if (error.empty()) return std::nullopt;
    v1::Evaluation ev;
    ev.set_status(v1::INFEASIBLE);
    ev.set_error(std::move(error));
    ev.add_objectives(kInf);
    ev.add_objectives(kInf);
    (*ev.mutable_metrics())["cost"] = cost;
    (*ev.mutable_metrics())["instructions"] = numerics::LiveInstructions(p);
    return ev;
  }

  // The baselines, computed on first use (a report) and kept: tens of Remez fits, 10-50 ms at
  // max_ops 10, a few seconds at most at 64 (baselines.h).
  const numerics::BaselineSet& Baselines() const {
    std::call_once(baselines_once_, [this] {
      baselines_ =
          numerics::ComputeBaselineSet(target_, spec_.lower, spec_.upper, spec_.max_ops, spec_.ops);
    });
    return baselines_;
  }

  static std::vector<Op> UsedOps(const Program& p) {
    const std::vector<bool> live = numerics::LiveValues(p);
    std::vector<Op> used;
    for (size_t i = 0; i < p.instructions.size(); ++i) {
      if (live[p.value_of(i)]) used.push_back(p.instructions[i].op);
    }
    return used;
  }

  const numerics::ResolvedSpec spec_;
  const numerics::Target& target_;
  const numerics::Mutator mutator_;
  const numerics::Samples fit_;
  numerics::Samples validation_;
  const numerics::FunctionalProbe probe_;
  mutable std::once_flag baselines_once_;
  mutable numerics::BaselineSet baselines_;
};

}  // namespace

Problem::HitDifference CompareNumericsHit(const v1::Evaluation& cached,
                                          const v1::Evaluation& fresh) {
  auto metric = [](const v1::Evaluation& ev, const char* name) {
    auto it = ev.metrics().find(name);
    return it == ev.metrics().end() ? std::optional<double>() : std::optional<double>(it->second);
  };
  Problem::HitDifference d;
  if (cached.status() != fresh.status() || metric(cached, "cost") != metric(fresh, "cost") ||
      metric(cached, "instructions") != metric(fresh, "instructions") ||
      cached.objectives_size() != fresh.objectives_size()) {
    d.difference = kInf;
    d.within = false;
    return d;
  }
  for (int i = 0; i < cached.objectives_size(); ++i) {
    const double a = cached.objectives(i), b = fresh.objectives(i);
    if (a == b || (std::isnan(a) && std::isnan(b))) continue;
    if (i != 0) {  // the cost is structural: equal or not at all
      d.difference = kInf;
      break;
    }
    const double gap = std::fabs(a - b);
    d.difference = std::isnan(gap) ? kInf : gap;
  }
  d.within = d.difference <= kHitLog10ErrorTolerance;
  return d;
}

absl::StatusOr<std::unique_ptr<Problem>> CreateNumericsProblem(const v1::NumericsSpec& spec) {
  absl::StatusOr<numerics::ResolvedSpec> resolved = numerics::ResolveSpec(spec);
  if (!resolved.ok()) return resolved.status();
  return std::unique_ptr<Problem>(new NumericsProblem(*std::move(resolved)));
}

v1::NumericsSpec NumericsExampleSpec() {
  v1::NumericsSpec spec;
  spec.set_target("exp2");
  spec.set_lower(0);
  spec.set_upper(1);
  return spec;
}

}  // namespace evolv
