#include "evaluators/numerics/numerics_problem.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/error_metrics.h"
#include "evaluators/numerics/fitting.h"
#include "evaluators/numerics/interpreter.h"
#include "evaluators/numerics/program.h"
#include "evaluators/numerics/render.h"
#include "evaluators/numerics/targets.h"
#include "evaluators/numerics/verify_float.h"
#include "google/protobuf/util/json_util.h"

namespace evolv {
namespace {

using numerics::Instruction;
using numerics::Op;
using numerics::Program;

constexpr int kMaxOpsLimit = 64;
constexpr uint64_t kValidationSeed = 0x76616c6964617465ULL;
constexpr int kProbePoints = 16;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Makes `value` a new constant; instruction operands are renumbered. Returns its value index.
uint32_t AddConstant(Program& p, double value) {
  const uint32_t v = static_cast<uint32_t>(1 + p.constants.size());
  for (Instruction& in : p.instructions) {
    for (uint32_t* o : {&in.a, &in.b, &in.c}) {
      if (*o >= v) ++*o;
    }
  }
  p.constants.push_back(value);
  return v;
}

// Inserts `in` (operands already valid at `pos`) before instruction `pos`.
void InsertInstruction(Program& p, size_t pos, Instruction in) {
  const uint32_t v = p.value_of(pos);
  for (size_t i = pos; i < p.instructions.size(); ++i) {
    Instruction& x = p.instructions[i];
    for (uint32_t* o : {&x.a, &x.b, &x.c}) {
      if (*o >= v) ++*o;
    }
  }
  p.instructions.insert(p.instructions.begin() + pos, in);
}

// Removes instruction `pos`; its users read `replacement` (an earlier value) instead.
void RemoveInstruction(Program& p, size_t pos, uint32_t replacement) {
  const uint32_t v = p.value_of(pos);
  p.instructions.erase(p.instructions.begin() + pos);
  for (size_t i = pos; i < p.instructions.size(); ++i) {
    Instruction& x = p.instructions[i];
    for (uint32_t* o : {&x.a, &x.b, &x.c}) {
      if (*o == v) {
        *o = replacement;
      } else if (*o > v) {
        --*o;
      }
    }
  }
}

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

// The program a candidate holds; InvalidArgument for anything else.
absl::StatusOr<Program> ProgramOf(const v1::Candidate& candidate) {
  v1::NumericsProgram proto;
  if (!UnpackCandidate(candidate, &proto)) {
    return absl::InvalidArgumentError("candidate holds no numerics program");
  }
  return numerics::FromProto(proto);
}

class NumericsProblem : public Problem {
 public:
  NumericsProblem(const v1::NumericsSpec& spec, const numerics::Target& target, std::vector<Op> ops,
                  int max_ops, int fit_points, int validation_points)
      : spec_(spec),
        target_(target),
        ops_(std::move(ops)),
        max_ops_(max_ops),
        fit_points_(fit_points),
        validation_points_(validation_points),
        float32_(spec.mode() == v1::FLOAT32),
        fit_(numerics::MakeFitPoints(target, spec.lower(), spec.upper(), fit_points, float32_)),
        validation_(numerics::MakeValidationPoints(target, spec.lower(), spec.upper(),
                                                   validation_points, kValidationSeed, float32_)) {
    if (float32_) AddDenseFloats(target, spec.lower(), spec.upper(), validation_);
    // Probe inputs: golden-ratio fractions of the interval (irregular, fixed).
    for (int k = 1; k <= kProbePoints; ++k) {
      const long double frac = fmodl(k * 0.6180339887498948482L, 1.0L);
      probe_x_.push_back(spec.lower() +
                         (static_cast<long double>(spec.upper()) - spec.lower()) * frac);
    }
  }

  std::string Domain() const override { return "numerics"; }

  std::string CanonicalSpec() const override {
    std::vector<std::string> names;
    for (Op op : ops_) names.push_back(numerics::OpName(op));
    return absl::StrFormat(
        "target=%s;lower=%a;upper=%a;mode=%s;ops=%s;max_ops=%d;fit=%d;val=%d",
        target_.name, spec_.lower(), spec_.upper(), float32_ ? "float32" : "real",
        absl::StrJoin(names, ","), max_ops_, fit_points_, validation_points_);
  }

