#include "evaluators/registry.h"

#include <cstdio>
#include <cstdlib>

#include "evaluators/diffusion/diffusion_problem.h"
#include "evaluators/diffusion/train_command.h"
#include "evaluators/numerics/numerics_problem.h"
#include "evaluators/scaling/scaling_problem.h"
#include "evaluators/solver/solver_problem.h"
#include "evaluators/study/study_problem.h"

namespace evolv {

absl::Status RegisterBuiltinDomains(ProblemRegistry& r) {
  for (absl::Status status : {
           r.Register<v1::NumericsSpec>("numerics", CreateNumericsProblem, NumericsExampleSpec(),
                                        SchemaV1Slot{10, 1, "evolv.v1.NumericsProgram"}, {},
                                        DomainRuns::kOwnCode, DomainDevice::kPrefersCuda),
           r.Register<v1::SolverSpec>("solver", CreateSolverProblem, SolverExampleSpec(),
                                      SchemaV1Slot{11, 2, "evolv.v1.SolverChoice"}),
           r.Register<v1::DiffusionSpec>("diffusion", CreateDiffusionProblem,
                                         DiffusionExampleSpec(), std::nullopt, DiffusionCommands(),
                                         DomainRuns::kOwnCode, DomainDevice::kPrefersCuda),
           r.Register<v1::ScalingSpec>("scaling", CreateScalingProblem, ScalingExampleSpec()),
           r.Register<v1::StudySpec>("study", CreateStudyProblem, StudyExampleSpec(), std::nullopt,
                                     {}, DomainRuns::kUserCommands),
       }) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

const ProblemRegistry& BuiltinProblems() {
  static const ProblemRegistry* registry = [] {
    auto* r = new ProblemRegistry;
    if (absl::Status status = RegisterBuiltinDomains(*r); !status.ok()) {
      std::fprintf(stderr, "evolv: refusing to start: %s\n", std::string(status.message()).c_str());
      std::exit(70);
    }
    return r;
  }();
  return *registry;
}

}  // namespace evolv
