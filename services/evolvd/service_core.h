// ServiceCore: every operation of evolvd's API, once, for both front ends (gRPC in
// grpc_service.h, HTTP/JSON in http_server.h). Job lifecycle calls go to the job manager actor;
// evaluation queries read the store directly.
//
// Thread-safety: every method is safe to call from any thread.
// Errors: absl::Status with the codes documented in proto/evolv/v1/service.proto; messages name
// the offending request field first ("job_id: ...", "page_token: ...").
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "actors/dispatcher.h"
#include "actors/job_manager.h"
#include "evolv/v1/service.pb.h"
#include "search/problem_registry.h"
#include "storage/store.h"

namespace evolv {

class ServiceCore {
 public:
  // Everything must outlive the core.
  ServiceCore(Store* store, const ProblemRegistry& registry, caf::actor_system& system,
              caf::actor manager, dispatcher_actor dispatcher);

  absl::StatusOr<v1::JobRecord> SubmitJob(const v1::SubmitJobRequest& request);
  absl::StatusOr<v1::JobRecord> GetJob(const std::string& job_id);
  absl::StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request);
  absl::StatusOr<v1::JobRecord> CancelJob(const std::string& job_id);
  absl::StatusOr<v1::JobRecord> PauseJob(const std::string& job_id);
  absl::StatusOr<v1::JobRecord> ResumeJob(const std::string& job_id);
  // See JobManagerClient::Watch.
  absl::Status WatchJob(const std::string& job_id,
                        const std::function<void(const v1::JobEvent&)>& on_event,
                        const std::function<bool()>& keep_going);
  absl::StatusOr<v1::QueryEvaluationsResponse> QueryEvaluations(
      const v1::QueryEvaluationsRequest& request);
  absl::StatusOr<v1::EvaluationResponse> GetEvaluation(const v1::GetEvaluationRequest& request);
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers();
  absl::StatusOr<v1::GetStatsResponse> GetStats(const v1::GetStatsRequest& request);

  // For the status page: the job with its best-so-far curve, Pareto front, best candidate
  // rendered and recent evaluations (from the last checkpoint).
  absl::StatusOr<v1::JobDetail> GetJobDetail(const std::string& job_id);
  // Prometheus text exposition format.
  std::string Metrics();

 private:
  // The job's problem, built once per job, for rendering candidates.
  std::shared_ptr<const Problem> ProblemFor(const v1::JobRecord& job);
  v1::EvaluationRow Row(const v1::JobRecord& job, const v1::HistoryEntry& entry, bool render);

  Store* store_;
  const ProblemRegistry& registry_;
  caf::actor_system& system_;
  JobManagerClient manager_;
  dispatcher_actor dispatcher_;

  std::mutex mutex_;  // guards the members below
  std::map<std::string, std::shared_ptr<const Problem>> problems_;
  // Evaluation-latency histogram for /metrics, fed from each job's checkpointed history.
  std::map<std::string, uint64_t> latency_cursor_;  // job id -> next history index to read
  std::vector<uint64_t> latency_buckets_;
  uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
};

// Hex of raw bytes (lower case) and back; nullopt-like empty string on bad hex.
std::string ToHex(const std::string& bytes);
bool FromHex(const std::string& hex, std::string* bytes);

}  // namespace evolv
