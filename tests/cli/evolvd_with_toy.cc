// evolvd with the test tree's own "toy" domain registered beside the built-in ones: the toy
// domain is defined in tests/support alone, so a job of it served end to end proves the domain
// seam (docs/adr/0004-domain-seam.md).
#include "evaluators/registry.h"
#include "services/evolvd/server.h"
#include "tests/support/toy_problem.h"

int main(int argc, char** argv) {
  static evolv::ProblemRegistry registry;
  if (absl::Status s = evolv::RegisterBuiltinDomains(registry); !s.ok()) return 70;
  if (absl::Status s = evolv::testing::RegisterToyDomain(registry); !s.ok()) return 70;
  return evolv::RunEvolvd(argc, argv, registry);
}
