// The solver problem (Learning to Relax) as an evolv Problem: a sequence of linear systems
// A_t x = b_t; a candidate (SolverChoice) solves instance t with SOR or SSOR-CG at one omega, or
// at the instance-optimal omega, and its one objective is the iteration count.
//
// Functional key: Probe is (the instance's content key, omega) for a fixed omega and (the
// instance's content key, how the optimum is found) for the instance-optimal comparator;
// CanonicalSpec is (method, tolerance, cap). So a bandit's pick of omega for instance t shares
// the key, and the cached solve, of the fixed-omega comparator of the same (t, omega) — also
// across jobs that differ only in policies, trials or grid, and across Matrix Market
// directories that hold the same system. The content of a Matrix Market directory is in the
// problem fingerprint instead (InputsDigest), which workers compare with the coordinator's.
// Cache contract: a hit equals the evaluation exactly
// (solves are deterministic), the default Problem::CompareHit.
//
// It also implements BanditSequence, which is what lets BanditStrategy drive it.
//
// Thread-safety: all methods are const and safe to call concurrently (see instance_source.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/solver/instance_source.h"
#include "evaluators/solver/omega_star.h"
#include "evolv/v1/job.pb.h"
#include "evolv/v1/solver.pb.h"
#include "search/bandits/bandit_strategy.h"
#include "search/problem.h"

namespace evolv {

// Validates the spec and builds the problem. InvalidArgument whose message starts with the
// field path ("solver.omegas.hi: ...", "solver.matrix_market.dir: DIR/A_0003.mtx:7: ...").
absl::StatusOr<std::unique_ptr<Problem>> CreateSolverProblem(const v1::SolverSpec& spec);

// A small valid spec (a shifted Laplacian sequence), which the registry builds to check the domain.
v1::SolverSpec SolverExampleSpec();

class SolverProblem : public Problem, public BanditSequence {
 public:
  std::string Domain() const override { return "solver"; }
  std::string CanonicalSpec() const override;
  std::string EvaluatorVersion() const override { return "solver/3"; }
  // For a Matrix Market source, hex xxh3-128 of the instances' content keys in order (what the
  // files hold, not where they are), so a worker whose directory holds other systems has another
  // problem fingerprint; empty for generated sequences, which are a function of the spec.
  std::string InputsDigest() const override { return inputs_digest_; }
  std::vector<std::string> ObjectiveNames() const override { return {"iterations"}; }

  // A fixed grid omega on a uniformly drawn instance (for strategies other than the bandit).
  v1::Candidate Random(Rng& rng) const override;
  // The neighbouring grid omega on the same instance.
  v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const override;
  ProbeBytes Probe(const v1::Candidate& candidate) const override;
  // INFEASIBLE for an instance out of range or an omega outside (0, 2).
  std::optional<v1::Evaluation> CheckFeasible(const v1::Candidate& candidate) const override;
  // Objectives {iterations}; metrics iterations, converged, residual, omega, context, instance
  // (and solves, for the instance-optimal search). INFEASIBLE for an instance out of range or an
  // omega outside (0, 2); FAILED when the instance cannot be built.
  v1::Evaluation Evaluate(const v1::Candidate& candidate,
                          const EvalContext& context) const override;
  std::string Render(const v1::Candidate& candidate, RenderFormat format) const override;
  // Totals per policy (mean over trials) and per comparator with ratios to the best fixed omega
  // and to the instance-optimal one, then cumulative iterations at every tenth of the
  // instances. Only the leading instances whose every candidate was told are counted.
  std::string Report(const std::vector<v1::HistoryEntry>& history) const override;
  // Charts of the same counted instances: "cumulative-iterations", per policy (mean over trials)
  // and per comparator (best fixed omega by total, instance-optimal when the spec has it,
  // per-instance best grid omega, omega = 1) the iterations summed over instances 1..t, ending at
  // the totals Report prints; and "omega-chosen", per policy the omega its first trial picked
  // on each instance (step lines). At most kMaxChartPoints points per series: past that,
  // instances are sampled evenly, the last always kept.
  std::vector<v1::ReportChart> Charts(const std::vector<v1::HistoryEntry>& history) const override;
  // The most points Charts draws per series, and the most policies it draws (the rest are left
  // out, so that a chart has at most 16 series).
  static constexpr uint64_t kMaxChartPoints = 2000;
  static constexpr size_t kMaxChartPolicies = 12;

  // BanditSequence.
  uint64_t NumInstances() const override { return source_->size(); }
  int NumArms() const override { return static_cast<int>(omegas_.size()); }
  double Context(uint64_t instance) const override { return source_->Context(instance); }
  std::pair<double, double> ContextRange() const override { return source_->ContextRange(); }
  std::vector<v1::Candidate> Comparators(uint64_t instance) const override;
  v1::Candidate Pick(uint64_t instance, const BanditPick& pick) const override;
  std::optional<BanditPick> ReadPick(const v1::Candidate& candidate) const override;
  const BanditSequence* AsBanditSequence() const override { return this; }

  // The comparator solving `instance` at grid arm `arm` (-1: omega = 1).
  v1::Candidate Fixed(uint64_t instance, int arm) const;
  double FailureLoss() const override { return options_.max_iterations; }

  const std::vector<double>& omegas() const { return omegas_; }

 private:
  friend absl::StatusOr<std::unique_ptr<Problem>> CreateSolverProblem(const v1::SolverSpec& spec);
  SolverProblem() = default;

  // One instance's told evaluations: iterations of every comparator and of every (policy,
  // trial) pick (-1: not told yet), and the omega of each pick.
  struct TallyRow {
    std::vector<int64_t> fixed;  // per grid arm
    int64_t one = -1;
    int64_t optimal = -1;
    std::map<std::pair<std::string, uint32_t>, int64_t> picks;
    std::map<std::pair<std::string, uint32_t>, double> pick_omegas;
  };
  struct Tally {
    std::vector<std::string> policies;  // in order of first appearance
    uint32_t trials = 0;
    size_t failed = 0;           // evaluations not OK (counted at the cap)
    std::vector<TallyRow> rows;  // the leading instances whose every candidate was told
  };
  // The history per instance, for Report and Charts.
  Tally TallyHistory(const std::vector<v1::HistoryEntry>& history) const;

  // True when the instance-optimal omega comes from Young's formula rather than a search.
  bool ClosedFormOptimum() const;

  std::shared_ptr<const InstanceSource> source_;
  RelaxationMethod method_ = RelaxationMethod::kSor;
  SolveOptions options_;
  std::vector<double> omegas_;
  bool has_omega_one_ = false;  // 1.0 is a grid point (else omega = 1 is an extra comparator)
  v1::SolverSpec::InstanceOptimal instance_optimal_ = v1::SolverSpec::INSTANCE_OPTIMAL_AUTO;
  int golden_evaluations_ = 24;
  std::string inputs_digest_;
};

}  // namespace evolv
