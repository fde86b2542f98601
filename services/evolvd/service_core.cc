#include "services/evolvd/service_core.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "search/pareto.h"

namespace evolv {
namespace {

constexpr uint32_t kDefaultJobsPage = 100;
constexpr uint32_t kMaxJobsPage = 1000;
constexpr uint32_t kDefaultRowsPage = 10;
constexpr uint32_t kMaxRowsPage = 1000;
constexpr int kMaxObjectiveIndex = 64;
// Upper bounds (seconds) of the evaluation-latency histogram.
const double kLatencyBounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
constexpr size_t kLatencyBucketCount = sizeof(kLatencyBounds) / sizeof(kLatencyBounds[0]);

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

double Objective(const v1::Evaluation& evaluation, int index) {
  return index < evaluation.objectives_size() ? evaluation.objectives(index)
                                              : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

std::string ToHex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

bool FromHex(const std::string& hex, std::string* bytes) {
  if (hex.size() % 2) return false;
  bytes->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

ServiceCore::ServiceCore(Store* store, const ProblemRegistry& registry, caf::actor_system& system,
                         caf::actor manager, dispatcher_actor dispatcher)
    : store_(store),
      registry_(registry),
      system_(system),
      manager_(system, std::move(manager)),
      dispatcher_(std::move(dispatcher)),
      latency_buckets_(kLatencyBucketCount, 0) {}

absl::StatusOr<v1::JobRecord> ServiceCore::SubmitJob(const v1::SubmitJobRequest& request) {
  if (!request.has_spec()) return absl::InvalidArgumentError("spec: missing");
  return manager_.Submit(request.spec());
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
    if (matched >= *offset && matched < *offset + page) *response.add_jobs() = job;
    ++matched;
  }
  response.set_total_size(matched);
  if (*offset + page < matched) response.set_next_page_token(std::to_string(*offset + page));
  return response;
}

absl::StatusOr<v1::JobRecord> ServiceCore::CancelJob(const std::string& job_id) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  return manager_.Cancel(job_id);
}

absl::StatusOr<v1::JobRecord> ServiceCore::PauseJob(const std::string& job_id) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  return manager_.Pause(job_id);
}

absl::StatusOr<v1::JobRecord> ServiceCore::ResumeJob(const std::string& job_id) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  return manager_.Resume(job_id);
}

absl::Status ServiceCore::WatchJob(const std::string& job_id,
                                   const std::function<void(const v1::JobEvent&)>& on_event,
                                   const std::function<bool()>& keep_going) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  return manager_.Watch(job_id, on_event, keep_going);
}

std::shared_ptr<const Problem> ServiceCore::ProblemFor(const v1::JobRecord& job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = problems_.find(job.id());
    if (it != problems_.end()) return it->second;
  }
  auto problem = registry_.Create(job.spec());
  if (!problem.ok()) return nullptr;
  std::shared_ptr<const Problem> shared = std::move(*problem);
  std::lock_guard<std::mutex> lock(mutex_);
  return problems_.emplace(job.id(), shared).first->second;
}

