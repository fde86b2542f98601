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
//
// Threads: one I/O thread runs every connection asynchronously (accept, read, write, timers) and
// a fixed pool of `Options::handler_threads` runs the handlers (they call ServiceCore and may
// block for up to about a second), so the thread count does not depend on the connections.
// Limits (docs/limits.md): at most `max_connections` open; a new one beyond it closes the
// longest-open idle connection (one waiting for its next request) to make room, else the
// longest-open one still reading its request, else (all being answered) is closed at once. A
// request's header over 16 KiB gets 431, a body over 1 MiB 413, a method other than GET/HEAD 405;
// each closes the connection. A request must arrive whole within `request_timeout` of its first
// byte (of the connection's accept for the first request); a kept-alive connection idle for
// `idle_timeout` is closed; so is one that does not read its response within `idle_timeout`.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/evolvd/service_core.h"

namespace evolv {

struct HttpServerOptions {
  int max_connections = 256;                         // open connections at once, >= 1
  std::chrono::milliseconds request_timeout{10000};  // header and body of one request
  std::chrono::milliseconds idle_timeout{60000};     // keep-alive wait; writing a response
  int handler_threads = 4;                           // in [1, 256]
};

class HttpServer {
 public:
  using Options = HttpServerOptions;

  // Binds `bind_address`:`port` (0: any free port) and serves on background threads (above).
  // INVALID_ARGUMENT for a bad address or option, UNAVAILABLE when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(ServiceCore& core,
                                                           const std::string& bind_address,
                                                           uint16_t port,
                                                           const Options& options = Options());
  // Stops accepting, closes open connections, waits for running handlers and joins every thread.
  ~HttpServer();
  uint16_t port() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace evolv
