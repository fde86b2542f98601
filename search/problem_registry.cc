#include "search/problem_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace evolv {
namespace {

// "type.googleapis.com/pkg.Message" -> "pkg.Message".
std::string_view TypeName(std::string_view type_url) {
  const size_t slash = type_url.rfind('/');
  return slash == std::string_view::npos ? type_url : type_url.substr(slash + 1);
}

}  // namespace

absl::Status ProblemRegistry::Add(Entry entry, const google::protobuf::Any& example) {
  if (entry.name.empty()) return absl::InvalidArgumentError("a domain needs a name");
  for (const auto& [type, other] : by_type_) {
    if (other.name == entry.name) {
      return absl::InvalidArgumentError(absl::StrCat("domain '", entry.name,
                                                     "' is registered twice (specs ", type, " and ",
                                                     entry.spec_type, ")"));
    }
  }
  if (by_type_.count(entry.spec_type)) {
    return absl::InvalidArgumentError(absl::StrCat("domains '", by_type_[entry.spec_type].name,
                                                   "' and '", entry.name, "' share the spec type ",
                                                   entry.spec_type));
  }
  auto problem = entry.factory(example);
  if (absl::IsFailedPrecondition(problem.status())) {
    unavailable_[entry.name] = std::string(problem.status().message());
    std::string type = entry.spec_type;
    by_type_.emplace(std::move(type), std::move(entry));
    return absl::OkStatus();
  }
  if (!problem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "domain '", entry.name, "': its example spec is refused: ", problem.status().message()));
  }
  if ((*problem)->Domain() != entry.name) {
    return absl::InvalidArgumentError(absl::StrCat(
        "domain '", entry.name, "': its problem calls itself '", (*problem)->Domain(), "'"));
  }
  if ((*problem)->CanonicalSpec().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("domain '", entry.name,
                     "': empty canonical spec (its functional keys would collide with every "
                     "other job's)"));
  }
  if ((*problem)->EvaluatorVersion().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("domain '", entry.name, "': empty evaluator version"));
  }
  if ((*problem)->ObjectiveNames().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("domain '", entry.name, "': no objective names"));
  }
  const std::vector<std::string> names = (*problem)->ObjectiveNames();
  const std::vector<v1::ObjectiveDisplay> displays = (*problem)->ObjectiveDisplays();
  for (size_t i = 0; i < std::max(names.size(), displays.size()); ++i) {
    if (i >= names.size() || i >= displays.size() || displays[i].name() != names[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "domain '", entry.name, "': its objective displays do not match its objective names ",
          absl::StrJoin(names, ", "), " one for one"));
    }
  }
  std::string type = entry.spec_type;
  by_type_.emplace(std::move(type), std::move(entry));
  return absl::OkStatus();
}

const ProblemRegistry::Entry* ProblemRegistry::Find(const v1::JobSpec& spec) const {
  if (!spec.has_problem()) return nullptr;
  auto it = by_type_.find(std::string(TypeName(spec.problem().type_url())));
  return it == by_type_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::unique_ptr<Problem>> ProblemRegistry::Create(const v1::JobSpec& spec) const {
  if (!spec.has_problem() || spec.problem().type_url().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "problem: the spec names no problem domain (one of: ", absl::StrJoin(Domains(), ", "),
        ")"));
  }
  const Entry* entry = Find(spec);
  if (entry == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "problem: unknown problem type '", std::string(TypeName(spec.problem().type_url())),
        "' (known domains: ", absl::StrJoin(Domains(), ", "), ")"));
  }
  return entry->factory(spec.problem());
}

std::string ProblemRegistry::DomainOf(const v1::JobSpec& spec) const {
  const Entry* entry = Find(spec);
  return entry ? entry->name : std::string();
}

std::string ProblemRegistry::SpecTypeOf(std::string_view domain) const {
  for (const auto& [type, entry] : by_type_) {
    if (entry.name == domain) return type;
  }
  return "";
}

bool ProblemRegistry::RunsCommands(std::string_view domain) const {
  for (const auto& [type, entry] : by_type_) {
    if (entry.name == domain) return entry.runs == DomainRuns::kUserCommands;
  }
  return false;
}

std::set<std::string> ProblemRegistry::CommandDomains() const {
  std::set<std::string> names;
  for (const auto& [type, entry] : by_type_) {
    if (entry.runs == DomainRuns::kUserCommands) names.insert(entry.name);
  }
  return names;
}

std::set<std::string> ProblemRegistry::CudaDomains() const {
  std::set<std::string> names;
  for (const auto& [type, entry] : by_type_) {
    if (entry.device == DomainDevice::kPrefersCuda) names.insert(entry.name);
  }
  return names;
}

std::vector<std::string> ProblemRegistry::Domains() const {
  std::vector<std::string> names;
  for (const auto& [type, entry] : by_type_) names.push_back(entry.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<DomainCommand> ProblemRegistry::Commands() const {
  std::map<std::string, const Entry*> by_name;
  for (const auto& [type, entry] : by_type_) by_name[entry.name] = &entry;
  std::vector<DomainCommand> commands;
  for (const auto& [name, entry] : by_name) {
    commands.insert(commands.end(), entry->commands.begin(), entry->commands.end());
  }
  return commands;
}

std::map<int, std::string> ProblemRegistry::SchemaV1JobSpecFields() const {
  std::map<int, std::string> fields;
  for (const auto& [type, entry] : by_type_) {
    if (entry.schema_v1) fields[entry.schema_v1->job_spec_field] = type;
  }
  return fields;
}

std::map<int, std::string> ProblemRegistry::SchemaV1CandidateFields() const {
  std::map<int, std::string> fields;
  for (const auto& [type, entry] : by_type_) {
    if (entry.schema_v1) fields[entry.schema_v1->candidate_field] = entry.schema_v1->candidate_type;
  }
  return fields;
}

}  // namespace evolv
