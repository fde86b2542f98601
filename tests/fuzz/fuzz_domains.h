// The problem registry the fuzzers validate specs and build problems with: the numerics, solver
// and study domains, registered as evaluators/registry.cc registers them (the diffusion domain is
// left out to keep the fuzz tree's build short; its spec is then an unknown problem type).
// Thread-safety: built once on first use; read-only afterwards.
#pragma once

#include "search/problem_registry.h"

namespace evolv::fuzz {

// The registry; aborts the fuzzer (a harness bug, not a finding) when a registration is refused.
const ProblemRegistry& FuzzProblems();

}  // namespace evolv::fuzz