  std::string EvaluatorVersion() const override { return "numerics/4"; }

  std::vector<std::string> ObjectiveNames() const override { return {"log10_error", "cost"}; }

  v1::Candidate Random(Rng& rng) const override {
    Program p;
    p.constants.push_back(rng.Normal());
    return PackCandidate(numerics::ToProto(p));
  }

  v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const override {
    auto parsed = ProgramOf(parent);
    Program p = parsed.ok() ? *parsed : Program{};
    if (p.instructions.size() > static_cast<size_t>(4 * max_ops_ + 8) || p.constants.size() > 32) {
      p = numerics::Compact(p);
    }
    // A child over the op budget would only be rejected: retry (deterministically) a few times.
    // When every try is over, the child is the parent with one constant restarted.
    Program child;
    bool within = false;
    for (int attempt = 0; attempt < 8 && !within; ++attempt) {
      child = p;
      MutateInPlace(child, rng);
      within = numerics::Cost(child) <= max_ops_;
    }
    if (!within) {
      child = numerics::Compact(p);
      if (!child.constants.empty())
        child.constants[rng.Below(child.constants.size())] = rng.Normal();
    }
    return PackCandidate(numerics::ToProto(child));
  }

  ProbeBytes Probe(const v1::Candidate& candidate) const override {
    auto parsed = ProgramOf(candidate);
    if (!parsed.ok()) return "invalid";
    const numerics::CompiledProgram<long double> compiled(*parsed);
    std::vector<long double> y(probe_x_.size());
    compiled.Run(probe_x_.data(), y.data(), y.size());
    ProbeBytes out;
    for (long double v : y) {
      double d = static_cast<double>(v);
      uint64_t bits;
      if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
      std::memcpy(&bits, &d, sizeof bits);
      if (std::isfinite(d)) bits &= ~((uint64_t{1} << 28) - 1);  // keep 24 of 52 mantissa bits
      for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>(bits >> (8 * b)));
    }
    return out;
  }

  v1::Evaluation Evaluate(const v1::Candidate& candidate,
                          const EvalContext& context) const override {
    const auto start = std::chrono::steady_clock::now();
    v1::Evaluation ev;
    auto fail = [&](v1::EvaluationStatus status, std::string error) {
      ev.set_status(status);
      ev.set_error(std::move(error));
      ev.clear_objectives();
      ev.add_objectives(kInf);
      ev.add_objectives(kInf);
      return ev;
    };
    auto parsed = ProgramOf(candidate);
    if (!parsed.ok()) return fail(v1::FAILED, std::string(parsed.status().message()));
    const Program& p = *parsed;
    const int cost = numerics::Cost(p);
    (*ev.mutable_metrics())["cost"] = cost;
    (*ev.mutable_metrics())["instructions"] = numerics::LiveInstructions(p);
    if (cost > max_ops_) {
      return fail(v1::INFEASIBLE,
                  absl::StrCat("cost ", cost, " exceeds numerics.max_ops ", max_ops_));
    }
    for (Op op : UsedOps(p)) {
      if (std::find(ops_.begin(), ops_.end(), op) == ops_.end()) {
        return fail(v1::INFEASIBLE,
                    absl::StrCat("op '", numerics::OpName(op), "' is not in numerics.ops"));
      }
    }
    const numerics::FitResult fit = numerics::FitConstants(p, fit_, context.seed);
    const double fit_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // FLOAT32 jobs are scored in ULPs; their relative error (a metric only) is the fit's, which
    // spares a long double pass over what may be many validation points.
    const double rel =
        float32_ ? static_cast<double>(fit.max_rel_error)
                 : static_cast<double>(numerics::MaxRelativeError(fit.program, validation_));
    double log10_error;
    (*ev.mutable_metrics())["max_rel_error"] = rel;
    Program refined = fit.program;
    if (float32_) {
      // Rounded to float, the real-arithmetic fit loses ULPs; a local search over neighbouring
      // floats wins them back (never worse than the rounded constants on the validation points).
      numerics::FloatRefineResult r = numerics::RefineFloatConstants(fit.program, validation_);
      refined = std::move(r.program);
      const double ulp = r.error.max_ulp;
      (*ev.mutable_metrics())["max_ulp"] = ulp;
      (*ev.mutable_metrics())["refined_constants"] = r.changed_constants;
      log10_error = std::log10(ulp + 1e-3);
    } else {
      log10_error = std::log10(std::max(rel, 1e-300));
    }
    ev.set_status(v1::OK);
    ev.add_objectives(std::isnan(log10_error) ? kInf : log10_error);
    ev.add_objectives(cost);
    (*ev.mutable_metrics())["fit_seconds"] = fit_seconds;
    *ev.mutable_refined() = PackCandidate(numerics::ToProto(refined));
    return ev;
  }

