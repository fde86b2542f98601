// The status page's view of one job (GET /api/jobs/ID/detail): the record, its problem's domain
// and objective names, the best-so-far curve, the Pareto front, the best candidate rendered and
// the most recent evaluations, all from the job's checkpointed history.
//
// Cost: reads the job's whole history from the store, O(rows), on every call.
// Thread-safety: safe to call from any thread.
// Errors: the store's status.
#pragma once

#include "absl/status/statusor.h"
#include "evolv/v1/service.pb.h"
#include "services/evolvd/evaluation_queries.h"
#include "storage/store.h"

namespace evolv {

// Limits of what one JobDetail carries.
constexpr size_t kMaxCurvePoints = 400;  // plus the points where the best improved
constexpr size_t kMaxParetoRows = 200;
constexpr size_t kRecentRows = 20;

absl::StatusOr<v1::JobDetail> BuildJobDetail(const v1::JobRecord& job, const Store& store,
                                             EvaluationQueries& rows);

}  // namespace evolv
