#include "services/evolvd/job_reports.h"

#include "services/job_report.h"

namespace evolv {

std::shared_ptr<const v1::JobReport> JobReports::Find(const std::string& job_id,
                                                      uint64_t history_size) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = recent_.begin(); it != recent_.end(); ++it) {
    if ((*it)->job_id() == job_id && (*it)->history_size() == history_size) {
      recent_.splice(recent_.begin(), recent_, it);
      return recent_.front();
    }
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const v1::JobReport>> JobReports::Get(const v1::JobRecord& job) {
  auto count = store_.CountHistory(job.id());
  if (!count.ok()) return count.status();
  if (auto hit = Find(job.id(), *count)) return hit;
  auto problem = problems_.Get(job.spec());
  if (!problem.ok()) return problem.status();
  auto history = store_.ReadHistory(job.id());
  if (!history.ok()) return history.status();
  // Rows may have been checkpointed since the count: the report is keyed by what it covers.
  if (auto hit = Find(job.id(), history->size())) return hit;
  auto built = BuildJobReport(job.id(), **problem, *history);
  if (!built.ok()) return built.status();
  auto report = std::make_shared<const v1::JobReport>(std::move(*built));
  std::lock_guard<std::mutex> lock(mutex_);
  recent_.push_front(report);
  if (recent_.size() > kCapacity) recent_.pop_back();
  return report;
}

}  // namespace evolv
