// ProblemCache: the Problems evolvd builds to describe jobs and render their candidates, kept in
// a least-recently-used cache keyed by the job spec's problem bytes, so jobs with the same
// problem share one instance and a server with many jobs holds a bounded number.
//
// Bound: kDefaultCapacity (32) problems. Building a Problem is cheap next to a job but not free
// (a domain may derive probe inputs or instance sets from its spec), and the status page asks
// about one job at a time, so 32 covers the jobs people look at while a server with thousands of
// jobs keeps at most 32 problems in memory. An evicted problem stays alive for callers that still
// hold its shared_ptr.
//
// Thread-safety: every method is safe to call from any thread. Two threads missing the same key
// at once may both build the problem; the first to finish is kept and both get that one.
// Errors: Get passes on the registry's InvalidArgument for a spec whose problem cannot be built
// (message naming the field); a failed build is not cached.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/status/statusor.h"
#include "evolv/v1/job.pb.h"
#include "evolv/v1/service.pb.h"
#include "search/problem.h"
#include "search/problem_registry.h"

namespace evolv {

// The problem part of a spec in a canonical byte form: the domain spec's type name and the spec
// parsed and serialized deterministically (as the packed Any's bytes when this binary does not
// know the type). Equal bytes mean the same problem, however the client packed it; it is the
// cache key here and the match of a by-problem query.
std::string ProblemBytes(const v1::JobSpec& spec);

class ProblemCache {
 public:
  static constexpr size_t kDefaultCapacity = 32;

  // `registry` must outlive the cache; `capacity` >= 1.
  explicit ProblemCache(const ProblemRegistry& registry, size_t capacity = kDefaultCapacity);

  // The problem of `spec`, built by the registry on a miss (evicting the least recently used
  // problem when full) and marked most recently used.
  absl::StatusOr<std::shared_ptr<const Problem>> Get(const v1::JobSpec& spec);

  // The spec's domain (from the registry), objective names and their displays (from the
  // problem; empty when it cannot be built here).
  v1::ProblemDescription Describe(const v1::JobSpec& spec);

  // Problems held now; never more than capacity().
  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const Problem>>;

  const ProblemRegistry& registry_;
  const size_t capacity_;
  mutable std::mutex mutex_;  // guards the members below
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace evolv