  std::string Render(const v1::Candidate& candidate, RenderFormat format) const override {
    if (format == RenderFormat::kJson) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(candidate, &json);
      return json;
    }
    auto parsed = ProgramOf(candidate);
    if (!parsed.ok()) return absl::StrCat("invalid program: ", parsed.status().message());
    if (format == RenderFormat::kText) return numerics::RenderText(*parsed);
    const bool use_float = format == RenderFormat::kCFloat || float32_;
    return numerics::RenderC(*parsed, absl::StrCat("approx_", target_.name), use_float);
  }

  std::string Report(const std::vector<v1::HistoryEntry>& history) const override;

 private:
  static std::vector<Op> UsedOps(const Program& p) {
    const std::vector<bool> live = numerics::LiveValues(p);
    std::vector<Op> used;
    for (size_t i = 0; i < p.instructions.size(); ++i) {
      if (live[p.value_of(i)]) used.push_back(p.instructions[i].op);
    }
    return used;
  }

  // An operand for an instruction placed before value `limit`: biased toward x, recent values.
  uint32_t RandomOperand(const Program& p, uint32_t limit, Rng& rng) const {
    const uint32_t first_instr = static_cast<uint32_t>(1 + p.constants.size());
    const double u = rng.Uniform();
    if (u < 0.35 || limit <= 1) return 0;
    if ((u < 0.55 || limit <= first_instr) && !p.constants.empty()) {
      return 1 +
             static_cast<uint32_t>(rng.Below(std::min<uint32_t>(p.constants.size(), limit - 1)));
    }
    if (limit <= first_instr) return 0;
    uint32_t v = limit - 1;  // geometric walk back from the most recent value
    while (v > first_instr && rng.Bernoulli(0.4)) --v;
    return v;
  }

  Instruction RandomInstruction(const Program& p, uint32_t limit, Rng& rng) const {
    Instruction in;
    in.op = ops_[rng.Below(ops_.size())];
    in.a = RandomOperand(p, limit, rng);
    in.b = RandomOperand(p, limit, rng);
    in.c = in.op == Op::kFma ? RandomOperand(p, limit, rng) : 0;
    return in;
  }

  Op RandomOp(Rng& rng) const { return ops_[rng.Below(ops_.size())]; }
  // `preferred` when the job allows it, else a random allowed op.
  Op OpOr(Op preferred, Rng& rng) const {
    return std::find(ops_.begin(), ops_.end(), preferred) != ops_.end() ? preferred : RandomOp(rng);
  }

  // A second operand for a new instruction before value `limit` that combines with `v`: v itself
  // (squaring, doubling), x, a new constant, or an earlier value. May add a constant, which
  // renumbers values >= 1 + constants.size(); `*v` and `*limit` are updated.
  uint32_t Partner(Program& p, uint32_t* v, uint32_t* limit, Rng& rng) const {
    const double u = rng.Uniform();
    if (u < 0.2) return *v;
    if (u < 0.45) return 0;
    if (u < 0.75) {
      const uint32_t first = static_cast<uint32_t>(1 + p.constants.size());
      const uint32_t c = AddConstant(p, rng.Normal());
      if (*v >= first) ++*v;
      ++*limit;
      return c;
    }
    return RandomOperand(p, *limit, rng);
  }