v1::EvaluationRow ServiceCore::Row(const v1::JobRecord& job, const v1::HistoryEntry& entry,
                                   bool render) {
  v1::EvaluationRow row;
  row.set_job_id(job.id());
  row.set_index(entry.index());
  row.set_key(entry.key());
  row.set_key_hex(ToHex(entry.key()));
  // The refined candidate (fitted constants) is the one worth showing.
  const v1::Candidate& candidate =
      entry.evaluation().has_refined() ? entry.evaluation().refined() : entry.candidate();
  *row.mutable_candidate() = candidate;
  *row.mutable_evaluation() = entry.evaluation();
  row.set_cache_hit(entry.cache_hit());
  if (render) {
    if (auto problem = ProblemFor(job))
      row.set_rendered(problem->Render(candidate, RenderFormat::kC));
  }
  return row;
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
  v1::QueryEvaluationsResponse response;

  switch (request.selector_case()) {
    case v1::QueryEvaluationsRequest::kJobId: {
      auto job = GetJob(request.job_id());
      if (!job.ok()) return job.status();
      auto top = store_->QueryTopByJob(job->id(), objective, *offset + page + 1);
      if (!top.ok()) return top.status();
      for (size_t i = *offset; i < top->size() && i < *offset + page; ++i) {
        *response.add_rows() = Row(*job, (*top)[i], true);
      }
      if (top->size() > *offset + page)
        response.set_next_page_token(std::to_string(*offset + page));
      return response;
    }
    case v1::QueryEvaluationsRequest::kProblem: {
      const v1::JobSpec& wanted = request.problem();
      if (!wanted.has_problem()) {
        return absl::InvalidArgumentError("problem: no problem set");
      }
      auto jobs = manager_.List();
      if (!jobs.ok()) return jobs.status();
      // The problem part of a spec, serialized deterministically.
      auto problem_bytes = [](const v1::JobSpec& spec) {
        std::string out;
        google::protobuf::io::StringOutputStream stream(&out);
        google::protobuf::io::CodedOutputStream coded(&stream);
        coded.SetSerializationDeterministic(true);
        spec.problem().SerializeToCodedStream(&coded);
        coded.Trim();
        return out;
      };
      const std::string wanted_bytes = problem_bytes(wanted);
      std::vector<std::pair<const v1::JobRecord*, v1::HistoryEntry>> rows;
      for (const auto& job : *jobs) {
        if (problem_bytes(job.spec()) != wanted_bytes) continue;
        auto top = store_->QueryTopByJob(job.id(), objective, *offset + page + 1);
        if (!top.ok()) return top.status();
        for (auto& entry : *top) rows.emplace_back(&job, std::move(entry));
      }
      std::stable_sort(rows.begin(), rows.end(), [objective](const auto& a, const auto& b) {
        return Objective(a.second.evaluation(), objective) <
               Objective(b.second.evaluation(), objective);
      });
      std::set<std::string> seen;
      uint64_t n = 0;
      for (const auto& [job, entry] : rows) {
        if (!seen.insert(entry.key()).second) continue;
        if (n >= *offset && n < *offset + page) *response.add_rows() = Row(*job, entry, true);
        ++n;
      }
      if (n > *offset + page) response.set_next_page_token(std::to_string(*offset + page));
      return response;
    }
    case v1::QueryEvaluationsRequest::kKey: {
      v1::GetEvaluationRequest get;
      get.set_key(request.key());
      auto found = GetEvaluation(get);
      if (!found.ok()) return found.status();
      v1::EvaluationRow* row = response.add_rows();
      row->set_job_id(found->cached().job_id());
      row->set_key(request.key());
      row->set_key_hex(found->key_hex());
      *row->mutable_candidate() = found->cached().candidate();
      *row->mutable_evaluation() = found->cached().evaluation();
      row->set_rendered(found->rendered());
      return response;
    }
    default:
      return absl::InvalidArgumentError("selector: set one of job_id, problem, key");
  }
}

absl::StatusOr<v1::EvaluationResponse> ServiceCore::GetEvaluation(
    const v1::GetEvaluationRequest& request) {
  if (request.key().size() != 16) {
    return absl::InvalidArgumentError("key: must be 16 bytes (the 128-bit functional hash), got " +
                                      std::to_string(request.key().size()));
  }
  auto cached = store_->GetEvaluation(request.key());
  if (absl::IsNotFound(cached.status())) {
    return absl::NotFoundError("key: no cached evaluation under " + ToHex(request.key()));
  }
  if (!cached.ok()) return cached.status();
  v1::EvaluationResponse response;
  *response.mutable_cached() = *cached;
  response.set_key_hex(ToHex(request.key()));
  // Render with the problem of the job that evaluated it, when that job is known here.
  auto job = manager_.Get(cached->job_id());
  if (job.ok()) {
    const v1::Candidate& candidate =
        cached->evaluation().has_refined() ? cached->evaluation().refined() : cached->candidate();
    if (auto problem = ProblemFor(*job)) {
      response.set_rendered(problem->Render(candidate, RenderFormat::kC));
    }
  }
  return response;
}

