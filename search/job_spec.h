// Validation and identity of job specs, shared by every way a job enters evolv (the CLI's
// `evolv run`, the gRPC service).
//
// Limits (documented in docs/limits.md):
//   name            at most 200 bytes
//   window          1..4096 (0 means 8)
//   budget          max_evaluations and/or max_seconds must be > 0, unless the strategy has a
//                   natural end (Strategy::NaturalEvaluations, e.g. the bandit's instances);
//                   max_evaluations <= 1e12, max_seconds <= 1e7 (about 115 days)
//   cache           aggregate_repeats <= 100
//   priority        -100..100
//   strategy        see ValidateStrategy; problem: see each domain's factory
//   every string    valid UTF-8, also inside the problem's packed message (CheckSpecEncoding)
//   every field     known to this build's protos: unknown fields are refused, not stored
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "evolv/v1/job.pb.h"
#include "search/problem_registry.h"
#include "search/strategy.h"

namespace evolv {

// OK, or InvalidArgument naming the field: every string field valid UTF-8 ("name: not valid
// UTF-8", "problem.target: not valid UTF-8" inside the problem's Any, checked on its bytes), and
// no unknown field ("spec: unknown field 99 (not in evolv.v1.JobSpec as this evolvd knows it)",
// "problem: unknown field 99 (...)"), recursively. Needs no registry: a client checks a spec
// with it before sending one (protobuf refuses such bytes before evolv's code sees them).
absl::Status CheckSpecEncoding(const v1::JobSpec& spec);

// OK, or InvalidArgument whose message starts with the offending field, e.g.
// "budget: zero budget; set budget.max_evaluations or budget.max_seconds".
// Checks CheckSpecEncoding first; builds (and discards) the problem to validate the domain's part
// of the spec.
absl::Status ValidateJobSpec(const v1::JobSpec& spec, const ProblemRegistry& registry);

// A job's problem and strategy, built from its spec: the part of starting a job that may read
// files (a domain's data) and allocate, which evolvd does off its job manager's thread
// (actors/job_manager.h) and a JobEngine then takes (actors/job_engine.h).
struct JobParts {
  std::unique_ptr<Problem> problem;
  std::unique_ptr<Strategy> strategy;
  // JobLimits::max_evaluation_bytes of the limits they were built under; the job's engine
  // refuses candidates estimated above it.
  uint64_t max_evaluation_bytes = JobLimits{}.max_evaluation_bytes;
};

// ValidateJobSpec, keeping what it built.
absl::StatusOr<JobParts> ValidateAndBuild(const v1::JobSpec& spec, const ProblemRegistry& registry,
                                          const JobLimits& limits = {});
// A stored job's parts, its spec not validated again: a spec accepted when it was submitted stays
// runnable when a later evolv tightens a limit.
absl::StatusOr<JobParts> BuildJobParts(const v1::JobSpec& spec, const ProblemRegistry& registry,
                                       const JobLimits& limits = {});

// A stable id for a spec: "j" + 16 hex digits of the hash of its deterministic serialization.
// The same spec (same seed included) always gets the same id, which is how `evolv run SPEC`
// finds the job to resume.
std::string JobIdFor(const v1::JobSpec& spec);

}  // namespace evolv
