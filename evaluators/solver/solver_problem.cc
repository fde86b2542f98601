#include "evaluators/solver/solver_problem.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace evolv {
namespace {

constexpr double kDefaultTolerance = 1e-8;
constexpr uint32_t kDefaultMaxIterations = 10000;
constexpr uint32_t kMaxIterationsLimit = 10000000;
constexpr uint32_t kMaxOmegas = 1000;
constexpr uint32_t kDefaultGolden = 24;
constexpr uint32_t kMaxGolden = 200;
// The golden-section search range for the instance-optimal omega.
constexpr double kGoldenLo = 1.0;
constexpr double kGoldenHi = 1.99;

void AppendU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<char*>(&v), 8); }
void AppendDouble(std::string* out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  AppendU64(out, bits);
}

v1::Evaluation Fail(v1::EvaluationStatus status, const std::string& error) {
  return UnscoredEvaluation(status, error, 1);
}

// Hex xxh3-128 of the source's instance keys, each length-prefixed, in order.
std::string DigestOfInstanceKeys(const InstanceSource& source) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  for (uint64_t t = 0; t < source.size(); ++t) {
    const std::string key = source.InstanceKey(t);
    const uint64_t size = key.size();
    XXH3_128bits_update(state, &size, sizeof(size));
    XXH3_128bits_update(state, key.data(), key.size());
  }
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return absl::StrFormat("%016x%016x", h.high64, h.low64);
}

