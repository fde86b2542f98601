// The Learning to Relax experiment: over a sequence of systems, a bandit picks omega from a grid
// per instance and pays the iteration count; compared with every fixed omega of the grid, the
// best fixed omega in hindsight, the instance-optimal omega and omega = 1.
//
// Every grid omega is solved on every instance (the comparators need them), so a policy's cost
// for its pick is read from that table: the same deterministic solve, done once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/solver/omega_star.h"
#include "evaluators/solver/sequences.h"
#include "evaluators/solver/sor.h"

namespace evolv {

// linspace(lo, hi, count).
std::vector<double> OmegaGrid(double lo = 1.0, double hi = 1.95, int count = 20);

struct RelaxExperimentOptions {
  std::vector<double> omegas = OmegaGrid();
  int num_instances = 5000;  // fewer when the sequence ends first
  uint64_t seed = 1;         // bandit sampling; the sequence has its own seed
  RelaxationMethod method = RelaxationMethod::kSor;
  SolveOptions solve;  // tolerance 1e-8, cap 10,000
  // Bandit losses are iterations / loss_scale. A scale near the typical good-arm cost keeps
  // losses O(1), where Tsallis-INF learns at its O(sqrt(K T)) rate; the cap would make them tiny
  // and learning correspondingly slow.
  double loss_scale = 100.0;
  int num_bins = 10;             // tsallis_inf_cb
  double gamma_scale = 1.0;      // chebcb
  bool instance_optimal = true;  // golden section per instance (about 24 solves each)
  int golden_evaluations = 24;
};

struct PolicyTotal {
  std::string policy;  // "tsallis_inf", "tsallis_inf_cb" or "chebcb"
  int64_t iterations = 0;
};

struct RelaxExperimentReport {
  int instances = 0;
  std::vector<double> omegas;
  std::vector<PolicyTotal> policies;      // in the order asked
  std::vector<int64_t> fixed_iterations;  // per grid omega
  int best_fixed_arm = 0;                 // best fixed omega in hindsight
  int64_t best_fixed_iterations = 0;
  int64_t grid_oracle_iterations = 0;        // per instance the best grid omega
  int64_t instance_optimal_iterations = -1;  // golden section per instance; -1 if disabled
  int64_t omega_one_iterations = 0;          // omega = 1 (Gauss-Seidel / SGS-CG)
};

// Runs `policies` over the first num_instances systems of `sequence`. InvalidArgument naming the
// field for an unknown policy, an empty or out-of-(0, 2) grid, or bad bandit options; errors
// from the sequence or the solver pass through.
absl::StatusOr<RelaxExperimentReport> RunRelaxExperiment(SystemSequence& sequence,
                                                         const std::vector<std::string>& policies,
                                                         const RelaxExperimentOptions& options);

// A multi-line human summary with the ratios policy / best fixed and omega = 1 / policy.
std::string FormatReport(const RelaxExperimentReport& report);

}  // namespace evolv
