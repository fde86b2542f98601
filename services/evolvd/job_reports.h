// JobReports: evolvd's reports of jobs (GetJobReport, GET /api/jobs/ID/report and
// /api/jobs/ID/figures/NAME), built by services/job_report.h from the job's checkpointed
// history and its problem (from the ProblemCache), and kept for the last kCapacity (job id,
// history size) pairs: the status page asks again every few seconds and a figure is fetched by
// its own request, while a domain's figures may take seconds to draw.
//
// Cost: a hit counts the job's history rows (a key scan, O(rows)); a miss reads the history and
// runs Problem::Report and Problem::Figures.
// Thread-safety: safe from any thread. Reports are built outside the lock, so a slow report
// does not stall others; two threads missing the same key at once may both build it.
// Errors: the store's status; the registry's for a problem that cannot be built here; Internal
// from BuildJobReport for a problem that breaks the figure limits. A failure is not cached.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "evolv/v1/service.pb.h"
#include "services/evolvd/problem_cache.h"
#include "storage/store.h"

namespace evolv {

class JobReports {
 public:
  static constexpr size_t kCapacity = 4;

  // `store` and `problems` must outlive this.
  JobReports(const Store& store, ProblemCache& problems) : store_(store), problems_(problems) {}

  // The report of `job` over its history as checkpointed now.
  absl::StatusOr<std::shared_ptr<const v1::JobReport>> Get(const v1::JobRecord& job);

 private:
  std::shared_ptr<const v1::JobReport> Find(const std::string& job_id, uint64_t history_size);

  const Store& store_;
  ProblemCache& problems_;
  std::mutex mutex_;                                        // guards recent_
  std::list<std::shared_ptr<const v1::JobReport>> recent_;  // most recently used first
};

}  // namespace evolv