  // Mutations, all keeping the program valid. Dead code is dropped first, so every mutation
  // touches the function; constants are refitted by Evaluate, so most mutations change structure:
  // growing the result (r op z), growing an inner value on one edge (Horner-like nesting),
  // sharing x*x, mirroring the result into a quotient (P(x)/P(-x) forms), rewiring, op changes
  // and removals.
  void MutateInPlace(Program& p, Rng& rng) const {
    p = numerics::Compact(p);
    const size_t n = p.instructions.size();
    const double u = rng.Uniform();
    if (n == 0 || u < 0.25) {  // extend the result: r' = r op z or z op r
      uint32_t r = p.result(), limit = p.num_values();
      const uint32_t z = Partner(p, &r, &limit, rng);
      const bool left = rng.Bernoulli(0.7);
      p.instructions.push_back({RandomOp(rng), left ? r : z, left ? z : r, 0});
    } else if (u < 0.37) {  // extend the result by a new subexpression: t = a op b; r' = r op t
      uint32_t limit = p.num_values();
      uint32_t a = rng.Bernoulli(0.6) ? 0 : RandomOperand(p, limit, rng);
      const uint32_t b = Partner(p, &a, &limit, rng);
      const uint32_t r = p.result();
      p.instructions.push_back({RandomOp(rng), a, b, 0});
      p.instructions.push_back({RandomOp(rng), r, p.result(), 0});
    } else if (u < 0.55) {  // grow one edge: instruction i reads w = v op z instead of v
      const size_t i = rng.Below(n);
      const int slot = static_cast<int>(rng.Below(numerics::Arity(p.instructions[i].op)));
      uint32_t v = slot == 0   ? p.instructions[i].a
                   : slot == 1 ? p.instructions[i].b
                               : p.instructions[i].c;
      uint32_t limit = p.value_of(i);
      const uint32_t z = Partner(p, &v, &limit, rng);
      const bool left = rng.Bernoulli(0.6);
      InsertInstruction(p, i, {RandomOp(rng), left ? v : z, left ? z : v, 0});
      Instruction& reader = p.instructions[i + 1];
      (slot == 0 ? reader.a : slot == 1 ? reader.b : reader.c) = p.value_of(i);
    } else if (u < 0.63) {  // share x*x: some operand reading x reads x*x instead
      size_t sq = n;
      for (size_t i = 0; i < n && sq == n; ++i) {
        const Instruction& in = p.instructions[i];
        if (in.op == Op::kMul && in.a == 0 && in.b == 0) sq = i;
      }
      if (sq == n) {
        InsertInstruction(p, 0, {OpOr(Op::kMul, rng), 0, 0, 0});
        sq = 0;
      }
      std::vector<std::pair<size_t, int>> readers;
      for (size_t i = sq + 1; i < p.instructions.size(); ++i) {
        const Instruction& in = p.instructions[i];
        if (in.a == 0) readers.push_back({i, 0});
        if (in.b == 0) readers.push_back({i, 1});
      }
      if (!readers.empty()) {
        const auto [i, slot] = readers[rng.Below(readers.size())];
        (slot == 0 ? p.instructions[i].a : p.instructions[i].b) = p.value_of(sq);
      }
    } else if (u < 0.69) {  // mirror: r = A op B becomes (A op B) / (A op' B)
      const Instruction last = p.instructions.back();
      const uint32_t r = p.result();
      const Op mirrored = OpOr(last.op == Op::kSub ? Op::kAdd : Op::kSub, rng);
      p.instructions.push_back({mirrored, last.a, last.b, mirrored == Op::kFma ? last.c : 0});
      p.instructions.push_back({OpOr(Op::kDiv, rng), r, p.result(), 0});
    } else if (u < 0.80) {  // rewire an operand to another earlier value
      const size_t pos = rng.Below(n);
      Instruction& in = p.instructions[pos];
      const uint32_t v = RandomOperand(p, p.value_of(pos), rng);
      const int slot = static_cast<int>(rng.Below(numerics::Arity(in.op)));
      (slot == 0 ? in.a : slot == 1 ? in.b : in.c) = v;
    } else if (u < 0.88) {  // change an op
      const size_t pos = rng.Below(n);
      Instruction& in = p.instructions[pos];
      in.op = RandomOp(rng);
      in.c = in.op == Op::kFma ? RandomOperand(p, p.value_of(pos), rng) : 0;
    } else if (u < 0.96) {  // remove an instruction, rewiring its users to an operand
      const size_t pos = rng.Below(n);
      const Instruction& in = p.instructions[pos];
      RemoveInstruction(p, pos, rng.Bernoulli(0.5) ? in.a : in.b);
    } else if (!p.constants.empty()) {  // restart a constant (the fit starts from it)
      p.constants[rng.Below(p.constants.size())] = rng.Normal();
    }
  }

