// Builds the Problem a job spec names. Each domain registers one factory, keyed by the case of
// JobSpec's `problem` oneof; evaluators/registry.cc holds the one line per domain.
//
// Thread-safety: register everything before the first Create; Create is then safe to call from
// any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "evolv/v1/job.pb.h"
#include "search/problem.h"

namespace evolv {

// Validates the spec and builds the problem. A bad spec gives InvalidArgument whose message
// starts with the field path, e.g. "numerics.lower: must be below numerics.upper".
using ProblemFactory =
    std::function<absl::StatusOr<std::unique_ptr<Problem>>(const v1::JobSpec& spec)>;

class ProblemRegistry {
 public:
  void Register(v1::JobSpec::ProblemCase which, std::string domain, ProblemFactory factory);
  absl::StatusOr<std::unique_ptr<Problem>> Create(const v1::JobSpec& spec) const;
  // The registered domain name for the spec's problem, or "" when none.
  std::string DomainOf(const v1::JobSpec& spec) const;

 private:
  struct Entry {
    std::string domain;
    ProblemFactory factory;
  };
  std::map<int, Entry> entries_;
};

// The registry with every built-in domain (defined in evaluators/registry.cc).
const ProblemRegistry& BuiltinProblems();

}  // namespace evolv
