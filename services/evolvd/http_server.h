// The HTTP side of evolvd (Boost.Beast, its own threads): the status page and its JSON API.
//
//   GET /, /job/ID          the status page (embedded assets, no internet needed)
//   GET /app.js, /style.css the page's assets
//   GET /api/jobs[?state=RUNNING]       ListJobsResponse     (protobuf JSON mapping)
//   GET /api/jobs/ID                    JobRecord
//   GET /api/jobs/ID/detail             JobDetail (chart, Pareto front, best, recent)
//   GET /api/jobs/ID/evaluations?top=N  QueryEvaluationsResponse
//   GET /api/jobs/ID/report             {job_id, history_size, text, figures: [{name, caption,
//                                       url}]} (the JobReport, PNG bytes left to the URLs)
//   GET /api/jobs/ID/figures/NAME       one figure's PNG (image/png); 400 for a NAME that is not
//                                       a figure name, 404 for an unknown one
//   GET /api/workers                    ListWorkersResponse
//   GET /api/stats                      GetStatsResponse
//   GET /metrics            Prometheus text format
//   GET /healthz            "ok" when the job manager, dispatcher and store each answer within
//                           1 s (ServiceCore::Health); else 503 with the parts that did not,
//                           e.g. "job manager: system_error(request_receiver_down)"
// Errors are JSON {"code": "NOT_FOUND", "message": "..."} with the matching HTTP status.
// Read-only: the page changes nothing; job control goes through gRPC.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/evolvd/service_core.h"

namespace evolv {

class HttpServer {
 public:
  // Binds `bind_address`:`port` (0: any free port) and serves on background threads.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(ServiceCore& core,
                                                           const std::string& bind_address,
                                                           uint16_t port);
  // Stops accepting, closes open connections and joins every thread.
  ~HttpServer();
  uint16_t port() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace evolv