  v1::NumericsSpec spec_;
  const numerics::Target& target_;
  std::vector<Op> ops_;
  int max_ops_;
  int fit_points_;
  int validation_points_;
  bool float32_;
  numerics::Samples fit_;
  numerics::Samples validation_;
  std::vector<long double> probe_x_;
};

std::string NumericsProblem::Report(const std::vector<v1::HistoryEntry>& history) const {
  struct Row {
    double error;
    int cost;
    int instructions;
    Program program;
  };
  const char* error_name = float32_ ? "max_ulp" : "max_rel_error";
  std::vector<Row> rows;
  for (const v1::HistoryEntry& h : history) {
    const v1::Evaluation& ev = h.evaluation();
    if (ev.status() != v1::OK) continue;
    const v1::Candidate& c = ev.refined().has_value() ? ev.refined() : h.candidate();
    auto parsed = ProgramOf(c);
    auto it = ev.metrics().find(error_name);
    if (!parsed.ok() || it == ev.metrics().end() || !std::isfinite(it->second)) continue;
    rows.push_back(
        {it->second, numerics::Cost(*parsed), numerics::LiveInstructions(*parsed), *parsed});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.error < b.error;
  });
  std::string out =
      absl::StrFormat("AutoNumerics report: %s on [%.17g, %.17g], %s, max_ops %d\n", target_.name,
                      spec_.lower(), spec_.upper(), float32_ ? "float32" : "real", max_ops_);
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
    if (r.cost <= max_ops_ && (best == nullptr || r.error < best->error)) best = &r;
  }

  const numerics::Samples float_samples =
      float32_ ? validation_
               : numerics::MakeValidationPoints(target_, spec_.lower(), spec_.upper(),
                                                validation_points_, kValidationSeed, true);
  absl::StrAppend(&out, "\nBaselines (Horner form, ops = 2 x degree; Taylor at x = ",
                  absl::StrFormat("%.17g", spec_.lower()), ")\n",
                  absl::StrFormat("%-8s  %6s  %4s  %14s  %10s\n", "method", "degree", "ops",
                                  "max_rel_error", "max_ulp"));
  for (const numerics::BaselineRow& b : numerics::ComputeBaselines(
           target_, spec_.lower(), spec_.upper(), max_ops_, validation_, float_samples)) {
    absl::StrAppend(&out, absl::StrFormat("%-8s  %6d  %4d  %14.4g  %10.4g\n", b.method, b.degree,
                                          b.ops, static_cast<double>(b.rel_error), b.max_ulp));
  }
  if (float32_) {
    const int d =
        numerics::SmallestFloatMinimaxDegree(target_, spec_.lower(), spec_.upper(), float_samples);
    absl::StrAppend(&out, "Smallest float32 minimax degree within 1 ULP: ",
                    d < 0 ? std::string("none up to 16") : absl::StrCat(d, " (", 2 * d, " ops)"),
                    "\n");
  }

  if (best == nullptr) {
    absl::StrAppend(&out, "\nNo OK candidate with cost <= ", max_ops_, ".\n");
    return out;
  }
  if (!float32_) {
    absl::StrAppend(
        &out, "\nBest program (cost ", best->cost, ", ", error_name, " ",
        absl::StrFormat("%.4g", best->error), ")\n",
        numerics::RenderC(best->program, absl::StrCat("approx_", target_.name), float32_));
    return out;
  }
  // Validation points sample the interval; the claim is about every float in it. Verify the few
  // best programs (by validation error, then cost) exhaustively and show the best verified one.
  constexpr size_t kVerified = 6;
  std::vector<const Row*> finalists;
  std::vector<std::string> seen;
  std::vector<const Row*> by_error;
  for (const Row& r : rows) {
    if (r.cost <= max_ops_) by_error.push_back(&r);
  }
  std::stable_sort(by_error.begin(), by_error.end(), [](const Row* a, const Row* b) {
    return a->error != b->error ? a->error < b->error : a->cost < b->cost;
  });
  for (const Row* r : by_error) {
    if (finalists.size() == kVerified) break;
    std::string text = numerics::RenderText(r->program);
    if (std::find(seen.begin(), seen.end(), text) != seen.end()) continue;
    seen.push_back(std::move(text));
    finalists.push_back(r);
  }
  absl::StrAppend(&out, "\nExhaustive float32 check of the ", finalists.size(),
                  " best programs (every float in the interval)\n",
                  absl::StrFormat("%6s  %14s  %14s\n", "cost", "validation_ulp", "max_ulp"));
  const Row* verified_best = nullptr;
  numerics::ExhaustiveResult verified;
  for (const Row* r : finalists) {
    const numerics::ExhaustiveResult v = numerics::VerifyAllFloats(
        r->program, target_, static_cast<float>(spec_.lower()), static_cast<float>(spec_.upper()));
    absl::StrAppend(&out, absl::StrFormat("%6d  %14.4g  %14.4g\n", r->cost, r->error, v.max_ulp));
    if (verified_best == nullptr || v.max_ulp < verified.max_ulp ||
        (v.max_ulp == verified.max_ulp && r->cost < verified_best->cost)) {
      verified_best = r;
      verified = v;
    }
  }
  absl::StrAppend(
      &out, "\nBest verified program (cost ", verified_best->cost, ")\n",
      numerics::RenderC(verified_best->program, absl::StrCat("approx_", target_.name), true),
      absl::StrFormat("\nExhaustive float32 check: %llu floats, max %g ULP at x = %.9g "
                      "(%llu near-midpoint references in long double, %.2f s)\n",
                      static_cast<unsigned long long>(verified.checked), verified.max_ulp,
                      verified.worst_x, static_cast<unsigned long long>(verified.slow_path),
                      verified.seconds));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Problem>> CreateNumericsProblem(const v1::NumericsSpec& n) {
  const numerics::Target* target = numerics::FindTarget(n.target());
  if (target == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("numerics.target: unknown target '", n.target(),
                                                   "' (one of ", numerics::TargetNames(), ")"));
  }
  if (!std::isfinite(n.lower())) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.lower: must be finite, got ", n.lower()));
  }
  if (!std::isfinite(n.upper())) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.upper: must be finite, got ", n.upper()));
  }
  if (!(n.lower() < n.upper())) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.lower: interval is empty or reversed (lower ", n.lower(),
                     " >= upper ", n.upper(), ")"));
  }
  if (!(n.lower() > target->domain_lower)) {
    return absl::InvalidArgumentError(absl::StrCat("numerics.lower: ", target->name,
                                                   " is undefined on [", n.lower(), ", ", n.upper(),
                                                   "] (needs ", target->domain_text, ")"));
  }
  if (n.mode() != v1::ARITHMETIC_MODE_UNSPECIFIED && n.mode() != v1::REAL &&
      n.mode() != v1::FLOAT32) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.mode: unknown mode ", static_cast<int>(n.mode())));
  }
  std::vector<Op> ops;
  for (int i = 0; i < n.ops_size(); ++i) {
    Op op;
    if (!numerics::ParseOpName(n.ops(i), &op)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "numerics.ops[", i, "]: unknown op '", n.ops(i), "' (one of add, sub, mul, div, fma)"));
    }
    if (std::find(ops.begin(), ops.end(), op) == ops.end()) ops.push_back(op);
  }
  if (ops.empty()) ops = {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv};
  std::sort(ops.begin(), ops.end());
  const uint32_t max_ops = n.max_ops() == 0 ? 10 : n.max_ops();
  if (max_ops > kMaxOpsLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.max_ops: ", max_ops, " exceeds the limit ", kMaxOpsLimit));
  }
  const uint32_t fit_points = n.fit_points() == 0 ? 1024 : n.fit_points();
  if (fit_points < 16 || fit_points > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.fit_points: ", fit_points, " is outside 16..65536"));
  }
  const uint32_t validation_points = n.validation_points() == 0 ? 10000 : n.validation_points();
  if (validation_points < 10000 || validation_points > 1000000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "numerics.validation_points: ", validation_points, " is outside 10000..1000000"));
  }
  return std::unique_ptr<Problem>(
      new NumericsProblem(n, *target, std::move(ops), static_cast<int>(max_ops),
                          static_cast<int>(fit_points), static_cast<int>(validation_points)));
}

v1::NumericsSpec NumericsExampleSpec() {
  v1::NumericsSpec spec;
  spec.set_target("exp2");
  spec.set_lower(0);
  spec.set_upper(1);
  return spec;
}

}  // namespace evolv