absl::StatusOr<v1::ListWorkersResponse> ServiceCore::ListWorkers() {
  caf::scoped_actor self{system_};
  v1::ListWorkersResponse response;
  absl::Status status = absl::OkStatus();
  self->request(dispatcher_, std::chrono::seconds(10), workers_atom::value)
      .receive(
          [&](const std::vector<std::string>& workers) {
            for (const auto& bytes : workers) response.add_workers()->ParseFromString(bytes);
          },
          [&](caf::error& error) {
            status = absl::UnavailableError("dispatcher: " + system_.render(error));
          });
  if (!status.ok()) return status;
  std::sort(response.mutable_workers()->begin(), response.mutable_workers()->end(),
            [](const v1::WorkerStatus& a, const v1::WorkerStatus& b) {
              return a.info().id() < b.info().id();
            });
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
  v1::JobDetail detail;
  *detail.mutable_job() = *job;
  auto problem = ProblemFor(*job);
  if (problem) {
    for (const auto& name : problem->ObjectiveNames()) detail.add_objective_names(name);
  }
  auto history = store_->ReadHistory(job->id());
  if (!history.ok()) return history.status();

  // Best-so-far curve, at most ~400 points (plus every improvement's last point).
  const size_t n = history->size();
  const size_t stride = std::max<size_t>(1, n / 400);
  double best = std::numeric_limits<double>::infinity();
  size_t best_index = n;
  for (size_t i = 0; i < n; ++i) {
    const v1::Evaluation& e = (*history)[i].evaluation();
    const double value = Objective(e, 0);
    bool improved = false;
    if (e.status() == v1::OK && std::isfinite(value) && value < best) {
      best = value;
      best_index = i;
      improved = true;
    }
    if (std::isfinite(best) && (improved || i % stride == 0 || i + 1 == n)) {
      v1::ChartPoint* point = detail.add_best_curve();
      point->set_evaluations(i + 1);
      point->set_best_objective(best);
    }
  }
  if (best_index < n) *detail.mutable_best() = Row(*job, (*history)[best_index], true);

  // Pareto front over OK evaluations, for jobs with more than one objective.
  if (problem && problem->ObjectiveNames().size() > 1) {
    std::vector<Objectives> points;
    std::vector<size_t> where;
    for (size_t i = 0; i < n; ++i) {
      const v1::Evaluation& e = (*history)[i].evaluation();
      if (e.status() != v1::OK) continue;
      bool finite = true;
      for (double v : e.objectives()) finite = finite && std::isfinite(v);
      if (!finite) continue;
      points.emplace_back(e.objectives().begin(), e.objectives().end());
      where.push_back(i);
    }
    std::vector<size_t> front = ParetoFront(points);
    std::sort(front.begin(), front.end(),
              [&](size_t a, size_t b) { return points[a] < points[b]; });
    if (front.size() > 200) front.resize(200);
    for (size_t k : front) *detail.add_pareto_front() = Row(*job, (*history)[where[k]], false);
  }
  for (size_t i = 0; i < 20 && i < n; ++i) {
    *detail.add_recent() = Row(*job, (*history)[n - 1 - i], false);
  }
  return detail;
}

