#include "evaluators/numerics/numerics_problem.h"
#include "search/problem_registry.h"

namespace evolv {

const ProblemRegistry& BuiltinProblems() {
  static const ProblemRegistry* registry = [] {
    auto* r = new ProblemRegistry;
    r->Register(v1::JobSpec::kNumerics, "numerics", CreateNumericsProblem);
    return r;
  }();
  return *registry;
}

}  // namespace evolv
