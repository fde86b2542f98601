#include "services/evolvd/service_core.h"

#include <algorithm>
#include <set>

#include "services/evolvd/job_detail.h"

namespace evolv {
namespace {

constexpr uint32_t kDefaultJobsPage = 100;
constexpr uint32_t kMaxJobsPage = 1000;
constexpr uint32_t kDefaultRowsPage = 10;
constexpr uint32_t kMaxRowsPage = 1000;
constexpr int kMaxObjectiveIndex = 64;
constexpr uint32_t kMaxSuggestedTrials = 1000;
constexpr double kMaxLeaseSeconds = 7 * 24 * 3600;
constexpr size_t kMaxClientIdBytes = 128;
constexpr size_t kMaxFailureBytes = 4096;
constexpr int kMaxTrialValues = 1024;

absl::StatusOr<uint64_t> ParsePageToken(const std::string& token) {
  if (token.empty()) return 0;
  if (token.size() > 18 || !std::all_of(token.begin(), token.end(), ::isdigit)) {
    return absl::InvalidArgumentError("page_token: not a token from a previous response");
  }
  return std::stoull(token);
}

absl::Status CheckJobId(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("job_id: empty");
  if (id.size() > 64) return absl::InvalidArgumentError("job_id: longer than 64 bytes");
  return absl::OkStatus();
}

absl::Status CheckKey(const std::string& key) {
  if (key.size() == 16) return absl::OkStatus();
  return absl::InvalidArgumentError("key: must be 16 bytes (the 128-bit functional hash), got " +
                                    std::to_string(key.size()));
}

}  // namespace

ServiceCore::ServiceCore(Store* store, const ProblemRegistry& registry, caf::actor_system& system,
                         job_manager_actor manager, dispatcher_actor dispatcher,
                         const ServiceMetrics& metrics)
    : store_(store),
      registry_(registry),
      manager_(system, manager),
      dispatcher_(system, dispatcher),
      problems_(registry),
      queries_(*store, problems_),
      reports_(*store, problems_),
      metrics_(metrics),
      health_(system, store, std::move(manager), std::move(dispatcher)) {}

absl::StatusOr<v1::JobRecord> ServiceCore::SubmitJob(const v1::SubmitJobRequest& request,
                                                     RequestDeadline deadline) {
  if (!request.has_spec()) return absl::InvalidArgumentError("spec: missing");
  // A domain whose evaluations run the job's command needs a worker that allows commands; the
  // spec's own errors come first. The problem is built through the service's cache, where the
  // job's later queries find it.
  const std::string domain = registry_.DomainOf(request.spec());
  if (registry_.RunsCommands(domain)) {
    auto problem = problems_.Get(request.spec());
    if (!problem.ok()) return problem.status();
    if ((*problem)->EvaluatedByClients()) return manager_.Submit(request.spec(), deadline);
    auto workers = dispatcher_.Workers();
    if (!workers.ok()) return workers.status();
    const bool any = std::any_of(workers->begin(), workers->end(), [](const auto& worker) {
      return worker.info().allows_commands();
    });
    if (!any) {
      return absl::FailedPreconditionError(
          "spec.problem: the " + domain +
          " domain runs the job's command on workers, and no connected worker allows commands "
          "(start evolvd or evolv-worker with --allow-commands; docs/security.md)");
    }
  }
  return manager_.Submit(request.spec(), deadline);
}

absl::StatusOr<v1::SuggestTrialsResponse> ServiceCore::SuggestTrials(
    const v1::SuggestTrialsRequest& request) {
  if (absl::Status s = CheckJobId(request.job_id()); !s.ok()) return s;
  if (request.count() > kMaxSuggestedTrials) {
    return absl::InvalidArgumentError("count: at most " + std::to_string(kMaxSuggestedTrials));
  }
  if (!(request.lease_seconds() >= 0 && request.lease_seconds() <= kMaxLeaseSeconds)) {
    return absl::InvalidArgumentError("lease_seconds: must be in [0, 604800] (0 means 600)");
  }
  if (request.client_id().size() > kMaxClientIdBytes) {
    return absl::InvalidArgumentError("client_id: longer than 128 bytes");
  }
  return manager_.SuggestTrials(request);
}

absl::StatusOr<v1::CompleteTrialResponse> ServiceCore::CompleteTrial(
    const v1::CompleteTrialRequest& request) {
  if (absl::Status s = CheckJobId(request.job_id()); !s.ok()) return s;
  if (request.client_id().size() > kMaxClientIdBytes) {
    return absl::InvalidArgumentError("client_id: longer than 128 bytes");
  }
  if (request.failure().size() > kMaxFailureBytes) {
    return absl::InvalidArgumentError("failure: longer than 4096 bytes");
  }
  if (request.values_size() > kMaxTrialValues) {
    return absl::InvalidArgumentError("values: more than 1024 numbers");
  }
  if (request.failure().empty() && request.values().empty()) {
    return absl::InvalidArgumentError(
        "values: empty; report the objectives by name, or the trial's failure");
  }
  return manager_.CompleteTrial(request);
}

absl::StatusOr<v1::JobRecord> ServiceCore::GetJob(const std::string& job_id) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  return manager_.Get(job_id);
}

