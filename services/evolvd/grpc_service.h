// evolv.v1.SearchService over gRPC (sync API, gRPC's own threads), a thin mapping of ServiceCore.
//
// Auth: when `auth_token` is not empty, every call must carry the metadata
// "authorization: Bearer <auth_token>"; otherwise it fails with UNAUTHENTICATED before anything
// else is looked at.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "evolv/v1/service.grpc.pb.h"
#include "services/evolvd/service_core.h"

namespace evolv {

// The largest request evolvd accepts; larger ones fail with RESOURCE_EXHAUSTED.
constexpr int kMaxRequestBytes = 1 << 20;

grpc::Status ToGrpcStatus(const absl::Status& status);

class SearchServiceImpl final : public v1::SearchService::Service {
 public:
  SearchServiceImpl(ServiceCore& core, std::string auth_token)
      : core_(core), auth_token_(std::move(auth_token)) {}

  // Ends open WatchJob streams (before the server shuts down).
  void Stop() { stopping_ = true; }

  grpc::Status SubmitJob(grpc::ServerContext*, const v1::SubmitJobRequest*,
                         v1::JobRecord*) override;
  grpc::Status GetJob(grpc::ServerContext*, const v1::GetJobRequest*, v1::JobRecord*) override;
  grpc::Status ListJobs(grpc::ServerContext*, const v1::ListJobsRequest*,
                        v1::ListJobsResponse*) override;
  grpc::Status CancelJob(grpc::ServerContext*, const v1::CancelJobRequest*,
                         v1::JobRecord*) override;
  grpc::Status PauseJob(grpc::ServerContext*, const v1::PauseJobRequest*, v1::JobRecord*) override;
  grpc::Status ResumeJob(grpc::ServerContext*, const v1::ResumeJobRequest*,
                         v1::JobRecord*) override;
  grpc::Status WatchJob(grpc::ServerContext*, const v1::WatchJobRequest*,
                        grpc::ServerWriter<v1::JobEvent>*) override;
  grpc::Status QueryEvaluations(grpc::ServerContext*, const v1::QueryEvaluationsRequest*,
                                v1::QueryEvaluationsResponse*) override;
  grpc::Status GetEvaluation(grpc::ServerContext*, const v1::GetEvaluationRequest*,
                             v1::EvaluationResponse*) override;
  grpc::Status ListWorkers(grpc::ServerContext*, const v1::ListWorkersRequest*,
                           v1::ListWorkersResponse*) override;
  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest*,
                        v1::GetStatsResponse*) override;
  grpc::Status GetJobReport(grpc::ServerContext*, const v1::GetJobReportRequest*,
                            v1::JobReport*) override;
  grpc::Status SuggestTrials(grpc::ServerContext*, const v1::SuggestTrialsRequest*,
                             v1::SuggestTrialsResponse*) override;
  grpc::Status CompleteTrial(grpc::ServerContext*, const v1::CompleteTrialRequest*,
                             v1::CompleteTrialResponse*) override;

 private:
  grpc::Status Authorize(grpc::ServerContext* context) const;

  ServiceCore& core_;
  std::string auth_token_;
  std::atomic<bool> stopping_{false};
};

}  // namespace evolv
