#include "tests/fuzz/fuzz_domains.h"

#include <cstdio>
#include <cstdlib>

#include "evaluators/numerics/numerics_problem.h"
#include "evaluators/solver/solver_problem.h"
#include "evaluators/study/study_problem.h"

namespace evolv::fuzz {

const ProblemRegistry& FuzzProblems() {
  static const ProblemRegistry* registry = [] {
    auto* r = new ProblemRegistry;
    for (const absl::Status& status : {
             r->Register<v1::NumericsSpec>("numerics", CreateNumericsProblem, NumericsExampleSpec(),
                                           SchemaV1Slot{10, 1, "evolv.v1.NumericsProgram"}),
             r->Register<v1::SolverSpec>("solver", CreateSolverProblem, SolverExampleSpec(),
                                         SchemaV1Slot{11, 2, "evolv.v1.SolverChoice"}),
             r->Register<v1::StudySpec>("study", CreateStudyProblem, StudyExampleSpec(),
                                        std::nullopt, {}, DomainRuns::kUserCommands),
         }) {
      if (!status.ok()) {
        std::fprintf(stderr, "fuzz registry: %s\n", std::string(status.message()).c_str());
        std::abort();
      }
    }
    return r;
  }();
  return *registry;
}

}  // namespace evolv::fuzz
