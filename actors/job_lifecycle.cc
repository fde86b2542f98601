#include "actors/job_lifecycle.h"

#include <xxhash.h>

#include <cctype>
#include <cstdio>

#include "actors/job_engine.h"
#include "search/job_spec.h"

namespace evolv {
namespace {

bool Final(v1::JobState state) {
  return state == v1::SUCCEEDED || state == v1::FAILED_STATE || state == v1::CANCELLED;
}

bool Legal(v1::JobState from, v1::JobState to) {
  switch (from) {
    case v1::RUNNING:
      return to == v1::RUNNING || to == v1::PAUSED || to == v1::CANCELLED || to == v1::SUCCEEDED ||
             to == v1::FAILED_STATE;
    case v1::PAUSED:
      return to == v1::PAUSED || to == v1::RUNNING || to == v1::CANCELLED;
    default:
      return false;
  }
}

// What moving to `state` is called in refusals: "it cannot be <verb>".
std::string Verb(v1::JobState state) {
  switch (state) {
    case v1::RUNNING:
      return "resumed";
    case v1::PAUSED:
      return "paused";
    case v1::CANCELLED:
      return "cancelled";
    case v1::SUCCEEDED:
      return "finished";
    case v1::FAILED_STATE:
      return "failed";
    default:
      return "moved to " + JobStateName(state);
  }
}

absl::Status Unknown(const std::string& id) {
  return absl::NotFoundError("job_id: no job " + (id.empty() ? std::string("(empty)") : id));
}

absl::Status Refusal(const v1::JobRecord& record, v1::JobState target) {
  const std::string state = JobStateName(record.state());
  if (Final(record.state())) {
    return absl::FailedPreconditionError("job " + record.id() + " has already ended (" + state +
                                         "); it cannot be " + Verb(target));
  }
  return absl::FailedPreconditionError("job " + record.id() + " is " + state + "; it cannot be " +
                                       Verb(target));
}

}  // namespace

std::string JobStateName(v1::JobState state) {
  constexpr std::string_view kSuffix = "_STATE";
  std::string name = v1::JobState_Name(state);
  if (name.size() > kSuffix.size() &&
      std::string_view(name).substr(name.size() - kSuffix.size()) == kSuffix) {
    name.resize(name.size() - kSuffix.size());
  }
  return name;
}

std::optional<v1::JobState> ParseJobStateName(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (int s = v1::JobState_MIN; s <= v1::JobState_MAX; ++s) {
    if (!v1::JobState_IsValid(s) || s == v1::JOB_STATE_UNSPECIFIED) continue;
    const auto state = static_cast<v1::JobState>(s);
    if (upper == JobStateName(state) || upper == v1::JobState_Name(state)) return state;
  }
  return std::nullopt;
}

std::string JobStateNames() {
  std::string names;
  for (int s = v1::JobState_MIN; s <= v1::JobState_MAX; ++s) {
    if (!v1::JobState_IsValid(s) || s == v1::JOB_STATE_UNSPECIFIED) continue;
    if (!names.empty()) names += ", ";
    names += JobStateName(static_cast<v1::JobState>(s));
  }
  return names;
}

std::string JobIdAt(const v1::JobSpec& spec, uint32_t n) {
  const std::string base = JobIdFor(spec);
  if (n == 0) return base;
  char id[24];
  std::snprintf(id, sizeof(id), "j%016llx",
                static_cast<unsigned long long>(XXH3_64bits_withSeed(base.data(), base.size(), n)));
  return id;
}

JobLifecycle::JobLifecycle(Store* store, const ProblemRegistry& registry)
    : store_(store), registry_(registry) {}

absl::StatusOr<std::vector<std::string>> JobLifecycle::Restore() {
  auto records = store_->ListJobs();
  if (!records.ok()) return records.status();
  jobs_.clear();
  order_.clear();
  std::vector<std::string> running;
  for (auto& record : *records) {
    const std::string id = record.id();
    if (record.state() == v1::RUNNING) running.push_back(id);
    order_.push_back(id);
    jobs_[id] = std::move(record);
  }
  return running;
}

bool JobLifecycle::Taken(const std::string& id) const {
  // The store too: Restore may not have been called, and ids must be unique in the store.
  return jobs_.count(id) > 0 || !absl::IsNotFound(store_->GetJob(id).status());
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Insert(const v1::JobSpec& spec, const std::string& id) {
  v1::JobRecord record;
  record.set_id(id);
  *record.mutable_spec() = spec;
  record.set_state(v1::RUNNING);
  record.set_created_unix_ms(NowUnixMs());
  record.set_updated_unix_ms(record.created_unix_ms());
  record.mutable_progress()->set_budget_evaluations(spec.budget().max_evaluations());
  record.mutable_progress()->set_budget_seconds(spec.budget().max_seconds());
  if (absl::Status status = store_->PutJob(record); !status.ok()) return status;
  order_.push_back(id);
  jobs_[id] = record;
  return record;
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Create(const v1::JobSpec& spec) {
  if (absl::Status status = ValidateJobSpec(spec, registry_); !status.ok()) return status;
  return CreateValidated(spec);
}

absl::StatusOr<v1::JobRecord> JobLifecycle::CreateValidated(const v1::JobSpec& spec) {
  uint32_t n = 0;
  while (Taken(JobIdAt(spec, n))) ++n;
  return Insert(spec, JobIdAt(spec, n));
}

absl::StatusOr<v1::JobRecord> JobLifecycle::FindOrCreate(const v1::JobSpec& spec) {
  const std::string id = JobIdFor(spec);
  if (const v1::JobRecord* record = Find(id)) return *record;
  auto stored = store_->GetJob(id);
  if (stored.ok()) {
    order_.push_back(id);
    return jobs_[id] = *stored;
  }
  if (!absl::IsNotFound(stored.status())) return stored.status();
  if (absl::Status status = ValidateJobSpec(spec, registry_); !status.ok()) return status;
  return Insert(spec, id);
}

absl::Status JobLifecycle::CheckTransition(const std::string& id, v1::JobState target) const {
  const v1::JobRecord* record = Find(id);
  if (!record) return Unknown(id);
  if (!Legal(record->state(), target)) return Refusal(*record, target);
  return absl::OkStatus();
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Transition(const std::string& id, v1::JobState target,
                                                       const std::string& error) {
  if (absl::Status status = CheckTransition(id, target); !status.ok()) return status;
  v1::JobRecord& held = jobs_[id];
  if (held.state() == target && error.empty()) return held;
  v1::JobRecord record = held;
  record.set_state(target);
  if (target == v1::RUNNING) record.clear_error();  // the reason it stopped no longer holds
  if (!error.empty()) record.set_error(error);
  record.set_updated_unix_ms(NowUnixMs());
  // `held` changes only once the write has succeeded: a failed write leaves it as it was.
  if (absl::Status status = store_->PutJob(record); !status.ok()) return status;
  held = record;
  return held;
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Pause(const std::string& id,
                                                  const std::string& reason) {
  return Transition(id, v1::PAUSED, reason);
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Resume(const std::string& id) {
  return Transition(id, v1::RUNNING);
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Cancel(const std::string& id) {
  return Transition(id, v1::CANCELLED);
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Fail(const std::string& id, const std::string& error) {
  return Transition(id, v1::FAILED_STATE, error.empty() ? "failed" : error);
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Finish(const std::string& id) {
  if (absl::Status status = CheckTransition(id, v1::SUCCEEDED); !status.ok()) return status;
  auto committed = store_->GetJob(id);
  if (!committed.ok()) return committed.status();
  if (committed->state() != v1::SUCCEEDED) {
    return absl::FailedPreconditionError("job " + id + ": the store holds it " +
                                         JobStateName(committed->state()) + ", not SUCCEEDED");
  }
  return Adopt(*committed);
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Adopt(const v1::JobRecord& committed) {
  if (absl::Status status = CheckTransition(committed.id(), committed.state()); !status.ok()) {
    return status;
  }
  return jobs_[committed.id()] = committed;
}

void JobLifecycle::SetProgress(const std::string& id, const v1::JobProgress& progress) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  *it->second.mutable_progress() = progress;
  it->second.set_updated_unix_ms(NowUnixMs());
}

absl::StatusOr<v1::JobRecord> JobLifecycle::Get(const std::string& id) const {
  if (const v1::JobRecord* record = Find(id)) return *record;
  return Unknown(id);
}

const v1::JobRecord* JobLifecycle::Find(const std::string& id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

std::vector<v1::JobRecord> JobLifecycle::List() const {
  std::vector<v1::JobRecord> out;
  out.reserve(order_.size());
  for (const auto& id : order_) out.push_back(jobs_.at(id));
  return out;
}

}  // namespace evolv
