// ServiceMetrics: evolvd's /metrics in the Prometheus text exposition format (0.0.4), rendered
// from counters that are kept current while the service runs. A scrape never reads the store.
//
//   evolv_jobs{state}, evolv_evaluations_total, evolv_cache_*_total
//       each job's JobProgress counters, which its coordinator keeps current in the job
//       manager's in-memory record (MetricsSources::jobs);
//   evolv_workers, evolv_worker_slots, evolv_busy_slots, evolv_queue_depth
//       the dispatcher's own counts (MetricsSources::workers, ::queue_depth); left out of the
//       text when the dispatcher did not answer, rather than reported as 0;
//   evolv_evaluation_seconds (histogram)
//       Evaluation.eval_seconds of every evaluation a worker ran since this process started,
//       recorded by ObserveEvaluation as results come back (DispatcherOptions::observe). Cache
//       hits never reach a worker and are not in it.
//
// Thread-safety: every method is safe to call from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/protocol.h"
#include "evolv/v1/cluster.pb.h"
#include "evolv/v1/job.pb.h"

namespace evolv {

// What a scrape reads besides the histogram; each part is optional so that one unanswered
// source drops its own lines only.
struct MetricsSources {
  std::optional<std::vector<v1::JobRecord>> jobs;
  std::optional<std::vector<v1::WorkerStatus>> workers;
  std::optional<uint64_t> queue_depth;
};

class ServiceMetrics {
 public:
  // Upper bounds (seconds) of the evaluation-latency histogram's buckets, besides +Inf.
  static constexpr double kLatencyBounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,  0.5,    1,     2.5,  5,     10};
  static constexpr size_t kLatencyBucketCount = sizeof(kLatencyBounds) / sizeof(double);

  // Records one evaluation's Problem::Evaluate wall time.
  void ObserveEvaluation(double seconds);

  // The whole exposition text.
  std::string Render(const MetricsSources& sources) const;

 private:
  mutable std::mutex mutex_;                            // guards the members below
  uint64_t latency_buckets_[kLatencyBucketCount] = {};  // cumulative, as Prometheus wants them
  uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
};

}  // namespace evolv
