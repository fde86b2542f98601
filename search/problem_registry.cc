#include "search/problem_registry.h"

namespace evolv {

void ProblemRegistry::Register(v1::JobSpec::ProblemCase which, std::string domain,
                               ProblemFactory factory) {
  entries_[static_cast<int>(which)] = Entry{std::move(domain), std::move(factory)};
}

absl::StatusOr<std::unique_ptr<Problem>> ProblemRegistry::Create(const v1::JobSpec& spec) const {
  auto it = entries_.find(static_cast<int>(spec.problem_case()));
  if (it == entries_.end()) {
    return absl::InvalidArgumentError(
        "problem: the spec names no known problem domain (set one of: numerics, solver)");
  }
  return it->second.factory(spec);
}

std::string ProblemRegistry::DomainOf(const v1::JobSpec& spec) const {
  auto it = entries_.find(static_cast<int>(spec.problem_case()));
  return it == entries_.end() ? std::string() : it->second.domain;
}

}  // namespace evolv
