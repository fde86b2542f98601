#include "search/job_spec.h"

#include <xxhash.h>

#include <cmath>
#include <cstdio>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "search/strategy.h"

namespace evolv {
namespace {

constexpr size_t kMaxName = 200;
constexpr uint32_t kMaxWindow = 4096;
constexpr double kMaxEvaluations = 1e12;
constexpr double kMaxSeconds = 1e7;
constexpr uint32_t kMaxAggregateRepeats = 100;
constexpr int kMaxPriority = 100;

absl::Status Invalid(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(field + ": " + reason);
}

}  // namespace

absl::Status ValidateJobSpec(const v1::JobSpec& spec, const ProblemRegistry& registry) {
  if (spec.name().size() > kMaxName) {
    return Invalid("name", "longer than " + std::to_string(kMaxName) + " bytes");
  }
  if (spec.window() > kMaxWindow) {
    return Invalid("window", std::to_string(spec.window()) + " exceeds the limit " +
                                 std::to_string(kMaxWindow));
  }
  const v1::Budget& budget = spec.budget();
  if (!std::isfinite(budget.max_seconds()) || budget.max_seconds() < 0) {
    return Invalid("budget.max_seconds", "must be a finite number >= 0");
  }
  if (static_cast<double>(budget.max_evaluations()) > kMaxEvaluations) {
    return Invalid("budget.max_evaluations", "exceeds the limit 1e12");
  }
  if (budget.max_seconds() > kMaxSeconds) {
    return Invalid("budget.max_seconds", "exceeds the limit 1e7");
  }
  if (!v1::CacheMode_IsValid(spec.cache().mode())) {
    return Invalid("cache.mode", "unknown mode " + std::to_string(spec.cache().mode()) +
                                     " (CACHE, AGGREGATE, COUNTERFACTUAL or OFF)");
  }
  if (spec.cache().aggregate_repeats() > kMaxAggregateRepeats) {
    return Invalid("cache.aggregate_repeats",
                   "exceeds the limit " + std::to_string(kMaxAggregateRepeats));
  }
  if (spec.priority() > kMaxPriority || spec.priority() < -kMaxPriority) {
    return Invalid("priority", "must be in [-100, 100]");
  }
  if (absl::Status status = ValidateStrategy(spec.strategy()); !status.ok()) return status;
  auto problem = registry.Create(spec);
  if (!problem.ok()) return problem.status();
  // A strategy the problem cannot drive (e.g. a bandit over a problem without arms) is a bad
  // spec, refused here rather than stored as a job that fails.
  auto strategy = CreateStrategy(spec, **problem);
  if (!strategy.ok()) return strategy.status();
  if (budget.max_evaluations() == 0 && budget.max_seconds() == 0 &&
      (*strategy)->NaturalEvaluations() == 0) {
    return Invalid("budget", "zero budget; set budget.max_evaluations or budget.max_seconds");
  }
  return absl::OkStatus();
}

std::string JobIdFor(const v1::JobSpec& spec) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    spec.SerializeToCodedStream(&coded);
  }
  char id[24];
  std::snprintf(id, sizeof(id), "j%016llx",
                static_cast<unsigned long long>(XXH3_64bits(bytes.data(), bytes.size())));
  return id;
}

}  // namespace evolv
