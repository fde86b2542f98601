// The built-in search domains: one registration line per domain, in registry.cc.
#pragma once

#include "search/problem_registry.h"

namespace evolv {

// Registers every built-in domain into `registry`; fails on the first refused registration.
absl::Status RegisterBuiltinDomains(ProblemRegistry& registry);

// The registry with every built-in domain. A refused registration is a startup error: the
// process prints the reason and exits with status 70 on the first call.
const ProblemRegistry& BuiltinProblems();

}  // namespace evolv
