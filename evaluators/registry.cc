#include "evaluators/numerics/numerics_problem.h"
#include "evaluators/solver/solver_problem.h"
#include "search/problem_registry.h"

namespace evolv {

const ProblemRegistry& BuiltinProblems() {
  static const ProblemRegistry* registry = [] {
    auto* r = new ProblemRegistry;
    r->Register(v1::JobSpec::kNumerics, "numerics", CreateNumericsProblem);
    r->Register(v1::JobSpec::kSolver, "solver", CreateSolverProblem);
    return r;
  }();
  return *registry;
}

}  // namespace evolv