absl::StatusOr<v1::ListJobsResponse> ServiceCore::ListJobs(const v1::ListJobsRequest& request) {
  if (request.page_size() > kMaxJobsPage) {
    return absl::InvalidArgumentError("page_size: at most " + std::to_string(kMaxJobsPage));
  }
  for (int state : request.states()) {
    if (!v1::JobState_IsValid(state) || state == v1::JOB_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError("states: unknown state " + std::to_string(state));
    }
  }
  auto offset = ParsePageToken(request.page_token());
  if (!offset.ok()) return offset.status();
  auto jobs = manager_.List();
  if (!jobs.ok()) return jobs.status();
  const std::set<int> states(request.states().begin(), request.states().end());
  const uint32_t page = request.page_size() ? request.page_size() : kDefaultJobsPage;
  v1::ListJobsResponse response;
  uint64_t matched = 0;
  for (const auto& job : *jobs) {
    if (!states.empty() && !states.count(job.state())) continue;
    if (matched >= *offset && matched < *offset + page) {
      *response.add_jobs() = job;
      // The registry alone: listing builds no Problem.
      std::string domain = registry_.DomainOf(job.spec());
      if (!domain.empty()) (*response.mutable_domains())[job.id()] = std::move(domain);
    }
    ++matched;
  }
  response.set_total_size(matched);
  if (*offset + page < matched) response.set_next_page_token(std::to_string(*offset + page));
  return response;
}

absl::StatusOr<v1::JobRecord> ServiceCore::CancelJob(const std::string& job_id,
                                                     RequestDeadline deadline) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  return manager_.Cancel(job_id, deadline);
}

absl::StatusOr<v1::JobRecord> ServiceCore::PauseJob(const std::string& job_id,
                                                    RequestDeadline deadline) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  return manager_.Pause(job_id, deadline);
}

absl::StatusOr<v1::JobRecord> ServiceCore::ResumeJob(const std::string& job_id,
                                                     RequestDeadline deadline) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  return manager_.Resume(job_id, deadline);
}

absl::Status ServiceCore::WatchJob(const std::string& job_id,
                                   const std::function<void(const v1::JobEvent&)>& on_event,
                                   const std::function<bool()>& keep_going) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  return manager_.Watch(job_id, on_event, keep_going);
}

