#include "services/store_open.h"

namespace evolv {

absl::StatusOr<std::unique_ptr<Store>> OpenStoreFor(const std::string& dir,
                                                    const ProblemRegistry& registry, bool repair) {
  StoreOptions options;
  options.repair = repair;
  options.schema_v1.job_spec = registry.SchemaV1JobSpecFields();
  options.schema_v1.candidate = registry.SchemaV1CandidateFields();
  return Store::Open(dir, options);
}

}  // namespace evolv
