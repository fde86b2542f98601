#include "actors/job_engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "absl/strings/str_format.h"

namespace evolv {
namespace {

constexpr uint32_t kDefaultWindow = 8;
constexpr uint32_t kDefaultAggregateRepeats = 3;
// Working-set rows kept after a checkpoint; beyond this they are re-read from the store.
constexpr size_t kMaxWorkingRows = 100000;

}  // namespace

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<std::unique_ptr<JobEngine>> JobEngine::Create(const v1::JobRecord& job, Store* store,
                                                             const ProblemRegistry& registry,
                                                             const JobLimits& limits) {
  auto parts = BuildJobParts(job.spec(), registry, limits);
  if (!parts.ok()) return parts.status();
  return Create(job, store, std::move(*parts));
}

absl::StatusOr<std::unique_ptr<JobEngine>> JobEngine::Create(const v1::JobRecord& job, Store* store,
                                                             JobParts parts) {
  std::unique_ptr<JobEngine> engine(
      new JobEngine(job, store, std::move(parts.problem), std::move(parts.strategy)));
  engine->max_evaluation_bytes_ = parts.max_evaluation_bytes;
  if (absl::Status status = engine->RestoreFromCheckpoint(); !status.ok()) return status;
  return engine;
}

JobEngine::JobEngine(v1::JobRecord record, Store* store, std::unique_ptr<Problem> problem,
                     std::unique_ptr<Strategy> strategy)
    : record_(std::move(record)),
      store_(store),
      problem_(std::move(problem)),
      strategy_(std::move(strategy)),
      domain_(problem_->Domain()),
      version_(problem_->EvaluatorVersion()),
      canonical_spec_(problem_->CanonicalSpec()),
      fingerprint_(ProblemFingerprint(*problem_)),
      started_(std::chrono::steady_clock::now()),
      last_checkpoint_(started_) {
  const v1::JobSpec& spec = record_.spec();
  spec.SerializeToString(&spec_bytes_);
  mode_ = spec.cache().mode() == v1::CACHE_MODE_UNSPECIFIED ? v1::CACHE : spec.cache().mode();
  const uint32_t repeats = spec.cache().aggregate_repeats() ? spec.cache().aggregate_repeats()
                                                            : kDefaultAggregateRepeats;
  policy_ = MakeCachePolicy(mode_, repeats, *problem_);
  window_size_ = spec.window() ? spec.window() : kDefaultWindow;
  const std::vector<v1::ObjectiveDisplay> displays = problem_->ObjectiveDisplays();
  if (!displays.empty()) objective_display_ = displays.front();
}

absl::Status JobEngine::RestoreFromCheckpoint() {
  auto checkpoint = store_->GetCheckpoint(record_.id());
  if (absl::IsNotFound(checkpoint.status())) return absl::OkStatus();
  if (!checkpoint.ok()) return checkpoint.status();
  if (absl::Status status = strategy_->Restore(checkpoint->strategy()); !status.ok()) {
    return absl::DataLossError("job " + record_.id() + ": " + std::string(status.message()));
  }
  told_ = checkpoint->told();
  told_at_start_ = told_at_checkpoint_ = told_;
  next_index_ = told_;
  counters_ = checkpoint->cache();
  elapsed_before_ = checkpoint->elapsed_seconds();
  for (const auto& pending : checkpoint->pending()) {
    if (pending.index() != next_index_) {
      return absl::DataLossError("job " + record_.id() + ": checkpoint's pending candidates " +
                                 "are not contiguous from index " + std::to_string(told_));
    }
    Slot& slot = window_[next_index_];
    slot.candidate = pending.candidate();
    slot.key = FunctionalKey(*problem_, slot.candidate);
    ++next_index_;
  }
  restored_unplanned_ = !window_.empty();
  // The best result so far, for progress reports.
  auto best = store_->QueryTopByJob(record_.id(), 0, 1);
  if (best.ok() && !best->empty()) {
    best_ = best->front().evaluation();
    has_best_ = true;
  }
  return absl::OkStatus();
}

double JobEngine::ElapsedSeconds() const {
  return elapsed_before_ +
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

bool JobEngine::MayAsk() const {
  const v1::Budget& budget = record_.spec().budget();
  if (strategy_->Done()) return false;
  if (budget.max_evaluations() > 0 && next_index_ >= budget.max_evaluations()) return false;
  if (budget.max_seconds() > 0 && ElapsedSeconds() >= budget.max_seconds()) return false;
  return next_index_ < told_ + window_size_;
}

bool JobEngine::Finished() const {
  if (!window_.empty()) return false;
  const v1::Budget& budget = record_.spec().budget();
  return strategy_->Done() || (budget.max_evaluations() > 0 && told_ >= budget.max_evaluations()) ||
         (budget.max_seconds() > 0 && ElapsedSeconds() >= budget.max_seconds());
}

const v1::CachedEvaluation* JobEngine::FindRow(const CacheKey& key) {
  if (mode_ == v1::OFF) return nullptr;
  auto it = rows_.find(key);
  if (it != rows_.end()) return &it->second;
  auto row = store_->GetEvaluation(key.Bytes());
  // NotFound, unreadable, or a FAILED row an older version stored: evaluate again.
  if (!row.ok() || row->evaluation().status() != v1::OK) return nullptr;
  return &rows_.emplace(key, std::move(*row)).first->second;
}

EvalTask JobEngine::Dispatch(uint64_t index, Slot& slot, uint32_t repeat) {
  slot.needs_worker = true;
  ++planned_[slot.key];
  EvalTask task;
  task.index = index;
  task.key = slot.key;
  task.repeat = repeat;
  task.seed = EvaluationSeed(slot.key, repeat);
  task.candidate = slot.candidate;
  return task;
}

std::optional<EvalTask> JobEngine::Plan(uint64_t index, Slot& slot) {
  // Limits of the spec are checked on the structure, before the cache.
  if (std::optional<v1::Evaluation> infeasible = problem_->CheckFeasible(slot.candidate)) {
    slot.result = std::move(*infeasible);
    slot.has_result = slot.infeasible = true;
    return std::nullopt;
  }
  if (const uint64_t bytes = problem_->EvaluationBytes(slot.candidate);
      bytes > max_evaluation_bytes_) {
    slot.result = UnscoredEvaluation(
        v1::INFEASIBLE,
        absl::StrFormat("%s: evaluating it would take about %d MiB, above the limit of %d MiB per "
                        "evaluation (evolvd --max-evaluation-memory)",
                        domain_, (bytes + (1 << 20) - 1) >> 20, max_evaluation_bytes_ >> 20),
        static_cast<int>(problem_->ObjectiveNames().size()));
    slot.has_result = slot.infeasible = true;
    return std::nullopt;
  }
  auto it = planned_.find(slot.key);
  const PlanDecision decision =
      policy_->Plan(FindRow(slot.key), it == planned_.end() ? 0 : it->second);
  if (decision.action != PlanAction::kEvaluate) return std::nullopt;
  return Dispatch(index, slot, decision.repeat);
}

std::vector<EvalTask> JobEngine::Fill() {
  std::vector<EvalTask> tasks;
  // Re-issue candidates restored from a checkpoint, once, before anything new is asked.
  if (restored_unplanned_) {
    restored_unplanned_ = false;
    for (auto& [index, slot] : window_) {
      if (auto task = Plan(index, slot)) tasks.push_back(std::move(*task));
    }
  }
  // Ask and tell alternate one result at a time, so that candidate k is always asked right after
  // result k-W is told, whatever order the results arrived in.
  for (;;) {
    while (MayAsk()) {
      const uint64_t index = next_index_++;
      Slot& slot = window_[index];
      slot.candidate = strategy_->Ask(index);
      slot.key = FunctionalKey(domain_, version_, canonical_spec_, problem_->Probe(slot.candidate));
      if (auto task = Plan(index, slot)) tasks.push_back(std::move(*task));
    }
    if (window_.empty() || window_.begin()->first != told_) break;
    Slot& slot = window_.begin()->second;
    if (slot.needs_worker && !slot.has_result) break;
    if (!TellOne(told_, slot)) {
      // It followed a twin whose evaluation failed: no row to take, so evaluate it now.
      tasks.push_back(Dispatch(told_, slot, 0));
      break;
    }
    window_.erase(window_.begin());
  }
  return tasks;
}

std::vector<EvalTask> JobEngine::OnResult(uint64_t index, v1::Evaluation evaluation) {
  auto it = window_.find(index);
  if (it == window_.end() || !it->second.needs_worker || it->second.has_result) {
    return {};  // a duplicate or stale result (e.g. from before a restart): ignore
  }
  it->second.result = std::move(evaluation);
  it->second.has_result = true;
  return Fill();
}

bool JobEngine::TellOne(uint64_t index, Slot& slot) {
  v1::Evaluation told;
  bool hit = false;
  if (slot.infeasible) {
    told = slot.result;
    counters_.set_infeasible(counters_.infeasible() + 1);
  } else {
    TellInput input;
    input.row = FindRow(slot.key);
    input.fresh = slot.needs_worker ? &slot.result : nullptr;
    TellOutcome outcome = policy_->Tell(input);
    if (!outcome.ready) return false;
    if (slot.needs_worker) {
      auto p = planned_.find(slot.key);
      if (p != planned_.end() && --p->second == 0) planned_.erase(p);
    }
    told = std::move(outcome.told);
    hit = outcome.hit;
    if (outcome.hit) {
      counters_.set_hits(counters_.hits() + 1);
      counters_.set_eval_seconds_saved(counters_.eval_seconds_saved() +
                                       (input.row ? input.row->evaluation().eval_seconds() : 0));
    }
    if (outcome.miss) counters_.set_misses(counters_.misses() + 1);
    if (outcome.collision) counters_.set_collisions(counters_.collisions() + 1);
    if (outcome.difference > counters_.max_hit_difference()) {
      counters_.set_max_hit_difference(outcome.difference);
    }
    if (outcome.row) {
      v1::CachedEvaluation& row = rows_[slot.key];
      const bool fresh_row = !row.has_candidate();
      *row.mutable_evaluation() = outcome.row->evaluation();
      row.set_repeats(outcome.row->repeats());
      if (fresh_row) {
        *row.mutable_candidate() = slot.candidate;
        row.set_domain(domain_);
        row.set_job_id(record_.id());
        row.set_created_unix_ms(NowUnixMs());
      }
      dirty_.push_back(slot.key);
    }
  }

  strategy_->Tell(index, slot.candidate, told);
  if (told.status() == v1::OK && (!has_best_ || LexicographicallyBetter(told, best_))) {
    best_ = told;
    has_best_ = true;
  }

  // The slot is erased after this: its candidate and the told evaluation move into the row.
  v1::HistoryEntry entry;
  entry.set_index(index);
  entry.mutable_candidate()->Swap(&slot.candidate);
  entry.set_key(slot.key.Bytes());
  entry.mutable_evaluation()->Swap(&told);
  entry.set_cache_hit(hit);
  unflushed_history_.push_back(std::move(entry));
  ++told_;
  return true;
}

bool JobEngine::CheckpointDue(uint64_t every_results, double every_seconds) const {
  if (told_ - told_at_checkpoint_ >= every_results) return true;
  const double since =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint_).count();
  return since >= every_seconds && told_ != told_at_checkpoint_;
}

v1::JobProgress JobEngine::Progress() const {
  v1::JobProgress progress;
  progress.set_evaluations(told_);
  const v1::Budget& budget = record_.spec().budget();
  // The spec's budget or the strategy's natural end, whichever comes first.
  uint64_t budget_evaluations = budget.max_evaluations();
  const uint64_t natural = strategy_->NaturalEvaluations();
  if (natural > 0 && (budget_evaluations == 0 || natural < budget_evaluations)) {
    budget_evaluations = natural;
  }
  progress.set_budget_evaluations(budget_evaluations);
  progress.set_budget_seconds(budget.max_seconds());
  const double elapsed = ElapsedSeconds();
  progress.set_elapsed_seconds(elapsed);
  progress.set_best_objective(has_best_ && best_.objectives_size() > 0
                                  ? best_.objectives(0)
                                  : std::numeric_limits<double>::infinity());
  *progress.mutable_cache() = counters_;
  const double run = elapsed - elapsed_before_;
  progress.set_evals_per_second(run > 0 ? (told_ - told_at_start_) / run : 0.0);
  progress.set_note(strategy_->ProgressNote(told_));
  *progress.mutable_objective() = objective_display_;
  if (std::optional<v1::WorkUnits> units = strategy_->Units(told_)) {
    const std::optional<v1::WorkUnits> at_start = strategy_->Units(told_at_start_);
    const uint64_t done_before = at_start ? std::min(at_start->done(), units->done()) : 0;
    units->set_per_second(run > 0 ? (units->done() - done_before) / run : 0.0);
    *progress.mutable_units() = *std::move(units);
  }
  return progress;
}

absl::Status JobEngine::Checkpoint(v1::JobState state) {
  CheckpointBatch batch;
  record_.set_state(state);
  record_.set_updated_unix_ms(NowUnixMs());
  *record_.mutable_progress() = Progress();
  batch.job = record_;

  CheckpointBatch::Snapshot snapshot;
  snapshot.job_id = record_.id();
  *snapshot.checkpoint.mutable_strategy() = strategy_->Snapshot();
  snapshot.checkpoint.set_told(told_);
  for (const auto& [index, slot] : window_) {
    auto* pending = snapshot.checkpoint.add_pending();
    pending->set_index(index);
    *pending->mutable_candidate() = slot.candidate;
  }
  *snapshot.checkpoint.mutable_cache() = counters_;
  snapshot.checkpoint.set_elapsed_seconds(ElapsedSeconds());
  batch.snapshot = std::move(snapshot);

  batch.history.reserve(unflushed_history_.size());
  for (auto& entry : unflushed_history_) {
    batch.history.push_back({record_.id(), std::move(entry)});
  }
  for (const CacheKey& key : dirty_) {
    auto it = rows_.find(key);
    if (it != rows_.end()) batch.cache.push_back({key.Bytes(), it->second});
  }
  absl::Status status = store_->Commit(batch);
  if (!status.ok()) {
    // Keep the rows for the next attempt; the history rows were moved into the batch.
    unflushed_history_.clear();
    for (auto& row : batch.history) unflushed_history_.push_back(std::move(row.entry));
    return status;
  }
  unflushed_history_.clear();
  dirty_.clear();
  if (rows_.size() > kMaxWorkingRows) {
    for (auto it = rows_.begin(); it != rows_.end();) {
      it = planned_.count(it->first) ? std::next(it) : rows_.erase(it);
    }
  }
  told_at_checkpoint_ = told_;
  last_checkpoint_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

}  // namespace evolv