std::string ServiceCore::Metrics() {
  std::ostringstream out;
  auto jobs = manager_.List();
  std::map<v1::JobState, int> by_state;
  for (int s = v1::PENDING; s <= v1::CANCELLED; ++s) by_state[static_cast<v1::JobState>(s)] = 0;
  uint64_t evaluations = 0, hits = 0, misses = 0, collisions = 0;
  double saved = 0;
  if (jobs.ok()) {
    for (const auto& job : *jobs) {
      ++by_state[job.state()];
      evaluations += job.progress().evaluations();
      hits += job.progress().cache().hits();
      misses += job.progress().cache().misses();
      collisions += job.progress().cache().collisions();
      saved += job.progress().cache().eval_seconds_saved();
    }
  }
  out << "# HELP evolv_jobs Jobs by state.\n# TYPE evolv_jobs gauge\n";
  for (const auto& [state, count] : by_state) {
    out << "evolv_jobs{state=\"" << v1::JobState_Name(state) << "\"} " << count << "\n";
  }
  out << "# HELP evolv_evaluations_total Results told to strategies, over all jobs.\n"
      << "# TYPE evolv_evaluations_total counter\nevolv_evaluations_total " << evaluations << "\n";
  out << "# HELP evolv_cache_hits_total Functional-cache hits.\n"
      << "# TYPE evolv_cache_hits_total counter\nevolv_cache_hits_total " << hits << "\n";
  out << "# HELP evolv_cache_misses_total Functional-cache misses.\n"
      << "# TYPE evolv_cache_misses_total counter\nevolv_cache_misses_total " << misses << "\n";
  out << "# HELP evolv_cache_collisions_total Same key, different objectives (counterfactual).\n"
      << "# TYPE evolv_cache_collisions_total counter\nevolv_cache_collisions_total " << collisions
      << "\n";
  out << "# HELP evolv_cache_eval_seconds_saved_total Evaluation seconds saved by cache hits.\n"
      << "# TYPE evolv_cache_eval_seconds_saved_total counter\n"
      << "evolv_cache_eval_seconds_saved_total " << saved << "\n";

  auto workers = ListWorkers();
  uint64_t busy = 0, slots = 0;
  if (workers.ok()) {
    for (const auto& w : workers->workers()) {
      busy += w.busy();
      slots += w.info().slots();
    }
  }
  out << "# HELP evolv_workers Workers known to the dispatcher.\n# TYPE evolv_workers gauge\n"
      << "evolv_workers " << (workers.ok() ? workers->workers_size() : 0) << "\n";
  out << "# HELP evolv_worker_slots Evaluation slots over all workers.\n"
      << "# TYPE evolv_worker_slots gauge\nevolv_worker_slots " << slots << "\n";
  uint64_t queued = 0;
  {
    caf::scoped_actor self{system_};
    self->request(dispatcher_, std::chrono::seconds(10), queue_atom::value)
        .receive([&](uint64_t n) { queued = n; }, [](caf::error&) {});
  }
  out << "# HELP evolv_queue_depth Evaluations waiting for a free worker slot.\n"
      << "# TYPE evolv_queue_depth gauge\nevolv_queue_depth " << queued << "\n";
  out << "# HELP evolv_busy_slots Evaluations running on workers.\n"
      << "# TYPE evolv_busy_slots gauge\nevolv_busy_slots " << busy << "\n";

  // Latency histogram: read each job's history rows written since the last scrape.
  std::lock_guard<std::mutex> lock(mutex_);
  if (jobs.ok()) {
    for (const auto& job : *jobs) {
      uint64_t& cursor = latency_cursor_[job.id()];
      if (cursor >= job.progress().evaluations()) continue;
      auto rows = store_->ReadHistory(job.id(), cursor, 100000);
      if (!rows.ok()) continue;
      for (const auto& entry : *rows) {
        cursor = entry.index() + 1;
        if (entry.cache_hit()) continue;
        const double seconds = entry.evaluation().eval_seconds();
        for (size_t b = 0; b < kLatencyBucketCount; ++b) {
          if (seconds <= kLatencyBounds[b]) ++latency_buckets_[b];
        }
        ++latency_count_;
        latency_sum_ += seconds;
      }
    }
  }
  out << "# HELP evolv_evaluation_seconds Wall time of Problem::Evaluate (checkpointed rows).\n"
      << "# TYPE evolv_evaluation_seconds histogram\n";
  for (size_t b = 0; b < kLatencyBucketCount; ++b) {
    out << "evolv_evaluation_seconds_bucket{le=\"" << kLatencyBounds[b] << "\"} "
        << latency_buckets_[b] << "\n";
  }
  out << "evolv_evaluation_seconds_bucket{le=\"+Inf\"} " << latency_count_ << "\n"
      << "evolv_evaluation_seconds_sum " << latency_sum_ << "\n"
      << "evolv_evaluation_seconds_count " << latency_count_ << "\n";
  return out.str();
}

}  // namespace evolv