// The solver choice a candidate holds; nullopt for anything else.
std::optional<v1::SolverChoice> ChoiceOf(const v1::Candidate& candidate) {
  v1::SolverChoice choice;
  if (!UnpackCandidate(candidate, &choice)) return std::nullopt;
  return choice;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Problem>> CreateSolverProblem(const v1::SolverSpec& s) {
  auto problem = std::unique_ptr<SolverProblem>(new SolverProblem);
  if (!v1::SolverSpec::Method_IsValid(s.method()))
    return SolverFieldError("method", "unknown value");
  problem->method_ =
      s.method() == v1::SolverSpec::SSOR_CG ? RelaxationMethod::kSsorCg : RelaxationMethod::kSor;
  if (!(std::isfinite(s.tolerance()) && s.tolerance() >= 0 && s.tolerance() < 1)) {
    return SolverFieldError("tolerance", "must be in (0, 1) (0 means 1e-8)");
  }
  problem->options_.tolerance = s.tolerance() > 0 ? s.tolerance() : kDefaultTolerance;
  if (s.max_iterations() > kMaxIterationsLimit) {
    return SolverFieldError(
        "max_iterations",
        absl::StrCat(s.max_iterations(), " exceeds the limit ", kMaxIterationsLimit));
  }
  problem->options_.max_iterations =
      static_cast<int>(s.max_iterations() ? s.max_iterations() : kDefaultMaxIterations);

  const v1::OmegaGridSpec& grid = s.omegas();
  const double lo = grid.lo() != 0 ? grid.lo() : 1.0;
  const double hi = grid.hi() != 0 ? grid.hi() : 1.95;
  if (!(lo > 0 && lo < 2))
    return SolverFieldError("omegas.lo", absl::StrCat(lo, " is outside (0, 2)"));
  if (!(hi > 0 && hi < 2))
    return SolverFieldError("omegas.hi", absl::StrCat(hi, " is outside (0, 2)"));
  if (grid.count() > kMaxOmegas) {
    return SolverFieldError("omegas.count",
                            absl::StrCat(grid.count(), " exceeds the limit ", kMaxOmegas));
  }
  const int count = static_cast<int>(grid.count() ? grid.count() : 20);
  if (count > 1 && !(lo < hi)) {
    return SolverFieldError("omegas", absl::StrCat("lo ", lo, " must be below hi ", hi));
  }
  problem->omegas_ = OmegaGrid(lo, hi, count);
  problem->has_omega_one_ =
      std::find(problem->omegas_.begin(), problem->omegas_.end(), 1.0) != problem->omegas_.end();

  if (!v1::SolverSpec::InstanceOptimal_IsValid(s.instance_optimal())) {
    return SolverFieldError("instance_optimal", "unknown value");
  }
  problem->instance_optimal_ = s.instance_optimal();
  if (s.golden_evaluations() == 1 || s.golden_evaluations() > kMaxGolden) {
    return SolverFieldError("golden_evaluations", absl::StrCat("must be in [2, ", kMaxGolden, "]"));
  }
  problem->golden_evaluations_ =
      static_cast<int>(s.golden_evaluations() ? s.golden_evaluations() : kDefaultGolden);

  absl::StatusOr<std::shared_ptr<const InstanceSource>> source = OpenInstanceSource(s);
  if (!source.ok()) return source.status();
  problem->source_ = *std::move(source);
  // Files are the only input beyond the spec; generated sequences are a function of it.
  if (s.source_case() == v1::SolverSpec::kMatrixMarket) {
    problem->inputs_digest_ = DigestOfInstanceKeys(*problem->source_);
  }
  return std::unique_ptr<Problem>(std::move(problem));
}

bool SolverProblem::ClosedFormOptimum() const {
  return instance_optimal_ == v1::SolverSpec::INSTANCE_OPTIMAL_AUTO &&
         method_ == RelaxationMethod::kSor && NumInstances() > 0 &&
         source_->JacobiRadius(0).has_value();
}

std::string SolverProblem::CanonicalSpec() const {
  return absl::StrFormat("%s|tol=%.17g|cap=%d",
                         method_ == RelaxationMethod::kSor ? "sor" : "ssor_cg", options_.tolerance,
                         options_.max_iterations);
}

v1::Candidate SolverProblem::Fixed(uint64_t instance, int arm) const {
  v1::SolverChoice c;
  c.set_instance(instance);
  c.set_kind(v1::SolverChoice::FIXED);
  c.set_arm(arm);
  c.set_omega(arm >= 0 ? omegas_[arm] : 1.0);
  return PackCandidate(c);
}

v1::Candidate SolverProblem::Pick(uint64_t instance, const BanditPick& pick) const {
  v1::SolverChoice c;
  c.set_instance(instance);
  c.set_kind(v1::SolverChoice::FIXED);
  c.set_arm(pick.arm);
  c.set_omega(omegas_[pick.arm]);
  c.set_policy(pick.policy);
  c.set_trial(pick.trial);
  c.set_probability(pick.probability);
  c.set_context(pick.context);
  return PackCandidate(c);
}

std::optional<BanditPick> SolverProblem::ReadPick(const v1::Candidate& candidate) const {
  const std::optional<v1::SolverChoice> c = ChoiceOf(candidate);
  if (!c || c->policy().empty()) return std::nullopt;
  BanditPick pick;
  pick.policy = c->policy();
  pick.trial = c->trial();
  pick.arm = c->arm();
  pick.probability = c->probability();
  pick.context = c->context();
  return pick;
}

std::vector<v1::Candidate> SolverProblem::Comparators(uint64_t instance) const {
  std::vector<v1::Candidate> out;
  for (int a = 0; a < NumArms(); ++a) out.push_back(Fixed(instance, a));
  if (!has_omega_one_) out.push_back(Fixed(instance, -1));
  if (instance_optimal_ != v1::SolverSpec::INSTANCE_OPTIMAL_NONE) {
    v1::SolverChoice best;
    best.set_instance(instance);
    best.set_kind(v1::SolverChoice::INSTANCE_OPTIMAL);
    best.set_arm(-1);
    out.push_back(PackCandidate(best));
  }
  return out;
}

v1::Candidate SolverProblem::Random(Rng& rng) const {
  return Fixed(rng.Below(std::max<uint64_t>(1, NumInstances())),
               static_cast<int>(rng.Below(omegas_.size())));
}

v1::Candidate SolverProblem::Mutate(const v1::Candidate& parent, Rng& rng) const {
  const v1::SolverChoice p = ChoiceOf(parent).value_or(v1::SolverChoice());
  int arm = p.arm() >= 0 ? p.arm() : 0;
  arm += rng.Bernoulli(0.5) ? 1 : -1;
  arm = std::clamp(arm, 0, NumArms() - 1);
  return Fixed(p.instance(), arm);
}

ProbeBytes SolverProblem::Probe(const v1::Candidate& candidate) const {
  const std::optional<v1::SolverChoice> choice = ChoiceOf(candidate);
  if (!choice) return "invalid";
  const v1::SolverChoice& c = *choice;
  // The instance by its content, so that a key means the same system in every job.
  const std::string instance =
      c.instance() < NumInstances() ? source_->InstanceKey(c.instance()) : "out of range";
  std::string bytes;
  if (c.kind() == v1::SolverChoice::INSTANCE_OPTIMAL) {
    bytes = ClosedFormOptimum() ? "opt:closed" : "opt:golden";
    bytes += instance;
    if (!ClosedFormOptimum()) {
      AppendDouble(&bytes, kGoldenLo);
      AppendDouble(&bytes, kGoldenHi);
      AppendU64(&bytes, golden_evaluations_);
    }
  } else {
    bytes = "fixed";
    bytes += instance;
    AppendDouble(&bytes, c.omega());
  }
  return bytes;
}

std::optional<v1::Evaluation> SolverProblem::CheckFeasible(const v1::Candidate& candidate) const {
  const std::optional<v1::SolverChoice> c = ChoiceOf(candidate);
  if (!c) return std::nullopt;  // Evaluate reports it as FAILED
  if (c->instance() >= NumInstances()) {
    return Fail(v1::INFEASIBLE, absl::StrCat("instance ", c->instance(), " is out of range [0, ",
                                             NumInstances(), ")"));
  }
  if (c->kind() != v1::SolverChoice::INSTANCE_OPTIMAL && !(c->omega() > 0 && c->omega() < 2)) {
    return Fail(v1::INFEASIBLE, absl::StrCat("omega ", c->omega(), " is outside (0, 2)"));
  }
  return std::nullopt;
}

v1::Evaluation SolverProblem::Evaluate(const v1::Candidate& candidate,
                                       const EvalContext& context) const {
  (void)context;  // deterministic: no randomness in a solve
  const std::optional<v1::SolverChoice> choice = ChoiceOf(candidate);
  if (!choice) return Fail(v1::FAILED, "candidate holds no solver choice");
  const v1::SolverChoice& c = *choice;
  if (c.instance() >= NumInstances()) {
    return Fail(v1::INFEASIBLE, absl::StrCat("instance ", c.instance(), " is out of range [0, ",
                                             NumInstances(), ")"));
  }
  const bool optimal = c.kind() == v1::SolverChoice::INSTANCE_OPTIMAL;
  if (!optimal && !(c.omega() > 0 && c.omega() < 2)) {
    return Fail(v1::INFEASIBLE, absl::StrCat("omega ", c.omega(), " is outside (0, 2)"));
  }
  absl::StatusOr<std::shared_ptr<const SolverInstance>> instance = source_->Get(c.instance());
  if (!instance.ok()) return Fail(v1::FAILED, std::string(instance.status().message()));
  const SolverInstance& in = **instance;

  double omega = c.omega();
  int solves = 1;
  if (optimal) {
    if (ClosedFormOptimum()) {
      omega = OmegaStar(*source_->JacobiRadius(c.instance()));
    } else {
      absl::StatusOr<OmegaSearchResult> best = InstanceOptimalOmega(
          in.solver, in.b, in.x0, method_, options_, kGoldenLo, kGoldenHi, golden_evaluations_);
      if (!best.ok()) return Fail(v1::FAILED, std::string(best.status().message()));
      omega = best->omega;
      solves = best->evaluations + 1;
    }
  }
  Eigen::VectorXd x = in.x0;
  absl::StatusOr<SolveResult> result = Solve(in.solver, method_, in.b, omega, x, options_);
  if (!result.ok()) return Fail(v1::FAILED, std::string(result.status().message()));
  v1::Evaluation e;
  e.set_status(v1::OK);
  e.add_objectives(result->iterations);
  auto& m = *e.mutable_metrics();
  m["iterations"] = result->iterations;
  m["converged"] = result->converged ? 1.0 : 0.0;
  m["residual"] = result->relative_residual;
  m["omega"] = omega;
  m["context"] = in.context;
  m["instance"] = static_cast<double>(c.instance());
  m["solves"] = solves;
  return e;
}

std::string SolverProblem::Render(const v1::Candidate& candidate, RenderFormat format) const {
  const std::optional<v1::SolverChoice> choice = ChoiceOf(candidate);
  if (!choice) return "not a solver choice";
  const v1::SolverChoice& c = *choice;
  const bool optimal = c.kind() == v1::SolverChoice::INSTANCE_OPTIMAL;
  if (format == RenderFormat::kJson) {
    return absl::StrFormat(
        "{\"instance\": %d, \"kind\": \"%s\", \"omega\": %.17g, \"arm\": %d, \"policy\": \"%s\", "
        "\"trial\": %d}",
        c.instance(), optimal ? "INSTANCE_OPTIMAL" : "FIXED", c.omega(), c.arm(), c.policy(),
        c.trial());
  }
  std::string out = absl::StrFormat("instance %d: ", c.instance());
  out += optimal ? "instance-optimal omega" : absl::StrFormat("omega %.4f", c.omega());
  if (!c.policy().empty()) {
    absl::StrAppendFormat(&out, " (%s trial %d, p = %.3f)", c.policy(), c.trial(), c.probability());
  }
  return out;
}

SolverProblem::Tally SolverProblem::TallyHistory(
    const std::vector<v1::HistoryEntry>& history) const {
  Tally tally;
  const int arms = NumArms();
  const bool with_optimal = instance_optimal_ != v1::SolverSpec::INSTANCE_OPTIMAL_NONE;
  std::map<uint64_t, TallyRow> rows;
  for (const v1::HistoryEntry& entry : history) {
    const std::optional<v1::SolverChoice> choice = ChoiceOf(entry.candidate());
    if (!choice) continue;
    const v1::SolverChoice& c = *choice;
    const v1::Evaluation& e = entry.evaluation();
    int64_t iterations = options_.max_iterations;
    if (e.status() == v1::OK && e.objectives_size() > 0) {
      iterations = static_cast<int64_t>(e.objectives(0));
    } else {
      ++tally.failed;
    }
    TallyRow& row = rows[c.instance()];
    if (row.fixed.empty()) row.fixed.assign(arms, -1);
    if (!c.policy().empty()) {
      if (std::find(tally.policies.begin(), tally.policies.end(), c.policy()) ==
          tally.policies.end()) {
        tally.policies.push_back(c.policy());
      }
      tally.trials = std::max(tally.trials, c.trial() + 1);
      row.picks[{c.policy(), c.trial()}] = iterations;
      row.pick_omegas[{c.policy(), c.trial()}] = c.omega();
    } else if (c.kind() == v1::SolverChoice::INSTANCE_OPTIMAL) {
      row.optimal = iterations;
    } else {
      if (c.arm() >= 0 && c.arm() < arms) row.fixed[c.arm()] = iterations;
      if (c.omega() == 1.0) row.one = iterations;
    }
  }
  // The leading complete instances.
  const size_t picks_per_instance = tally.policies.size() * tally.trials;
  for (auto it = rows.begin(); it != rows.end() && it->first == tally.rows.size(); ++it) {
    const TallyRow& row = it->second;
    if (std::count(row.fixed.begin(), row.fixed.end(), -1) > 0 || row.one < 0 ||
        (with_optimal && row.optimal < 0) || row.picks.size() < picks_per_instance) {
      break;
    }
    tally.rows.push_back(std::move(it->second));
  }
  return tally;
}

std::string SolverProblem::Report(const std::vector<v1::HistoryEntry>& history) const {
  // Per instance: the iterations of every comparator and of every (policy, trial) pick.
  const Tally tally = TallyHistory(history);
  const int arms = NumArms();
  const bool with_optimal = instance_optimal_ != v1::SolverSpec::INSTANCE_OPTIMAL_NONE;
  const std::vector<std::string>& policies = tally.policies;
  const uint32_t trials = tally.trials;
  const size_t failed = tally.failed;
  const uint64_t n = tally.rows.size();

  std::string out = absl::StrFormat("solver: %s, %s, tolerance %g, cap %d\n", source_->Describe(),
                                    method_ == RelaxationMethod::kSor ? "SOR" : "SSOR-CG",
                                    options_.tolerance, options_.max_iterations);
  absl::StrAppendFormat(&out, "instances: %d of %d; arms: %d omegas in [%g, %g]; trials: %d\n", n,
                        NumInstances(), arms, omegas_.front(), omegas_.back(), trials);
  if (failed > 0)
    absl::StrAppendFormat(&out, "failed evaluations (counted at the cap): %d\n", failed);
  if (n == 0) return out + "no complete instance yet\n";

  // Totals and cumulative series over instances 0..n-1.
  std::vector<uint64_t> marks;
  const uint64_t step = std::max<uint64_t>(1, n / 10);
  for (uint64_t t = step; t < n; t += step) marks.push_back(t);
  marks.push_back(n);
  std::vector<int64_t> fixed(arms, 0);
  int64_t one = 0, optimal = 0, oracle = 0;
  std::map<std::pair<std::string, uint32_t>, int64_t> pick_totals;
  std::vector<std::vector<double>> cumulative;  // per mark: policies (mean), fixed..., one, opt
  std::vector<std::vector<int64_t>> fixed_at_marks;
  size_t next_mark = 0;
  for (uint64_t t = 0; t < n; ++t) {
    const TallyRow& row = tally.rows[t];
    for (int a = 0; a < arms; ++a) fixed[a] += row.fixed[a];
    one += row.one;
    optimal += std::max<int64_t>(row.optimal, 0);
    oracle += *std::min_element(row.fixed.begin(), row.fixed.end());
    for (const auto& [key, iterations] : row.picks) pick_totals[key] += iterations;
    if (t + 1 == marks[next_mark]) {
      std::vector<double> at;
      for (const std::string& p : policies) {
        double sum = 0;
        for (uint32_t r = 0; r < trials; ++r) sum += pick_totals[{p, r}];
        at.push_back(sum / trials);
      }
      at.push_back(one);
      at.push_back(optimal);
      cumulative.push_back(at);
      fixed_at_marks.push_back(fixed);
      ++next_mark;
    }
  }
  const int best_arm =
      static_cast<int>(std::min_element(fixed.begin(), fixed.end()) - fixed.begin());
  const double best = static_cast<double>(fixed[best_arm]);
  const double opt = with_optimal ? static_cast<double>(optimal) : 0.0;

  auto line = [&](const std::string& name, double total, const std::string& note) {
    absl::StrAppendFormat(&out, "  %-34s %14.1f %10.3fx", name, total, total / best);
    if (with_optimal) {
      absl::StrAppendFormat(&out, " %10.3fx", total / opt);
    } else {
      out += "          -";
    }
    absl::StrAppendFormat(&out, " %10.2fx%s\n", one / total, note);
  };
  out += "\ntotal iterations (policies: mean over trials)\n";
  absl::StrAppendFormat(&out, "  %-34s %14s %11s %11s %11s\n", "", "iterations", "/best fixed",
                        "/inst-opt", "omega=1 /");
  for (const std::string& p : policies) {
    std::vector<double> per_trial;
    for (uint32_t r = 0; r < trials; ++r) per_trial.push_back(pick_totals[{p, r}]);
    double mean = 0;
    for (double v : per_trial) mean += v;
    mean /= trials;
    const auto [mn, mx] = std::minmax_element(per_trial.begin(), per_trial.end());
    line(p, mean, trials > 1 ? absl::StrFormat("   trials %.0f..%.0f", *mn, *mx) : std::string());
  }
  line(absl::StrFormat("best fixed (omega %.4f)", omegas_[best_arm]), best, "");
  if (with_optimal) {
    line(ClosedFormOptimum() ? "instance-optimal (closed form)" : "instance-optimal (golden)", opt,
         "");
  }
  line("per-instance best grid omega", oracle, "");
  line("omega = 1", one, "");
  out += "\nfixed omegas\n";
  for (int a = 0; a < arms; ++a) {
    absl::StrAppendFormat(&out, "  omega %.4f %14d %10.3fx%s\n", omegas_[a], fixed[a],
                          fixed[a] / best, a == best_arm ? "  <- best fixed" : "");
  }
  out += "\ncumulative iterations vs instance (policies: mean over trials)\n";
  absl::StrAppendFormat(&out, "  %9s", "instance");
  for (const std::string& p : policies) absl::StrAppendFormat(&out, " %15s", p);
  absl::StrAppendFormat(&out, " %15s %15s %15s\n", "best fixed", "inst-opt", "omega=1");
  for (size_t k = 0; k < marks.size(); ++k) {
    absl::StrAppendFormat(&out, "  %9d", marks[k]);
    const auto& at = cumulative[k];
    for (size_t p = 0; p < policies.size(); ++p) absl::StrAppendFormat(&out, " %15.1f", at[p]);
    absl::StrAppendFormat(&out, " %15d", fixed_at_marks[k][best_arm]);
    if (with_optimal) {
      absl::StrAppendFormat(&out, " %15.0f", at[policies.size() + 1]);
    } else {
      absl::StrAppendFormat(&out, " %15s", "-");
    }
    absl::StrAppendFormat(&out, " %15.0f\n", at[policies.size()]);
  }
  return out;
}

std::vector<v1::ReportChart> SolverProblem::Charts(
    const std::vector<v1::HistoryEntry>& history) const {
  const Tally tally = TallyHistory(history);
  const uint64_t n = tally.rows.size();
  if (n == 0) return {};
  const int arms = NumArms();
  const bool with_optimal = instance_optimal_ != v1::SolverSpec::INSTANCE_OPTIMAL_NONE;
  const uint64_t stride = (n + kMaxChartPoints - 1) / kMaxChartPoints;
  auto drawn = [&](uint64_t t) { return (t + 1) % stride == 0 || t + 1 == n; };
  // The first kMaxChartPolicies policies, labelled by at most 64 bytes of their names.
  const std::vector<std::string> policies(
      tally.policies.begin(),
      tally.policies.begin() + std::min<size_t>(tally.policies.size(), kMaxChartPolicies));

  // Totals first: the best fixed arm is the one with the least total, as in Report.
  std::vector<int64_t> arm_totals(arms, 0);
  for (const TallyRow& row : tally.rows) {
    for (int a = 0; a < arms; ++a) arm_totals[a] += row.fixed[a];
  }
  const int best_arm =
      static_cast<int>(std::min_element(arm_totals.begin(), arm_totals.end()) - arm_totals.begin());

  v1::ReportChart cumulative;
  cumulative.set_name("cumulative-iterations");
  cumulative.set_title("Cumulative iterations (policies: mean over trials)");
  cumulative.set_x_label("instances");
  cumulative.set_y_label("iterations");
  // One series per policy, then best fixed, instance-optimal, per-instance best, omega = 1.
  std::vector<v1::ChartSeries*> series;
  for (const std::string& p : policies) {
    series.push_back(cumulative.add_series());
    series.back()->set_label(p.substr(0, 64));
  }
  const std::vector<std::string> comparators = {
      absl::StrFormat("best fixed (omega %.4f)", omegas_[best_arm]), "instance-optimal",
      "per-instance best grid omega", "omega = 1"};
  for (size_t k = 0; k < comparators.size(); ++k) {
    if (k == 1 && !with_optimal) continue;
    series.push_back(cumulative.add_series());
    series.back()->set_label(comparators[k]);
  }
  std::map<std::pair<std::string, uint32_t>, int64_t> pick_totals;
  int64_t best = 0, optimal = 0, oracle = 0, one = 0;
  for (uint64_t t = 0; t < n; ++t) {
    const TallyRow& row = tally.rows[t];
    for (const auto& [key, iterations] : row.picks) pick_totals[key] += iterations;
    best += row.fixed[best_arm];
    optimal += std::max<int64_t>(row.optimal, 0);
    oracle += *std::min_element(row.fixed.begin(), row.fixed.end());
    one += row.one;
    if (!drawn(t)) continue;
    std::vector<double> at;
    for (const std::string& p : policies) {
      double sum = 0;
      for (uint32_t r = 0; r < tally.trials; ++r) sum += pick_totals[{p, r}];
      at.push_back(sum / tally.trials);
    }
    at.push_back(static_cast<double>(best));
    if (with_optimal) at.push_back(static_cast<double>(optimal));
    at.push_back(static_cast<double>(oracle));
    at.push_back(static_cast<double>(one));
    for (size_t k = 0; k < series.size(); ++k) {
      series[k]->add_x(static_cast<double>(t + 1));
      series[k]->add_y(at[k]);
    }
  }
  std::vector<v1::ReportChart> charts = {std::move(cumulative)};
  if (policies.empty()) return charts;

  v1::ReportChart chosen;
  chosen.set_name("omega-chosen");
  chosen.set_title("Omega chosen per instance (first trial of each policy)");
  chosen.set_x_label("instance");
  chosen.set_y_label("omega");
  for (const std::string& p : policies) {
    v1::ChartSeries* s = chosen.add_series();
    s->set_label(p.substr(0, 64));
    s->set_step(true);
    for (uint64_t t = 0; t < n; ++t) {
      if (!drawn(t)) continue;
      auto it = tally.rows[t].pick_omegas.find({p, 0});
      if (it == tally.rows[t].pick_omegas.end()) continue;
      s->add_x(static_cast<double>(t));
      s->add_y(it->second);
    }
  }
  charts.push_back(std::move(chosen));
  return charts;
}

v1::SolverSpec SolverExampleSpec() {
  v1::SolverSpec spec;
  spec.mutable_shifted_laplacian()->set_instances(10);
  return spec;
}

}  // namespace evolv
