#include "evaluators/solver/relax_experiment.h"

#include <algorithm>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "search/bandits/chebcb.h"
#include "search/bandits/tsallis_inf.h"
#include "search/bandits/tsallis_inf_cb.h"

namespace evolv {
namespace {

using Bandit = std::variant<TsallisInf, TsallisInfCb, ChebCb>;

absl::StatusOr<Bandit> MakeBandit(const std::string& policy, const RelaxExperimentOptions& options,
                                  std::pair<double, double> range) {
  const int arms = static_cast<int>(options.omegas.size());
  if (policy == "tsallis_inf") {
    absl::StatusOr<TsallisInf> bandit = TsallisInf::Create(arms, options.loss_scale);
    if (!bandit.ok()) return bandit.status();
    return Bandit(*std::move(bandit));
  }
  if (policy == "tsallis_inf_cb") {
    absl::StatusOr<TsallisInfCb> bandit =
        TsallisInfCb::Create(arms, options.loss_scale, options.num_bins, range.first, range.second);
    if (!bandit.ok()) return bandit.status();
    return Bandit(*std::move(bandit));
  }
  if (policy == "chebcb") {
    ChebCbOptions cb;
    cb.num_arms = arms;
    cb.loss_scale = options.loss_scale;
    cb.context_lo = range.first;
    cb.context_hi = range.second;
    cb.gamma_scale = options.gamma_scale;
    absl::StatusOr<ChebCb> bandit = ChebCb::Create(cb);
    if (!bandit.ok()) return bandit.status();
    return Bandit(*std::move(bandit));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("policy: unknown '", policy, "' (tsallis_inf, tsallis_inf_cb or chebcb)"));
}

struct SampleVisitor {
  double context;
  Rng& rng;
  BanditDraw operator()(const TsallisInf& b) const { return b.Sample(rng); }
  BanditDraw operator()(const TsallisInfCb& b) const { return b.Sample(context, rng); }
  BanditDraw operator()(const ChebCb& b) const { return b.Sample(context, rng); }
};

struct UpdateVisitor {
  double context;
  BanditDraw draw;
  double loss;
  absl::Status operator()(TsallisInf& b) const {
    return b.Update(draw.arm, loss, draw.probability);
  }
  absl::Status operator()(TsallisInfCb& b) const {
    return b.Update(context, draw.arm, loss, draw.probability);
  }
  absl::Status operator()(ChebCb& b) const {
    return b.Update(context, draw.arm, loss, draw.probability);
  }
};

}  // namespace

std::vector<double> OmegaGrid(double lo, double hi, int count) {
  std::vector<double> grid(count);
  for (int i = 0; i < count; ++i) {
    grid[i] = count == 1 ? lo : lo + (hi - lo) * i / (count - 1);
  }
  return grid;
}

absl::StatusOr<RelaxExperimentReport> RunRelaxExperiment(SystemSequence& sequence,
                                                         const std::vector<std::string>& policies,
                                                         const RelaxExperimentOptions& options) {
  if (options.omegas.empty()) return absl::InvalidArgumentError("omegas: empty grid");
  for (double omega : options.omegas) {
    if (!(omega > 0.0 && omega < 2.0)) {
      return absl::InvalidArgumentError(absl::StrCat("omegas: ", omega, " is outside (0, 2)"));
    }
  }
  std::vector<Bandit> bandits;
  std::vector<Rng> rngs;
  RelaxExperimentReport report;
  report.omegas = options.omegas;
  for (size_t p = 0; p < policies.size(); ++p) {
    absl::StatusOr<Bandit> bandit = MakeBandit(policies[p], options, sequence.ContextRange());
    if (!bandit.ok()) return bandit.status();
    bandits.push_back(*std::move(bandit));
    rngs.emplace_back(Mix64(options.seed + p));
    report.policies.push_back({policies[p], 0});
  }
  const int arms = static_cast<int>(options.omegas.size());
  const auto one = std::find(options.omegas.begin(), options.omegas.end(), 1.0);
  report.fixed_iterations.assign(arms, 0);
  report.instance_optimal_iterations = options.instance_optimal ? 0 : -1;
  std::vector<int> cost(arms);
  Eigen::VectorXd x;
  for (int t = 0; t < options.num_instances && !sequence.Done(); ++t) {
    absl::StatusOr<LinearSystem> system = sequence.Next();
    if (!system.ok()) return system.status();
    absl::StatusOr<RelaxationSolver> solver = RelaxationSolver::Create(system->a);
    if (!solver.ok()) return solver.status();
    for (int a = 0; a < arms; ++a) {
      x = system->x0;
      absl::StatusOr<SolveResult> result =
          Solve(*solver, options.method, system->b, options.omegas[a], x, options.solve);
      if (!result.ok()) return result.status();
      cost[a] = result->iterations;
      report.fixed_iterations[a] += cost[a];
    }
    const int grid_best = *std::min_element(cost.begin(), cost.end());
    report.grid_oracle_iterations += grid_best;
    if (one != options.omegas.end()) {
      report.omega_one_iterations += cost[one - options.omegas.begin()];
    } else {
      x = system->x0;
      absl::StatusOr<SolveResult> result =
          Solve(*solver, options.method, system->b, 1.0, x, options.solve);
      if (!result.ok()) return result.status();
      report.omega_one_iterations += result->iterations;
    }
    if (options.instance_optimal) {
      absl::StatusOr<OmegaSearchResult> best =
          InstanceOptimalOmega(*solver, system->b, system->x0, options.method, options.solve, 1.0,
                               1.99, options.golden_evaluations);
      if (!best.ok()) return best.status();
      report.instance_optimal_iterations += best->iterations;
    }
    for (size_t p = 0; p < bandits.size(); ++p) {
      const BanditDraw draw = std::visit(SampleVisitor{system->context, rngs[p]}, bandits[p]);
      report.policies[p].iterations += cost[draw.arm];
      absl::Status status = std::visit(
          UpdateVisitor{system->context, draw, static_cast<double>(cost[draw.arm])}, bandits[p]);
      if (!status.ok()) return status;
    }
    ++report.instances;
  }
  report.best_fixed_arm = static_cast<int>(
      std::min_element(report.fixed_iterations.begin(), report.fixed_iterations.end()) -
      report.fixed_iterations.begin());
  report.best_fixed_iterations = report.fixed_iterations[report.best_fixed_arm];
  return report;
}

std::string FormatReport(const RelaxExperimentReport& r) {
  const double best = static_cast<double>(r.best_fixed_iterations);
  std::string out = absl::StrFormat("instances: %d\n", r.instances);
  absl::StrAppendFormat(&out, "omega = 1:                 %10d (%.3fx best fixed)\n",
                        r.omega_one_iterations, r.omega_one_iterations / best);
  absl::StrAppendFormat(&out, "best fixed omega %.4f:    %10d (1.000x)\n",
                        r.omegas[r.best_fixed_arm], r.best_fixed_iterations);
  absl::StrAppendFormat(&out, "per-instance best grid:    %10d (%.3fx best fixed)\n",
                        r.grid_oracle_iterations, r.grid_oracle_iterations / best);
  if (r.instance_optimal_iterations >= 0) {
    absl::StrAppendFormat(&out, "instance-optimal (golden): %10d (%.3fx best fixed)\n",
                          r.instance_optimal_iterations, r.instance_optimal_iterations / best);
  }
  for (const PolicyTotal& p : r.policies) {
    absl::StrAppendFormat(&out, "%-26s %10d (%.3fx best fixed; omega=1 / policy = %.2fx)\n",
                          p.policy + ":", p.iterations, p.iterations / best,
                          static_cast<double>(r.omega_one_iterations) / p.iterations);
  }
  out += "fixed omegas:";
  for (size_t a = 0; a < r.omegas.size(); ++a) {
    absl::StrAppendFormat(&out, " %.3f:%d", r.omegas[a], r.fixed_iterations[a]);
  }
  out += "\n";
  return out;
}

}  // namespace evolv
