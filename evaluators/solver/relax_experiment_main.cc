// Runs the Learning to Relax Test 1 experiment (shifted Laplacian, 10x10 grid) and prints the
// totals and ratios. Usage:
//   relax_experiment [instances=5000] [loss_scale=100] [gamma_scale=1] [high|low] [golden=1]
#include <cstdlib>
#include <iostream>
#include <string>

#include "evaluators/solver/relax_experiment.h"

int main(int argc, char** argv) {
  evolv::RelaxExperimentOptions options;
  if (argc > 1) options.num_instances = std::atoi(argv[1]);
  if (argc > 2) options.loss_scale = std::atof(argv[2]);
  if (argc > 3) options.gamma_scale = std::atof(argv[3]);
  const bool high = argc <= 4 || std::string(argv[4]) != "low";
  if (argc > 5) options.instance_optimal = std::atoi(argv[5]) != 0;
  evolv::ShiftedLaplacianSequence sequence(high ? evolv::ShiftedLaplacianSequence::Variance::kHigh
                                                : evolv::ShiftedLaplacianSequence::Variance::kLow,
                                           /*seed=*/2024);
  absl::StatusOr<evolv::RelaxExperimentReport> report =
      evolv::RunRelaxExperiment(sequence, {"tsallis_inf", "tsallis_inf_cb", "chebcb"}, options);
  if (!report.ok()) {
    std::cerr << report.status() << "\n";
    return 1;
  }
  std::cout << "shifted Laplacian 10x10, " << (high ? "high" : "low") << " variance, loss_scale "
            << options.loss_scale << ", gamma_scale " << options.gamma_scale << "\n"
            << evolv::FormatReport(*report);
  return 0;
}
