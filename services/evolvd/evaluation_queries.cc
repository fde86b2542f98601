#include "services/evolvd/evaluation_queries.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "search/functional_hash.h"

namespace evolv {
namespace {

// The form rows are rendered in: the problem's code form (what the page's "best candidate" and
// `evolv export` show).
constexpr RenderFormat kRowFormat = RenderFormat::kC;

double Objective(const v1::Evaluation& evaluation, int index) {
  return index < evaluation.objectives_size() ? evaluation.objectives(index)
                                              : std::numeric_limits<double>::quiet_NaN();
}

const v1::Candidate& Shown(const v1::Evaluation& evaluation, const v1::Candidate& candidate) {
  return evaluation.has_refined() ? evaluation.refined() : candidate;
}

}  // namespace

std::string KeyHex(std::string_view key) {
  CacheKey parsed;
  return CacheKey::FromBytes(key, &parsed) ? parsed.Hex() : std::string();
}

std::string EvaluationQueries::Render(const v1::JobSpec& spec, const v1::Candidate& candidate) {
  auto problem = problems_.Get(spec);
  return problem.ok() ? (*problem)->Render(candidate, kRowFormat) : std::string();
}

v1::EvaluationRow EvaluationQueries::Row(const v1::JobRecord& job, const v1::HistoryEntry& entry,
                                         bool render) {
  v1::EvaluationRow row;
  row.set_job_id(job.id());
  row.set_index(entry.index());
  row.set_key(entry.key());
  row.set_key_hex(KeyHex(entry.key()));
  *row.mutable_candidate() = Shown(entry.evaluation(), entry.candidate());
  *row.mutable_evaluation() = entry.evaluation();
  row.set_cache_hit(entry.cache_hit());
  if (render) row.set_rendered(Render(job.spec(), row.candidate()));
  return row;
}

absl::StatusOr<v1::QueryEvaluationsResponse> EvaluationQueries::ByJob(const v1::JobRecord& job,
                                                                      int objective,
                                                                      uint64_t offset,
                                                                      uint32_t page) {
  auto top = store_.QueryTopByJob(job.id(), objective, offset + page + 1);
  if (!top.ok()) return top.status();
  v1::QueryEvaluationsResponse response;
  *response.mutable_problem() = problems_.Describe(job.spec());
  for (size_t i = offset; i < top->size() && i < offset + page; ++i) {
    *response.add_rows() = Row(job, (*top)[i], true);
  }
  if (top->size() > offset + page) response.set_next_page_token(std::to_string(offset + page));
  return response;
}

absl::StatusOr<v1::QueryEvaluationsResponse> EvaluationQueries::ByProblem(
    const std::vector<v1::JobRecord>& jobs, const v1::JobSpec& wanted, int objective,
    uint64_t offset, uint32_t page) {
  const std::string wanted_bytes = ProblemBytes(wanted);
  std::vector<std::pair<const v1::JobRecord*, v1::HistoryEntry>> rows;
  for (const auto& job : jobs) {
    if (ProblemBytes(job.spec()) != wanted_bytes) continue;
    // Each job's best rows of offset + page + 1 distinct keys hold every row of the merged page
    // and one more (a history repeats a key when the cache answers it).
    auto top = store_.QueryTopKeysByJob(job.id(), objective, offset + page + 1);
    if (!top.ok()) return top.status();
    for (auto& entry : *top) rows.emplace_back(&job, std::move(entry));
  }
  std::stable_sort(rows.begin(), rows.end(), [objective](const auto& a, const auto& b) {
    return Objective(a.second.evaluation(), objective) <
           Objective(b.second.evaluation(), objective);
  });
  v1::QueryEvaluationsResponse response;
  *response.mutable_problem() = problems_.Describe(wanted);
  std::set<std::string> seen;
  uint64_t n = 0;
  for (const auto& [job, entry] : rows) {
    if (!seen.insert(entry.key()).second) continue;
    if (n >= offset && n < offset + page) *response.add_rows() = Row(*job, entry, true);
    ++n;
  }
  if (n > offset + page) response.set_next_page_token(std::to_string(offset + page));
  return response;
}

absl::StatusOr<v1::CachedEvaluation> EvaluationQueries::Cached(const std::string& key) {
  auto cached = store_.GetEvaluation(key);
  if (absl::IsNotFound(cached.status())) {
    return absl::NotFoundError("key: no cached evaluation under " + KeyHex(key));
  }
  return cached;
}

v1::EvaluationResponse EvaluationQueries::Respond(const std::string& key,
                                                  const v1::CachedEvaluation& cached,
                                                  const v1::JobRecord* evaluated_by) {
  v1::EvaluationResponse response;
  *response.mutable_cached() = cached;
  response.set_key_hex(KeyHex(key));
  if (evaluated_by) {
    response.set_rendered(
        Render(evaluated_by->spec(), Shown(cached.evaluation(), cached.candidate())));
  }
  return response;
}

v1::QueryEvaluationsResponse EvaluationQueries::ByKey(const std::string& key,
                                                      const v1::CachedEvaluation& cached,
                                                      const v1::JobRecord* evaluated_by) {
  v1::EvaluationResponse found = Respond(key, cached, evaluated_by);
  v1::QueryEvaluationsResponse response;
  if (evaluated_by) {
    *response.mutable_problem() = problems_.Describe(evaluated_by->spec());
  } else {
    response.mutable_problem()->set_domain(cached.domain());
  }
  v1::EvaluationRow* row = response.add_rows();
  row->set_job_id(cached.job_id());
  row->set_key(key);
  row->set_key_hex(found.key_hex());
  *row->mutable_candidate() = Shown(cached.evaluation(), cached.candidate());
  *row->mutable_evaluation() = cached.evaluation();
  row->set_rendered(found.rendered());
  return response;
}

}  // namespace evolv