absl::StatusOr<v1::QueryEvaluationsResponse> ServiceCore::QueryEvaluations(
    const v1::QueryEvaluationsRequest& request) {
  if (request.objective_index() < 0 || request.objective_index() > kMaxObjectiveIndex) {
    return absl::InvalidArgumentError("objective_index: must be in 0.." +
                                      std::to_string(kMaxObjectiveIndex));
  }
  if (request.page_size() > kMaxRowsPage) {
    return absl::InvalidArgumentError("page_size: at most " + std::to_string(kMaxRowsPage));
  }
  auto offset = ParsePageToken(request.page_token());
  if (!offset.ok()) return offset.status();
  const uint32_t page = request.page_size() ? request.page_size() : kDefaultRowsPage;
  const int objective = request.objective_index();

  switch (request.selector_case()) {
    case v1::QueryEvaluationsRequest::kJobId: {
      auto job = GetJob(request.job_id());
      if (!job.ok()) return job.status();
      return queries_.ByJob(*job, objective, *offset, page);
    }
    case v1::QueryEvaluationsRequest::kProblem: {
      if (!request.problem().has_problem()) {
        return absl::InvalidArgumentError("problem: no problem set");
      }
      auto jobs = manager_.List();
      if (!jobs.ok()) return jobs.status();
      return queries_.ByProblem(*jobs, request.problem(), objective, *offset, page);
    }
    case v1::QueryEvaluationsRequest::kKey: {
      if (absl::Status s = CheckKey(request.key()); !s.ok()) return s;
      auto cached = queries_.Cached(request.key());
      if (!cached.ok()) return cached.status();
      auto job = manager_.Get(cached->job_id());
      return queries_.ByKey(request.key(), *cached, job.ok() ? &*job : nullptr);
    }
    default:
      return absl::InvalidArgumentError("selector: set one of job_id, problem, key");
  }
}

absl::StatusOr<v1::EvaluationResponse> ServiceCore::GetEvaluation(
    const v1::GetEvaluationRequest& request) {
  if (absl::Status s = CheckKey(request.key()); !s.ok()) return s;
  auto cached = queries_.Cached(request.key());
  if (!cached.ok()) return cached.status();
  // Rendered with the problem of the job that evaluated it, when that job is known here.
  auto job = manager_.Get(cached->job_id());
  return queries_.Respond(request.key(), *cached, job.ok() ? &*job : nullptr);
}

absl::StatusOr<v1::ListWorkersResponse> ServiceCore::ListWorkers() {
  auto workers = dispatcher_.Workers();
  if (!workers.ok()) return workers.status();
  v1::ListWorkersResponse response;
  for (auto& worker : *workers) *response.add_workers() = std::move(worker);
  return response;
}

absl::StatusOr<v1::GetStatsResponse> ServiceCore::GetStats(const v1::GetStatsRequest& request) {
  std::vector<v1::JobRecord> jobs;
  if (!request.job_id().empty()) {
    auto job = GetJob(request.job_id());
    if (!job.ok()) return job.status();
    jobs.push_back(*job);
  } else {
    auto all = manager_.List();
    if (!all.ok()) return all.status();
    jobs = std::move(*all);
  }
  v1::GetStatsResponse response;
  v1::CacheCounters& overall = *response.mutable_overall();
  for (const auto& job : jobs) {
    const v1::CacheCounters& c = job.progress().cache();
    v1::JobStats* stats = response.add_jobs();
    stats->set_job_id(job.id());
    stats->set_name(job.spec().name());
    *stats->mutable_cache() = c;
    stats->set_evaluations(job.progress().evaluations());
    overall.set_hits(overall.hits() + c.hits());
    overall.set_misses(overall.misses() + c.misses());
    overall.set_collisions(overall.collisions() + c.collisions());
    overall.set_eval_seconds_saved(overall.eval_seconds_saved() + c.eval_seconds_saved());
  }
  return response;
}

absl::StatusOr<v1::JobDetail> ServiceCore::GetJobDetail(const std::string& job_id) {
  auto job = GetJob(job_id);
  if (!job.ok()) return job.status();
  return BuildJobDetail(*job, *store_, queries_);
}

absl::StatusOr<std::shared_ptr<const v1::JobReport>> ServiceCore::GetJobReport(
    const std::string& job_id) {
  auto job = GetJob(job_id);
  if (!job.ok()) return job.status();
  return reports_.Get(*job);
}

absl::Status ServiceCore::Health() { return health_.Check(); }

std::string ServiceCore::Metrics() {
  MetricsSources sources;
  if (auto jobs = manager_.List(); jobs.ok()) sources.jobs = std::move(*jobs);
  if (auto workers = dispatcher_.Workers(); workers.ok()) sources.workers = std::move(*workers);
  if (auto queued = dispatcher_.QueueDepth(); queued.ok()) sources.queue_depth = *queued;
  return metrics_.Render(sources);
}

}  // namespace evolv
