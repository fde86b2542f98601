#include "services/evolvd/grpc_service.h"

namespace evolv {
namespace {

template <class T>
grpc::Status Answer(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

// The client's deadline, when it set one (gRPC reads "none" as the time_point's maximum).
RequestDeadline DeadlineOf(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return std::nullopt;
  return deadline;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  // absl::StatusCode and grpc::StatusCode share their numbering (both follow google.rpc.Code).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::Status SearchServiceImpl::Authorize(grpc::ServerContext* context) const {
  if (auth_token_.empty()) return grpc::Status::OK;
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end() &&
      std::string(it->second.data(), it->second.size()) == "Bearer " + auth_token_) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "missing or wrong bearer token (metadata \"authorization: Bearer TOKEN\")");
}

#define EVOLV_AUTHORIZE(context) \
  if (grpc::Status auth = Authorize(context); !auth.ok()) return auth

grpc::Status SearchServiceImpl::SubmitJob(grpc::ServerContext* context,
                                          const v1::SubmitJobRequest* request,
                                          v1::JobRecord* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.SubmitJob(*request, DeadlineOf(*context)), response);
}

grpc::Status SearchServiceImpl::GetJob(grpc::ServerContext* context,
                                       const v1::GetJobRequest* request, v1::JobRecord* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.GetJob(request->job_id()), response);
}

grpc::Status SearchServiceImpl::ListJobs(grpc::ServerContext* context,
                                         const v1::ListJobsRequest* request,
                                         v1::ListJobsResponse* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.ListJobs(*request), response);
}

grpc::Status SearchServiceImpl::CancelJob(grpc::ServerContext* context,
                                          const v1::CancelJobRequest* request,
                                          v1::JobRecord* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.CancelJob(request->job_id(), DeadlineOf(*context)), response);
}

grpc::Status SearchServiceImpl::PauseJob(grpc::ServerContext* context,
                                         const v1::PauseJobRequest* request,
                                         v1::JobRecord* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.PauseJob(request->job_id(), DeadlineOf(*context)), response);
}

grpc::Status SearchServiceImpl::ResumeJob(grpc::ServerContext* context,
                                          const v1::ResumeJobRequest* request,
                                          v1::JobRecord* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.ResumeJob(request->job_id(), DeadlineOf(*context)), response);
}

grpc::Status SearchServiceImpl::WatchJob(grpc::ServerContext* context,
                                         const v1::WatchJobRequest* request,
                                         grpc::ServerWriter<v1::JobEvent>* writer) {
  EVOLV_AUTHORIZE(context);
  bool open = true;
  absl::Status status = core_.WatchJob(
      request->job_id(), [&](const v1::JobEvent& event) { open = open && writer->Write(event); },
      [&] { return open && !stopping_ && !context->IsCancelled(); });
  return ToGrpcStatus(status);
}

grpc::Status SearchServiceImpl::QueryEvaluations(grpc::ServerContext* context,
                                                 const v1::QueryEvaluationsRequest* request,
                                                 v1::QueryEvaluationsResponse* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.QueryEvaluations(*request), response);
}

grpc::Status SearchServiceImpl::GetEvaluation(grpc::ServerContext* context,
                                              const v1::GetEvaluationRequest* request,
                                              v1::EvaluationResponse* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.GetEvaluation(*request), response);
}

grpc::Status SearchServiceImpl::ListWorkers(grpc::ServerContext* context,
                                            const v1::ListWorkersRequest*,
                                            v1::ListWorkersResponse* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.ListWorkers(), response);
}

grpc::Status SearchServiceImpl::GetStats(grpc::ServerContext* context,
                                         const v1::GetStatsRequest* request,
                                         v1::GetStatsResponse* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.GetStats(*request), response);
}

grpc::Status SearchServiceImpl::GetJobReport(grpc::ServerContext* context,
                                             const v1::GetJobReportRequest* request,
                                             v1::JobReport* response) {
  EVOLV_AUTHORIZE(context);
  auto report = core_.GetJobReport(request->job_id());
  if (!report.ok()) return ToGrpcStatus(report.status());
  *response = **report;
  return grpc::Status::OK;
}

grpc::Status SearchServiceImpl::SuggestTrials(grpc::ServerContext* context,
                                              const v1::SuggestTrialsRequest* request,
                                              v1::SuggestTrialsResponse* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.SuggestTrials(*request), response);
}

grpc::Status SearchServiceImpl::CompleteTrial(grpc::ServerContext* context,
                                              const v1::CompleteTrialRequest* request,
                                              v1::CompleteTrialResponse* response) {
  EVOLV_AUTHORIZE(context);
  return Answer(core_.CompleteTrial(*request), response);
}

}  // namespace evolv
