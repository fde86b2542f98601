// ServiceCore: the facade of evolvd's API, every operation once for both front ends (gRPC in
// grpc_service.h, HTTP/JSON in http_server.h). It validates requests and routes them:
//   job lifecycle            -> the job manager actor (JobManagerClient; the only place here
//                               that talks to it)
//   evaluations, job detail  -> EvaluationQueries / BuildJobDetail over the store, rendered by
//                               the ProblemCache's problems
//   job reports              -> JobReports (the problem's text and figures, cached)
//   workers, queue depth     -> DispatcherClient (calls with a deadline)
//   /metrics                 -> ServiceMetrics, from the jobs' counters, never from history
//   /healthz                 -> HealthCheck: probes the job manager, dispatcher and store
//
// Thread-safety: every method is safe to call from any thread.
// Errors: absl::Status with the codes documented in proto/evolv/v1/service.proto; messages name
// the offending request field first ("job_id: ...", "page_token: ...").
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "actors/job_manager.h"
#include "actors/protocol.h"
#include "evolv/v1/service.pb.h"
#include "search/problem_registry.h"
#include "services/evolvd/dispatcher_client.h"
#include "services/evolvd/evaluation_queries.h"
#include "services/evolvd/health.h"
#include "services/evolvd/job_reports.h"
#include "services/evolvd/metrics.h"
#include "services/evolvd/problem_cache.h"
#include "storage/store.h"

namespace evolv {

class ServiceCore {
 public:
  // Everything must outlive the core. `metrics` is fed by the dispatcher
  // (DispatcherOptions::observe).
  ServiceCore(Store* store, const ProblemRegistry& registry, caf::actor_system& system,
              job_manager_actor manager, dispatcher_actor dispatcher,
              const ServiceMetrics& metrics);

  // The lifecycle calls take the caller's deadline (RequestDeadline, actors/job_manager.h): a
  // request still unapplied when it passes answers DeadlineExceeded and changes nothing.
  absl::StatusOr<v1::JobRecord> SubmitJob(const v1::SubmitJobRequest& request,
                                          RequestDeadline deadline = {});
  absl::StatusOr<v1::JobRecord> GetJob(const std::string& job_id);
  // Also names each listed job's domain (ListJobsResponse.domains).
  absl::StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request);
  absl::StatusOr<v1::JobRecord> CancelJob(const std::string& job_id, RequestDeadline deadline = {});
  absl::StatusOr<v1::JobRecord> PauseJob(const std::string& job_id, RequestDeadline deadline = {});
  absl::StatusOr<v1::JobRecord> ResumeJob(const std::string& job_id, RequestDeadline deadline = {});
  // See JobManagerClient::Watch.
  absl::Status WatchJob(const std::string& job_id,
                        const std::function<void(const v1::JobEvent&)>& on_event,
                        const std::function<bool()>& keep_going);
  absl::StatusOr<v1::QueryEvaluationsResponse> QueryEvaluations(
      const v1::QueryEvaluationsRequest& request);
  absl::StatusOr<v1::EvaluationResponse> GetEvaluation(const v1::GetEvaluationRequest& request);
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers();
  absl::StatusOr<v1::GetStatsResponse> GetStats(const v1::GetStatsRequest& request);

  // A job its clients evaluate; see SuggestTrials and CompleteTrial in service.proto. Limits:
  // count at most 1000, lease_seconds in [0, 604800], client_id at most 128 bytes, failure at
  // most 4096 bytes, at most 1024 values.
  absl::StatusOr<v1::SuggestTrialsResponse> SuggestTrials(const v1::SuggestTrialsRequest& request);
  absl::StatusOr<v1::CompleteTrialResponse> CompleteTrial(const v1::CompleteTrialRequest& request);

  // For the status page; see job_detail.h.
  absl::StatusOr<v1::JobDetail> GetJobDetail(const std::string& job_id);
  // The job's report and figures; see job_reports.h. Shared, as the HTTP side serves one figure
  // of it per request.
  absl::StatusOr<std::shared_ptr<const v1::JobReport>> GetJobReport(const std::string& job_id);
  // Prometheus text exposition format; see metrics.h.
  std::string Metrics();
  // OK when the job manager, the dispatcher and the store each answer within a second, else
  // Unavailable naming those that did not; see health.h.
  absl::Status Health();

 private:
  Store* store_;
  const ProblemRegistry& registry_;
  JobManagerClient manager_;
  DispatcherClient dispatcher_;
  ProblemCache problems_;
  EvaluationQueries queries_;
  JobReports reports_;
  const ServiceMetrics& metrics_;
  HealthCheck health_;
};

}  // namespace evolv
