// EvaluationQueries: the evaluation side of evolvd's API (QueryEvaluations, GetEvaluation, and
// the rows JobDetail shows), read from the store and rendered by each job's problem. The service
// facade (service_core.h) validates requests and finds the jobs; this unit never talks to actors.
//
// Costs: ByJob scans the job's history (Store::QueryTopByJob, O(rows log k)). ByProblem does that
// for every job with the same problem bytes, and only for those. Get is one point lookup.
//
// Thread-safety: safe to call from any thread (Store and ProblemCache are).
// Errors: the store's status; NotFound naming the key for an absent cache row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "evolv/v1/service.pb.h"
#include "services/evolvd/problem_cache.h"
#include "storage/store.h"

namespace evolv {

// The 32 hex digits of a 16-byte functional key (CacheKey::Hex); "" for any other length.
std::string KeyHex(std::string_view key);

class EvaluationQueries {
 public:
  // `store` and `problems` must outlive this.
  EvaluationQueries(const Store& store, ProblemCache& problems)
      : store_(store), problems_(problems) {}

  // Rows [offset, offset + page) of the job's history, best first by objective `objective`.
  absl::StatusOr<v1::QueryEvaluationsResponse> ByJob(const v1::JobRecord& job, int objective,
                                                     uint64_t offset, uint32_t page);
  // The same over every job in `jobs` whose problem bytes equal `wanted`'s, deduplicated by key.
  absl::StatusOr<v1::QueryEvaluationsResponse> ByProblem(const std::vector<v1::JobRecord>& jobs,
                                                         const v1::JobSpec& wanted, int objective,
                                                         uint64_t offset, uint32_t page);
  // The cache row under the 16-byte `key`.
  absl::StatusOr<v1::CachedEvaluation> Cached(const std::string& key);
  // `cached` as the API answers it, rendered by the problem of `evaluated_by` (the job that
  // first evaluated it) when that job is still known (non-null).
  v1::EvaluationResponse Respond(const std::string& key, const v1::CachedEvaluation& cached,
                                 const v1::JobRecord* evaluated_by);
  // The same as a one-row QueryEvaluationsResponse.
  v1::QueryEvaluationsResponse ByKey(const std::string& key, const v1::CachedEvaluation& cached,
                                     const v1::JobRecord* evaluated_by);

  // One history row as the API shows it: the refined candidate where the evaluation refined it,
  // rendered when `render`.
  v1::EvaluationRow Row(const v1::JobRecord& job, const v1::HistoryEntry& entry, bool render);

  ProblemCache& problems() { return problems_; }

 private:
  std::string Render(const v1::JobSpec& spec, const v1::Candidate& candidate);

  const Store& store_;
  ProblemCache& problems_;
};

}  // namespace evolv
