#include "services/evolvd/metrics.h"

#include <map>
#include <sstream>

#include "actors/job_lifecycle.h"

namespace evolv {
namespace {

void Header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

template <class T>
void Sample(std::ostringstream& out, const char* name, const char* type, const char* help,
            T value) {
  Header(out, name, type, help);
  out << name << " " << value << "\n";
}

}  // namespace

void ServiceMetrics::ObserveEvaluation(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t b = 0; b < kLatencyBucketCount; ++b) {
    if (seconds <= kLatencyBounds[b]) ++latency_buckets_[b];
  }
  ++latency_count_;
  latency_sum_ += seconds;
}

std::string ServiceMetrics::Render(const MetricsSources& sources) const {
  std::ostringstream out;
  if (sources.jobs) {
    std::map<v1::JobState, uint64_t> by_state;
    for (int s = v1::PENDING; s <= v1::CANCELLED; ++s) by_state[static_cast<v1::JobState>(s)] = 0;
    uint64_t evaluations = 0;
    v1::CacheCounters cache;
    for (const auto& job : *sources.jobs) {
      ++by_state[job.state()];
      const v1::JobProgress& p = job.progress();
      evaluations += p.evaluations();
      cache.set_hits(cache.hits() + p.cache().hits());
      cache.set_misses(cache.misses() + p.cache().misses());
      cache.set_collisions(cache.collisions() + p.cache().collisions());
      cache.set_eval_seconds_saved(cache.eval_seconds_saved() + p.cache().eval_seconds_saved());
    }
    Header(out, "evolv_jobs", "gauge", "Jobs by state.");
    for (const auto& [state, count] : by_state) {
      out << "evolv_jobs{state=\"" << JobStateName(state) << "\"} " << count << "\n";
    }
    Sample(out, "evolv_evaluations_total", "counter", "Results told to strategies, over all jobs.",
           evaluations);
    Sample(out, "evolv_cache_hits_total", "counter", "Functional-cache hits.", cache.hits());
    Sample(out, "evolv_cache_misses_total", "counter", "Functional-cache misses.", cache.misses());
    Sample(out, "evolv_cache_collisions_total", "counter",
           "Counterfactual hits that differ beyond the domain's cache contract.",
           cache.collisions());
    Sample(out, "evolv_cache_eval_seconds_saved_total", "counter",
           "Evaluation seconds saved by cache hits.", cache.eval_seconds_saved());
  }
  if (sources.workers) {
    uint64_t slots = 0, busy = 0;
    for (const auto& w : *sources.workers) {
      slots += w.info().slots();
      busy += w.busy();
    }
    Sample(out, "evolv_workers", "gauge", "Workers known to the dispatcher.",
           sources.workers->size());
    Sample(out, "evolv_worker_slots", "gauge", "Evaluation slots over all workers.", slots);
    Sample(out, "evolv_busy_slots", "gauge", "Evaluations running on workers.", busy);
  }
  if (sources.queue_depth) {
    Sample(out, "evolv_queue_depth", "gauge", "Evaluations waiting for a free worker slot.",
           *sources.queue_depth);
  }

  std::lock_guard<std::mutex> lock(mutex_);
  Header(out, "evolv_evaluation_seconds", "histogram",
         "Wall time of Problem::Evaluate on workers, since evolvd started.");
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
