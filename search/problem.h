// The Problem interface: one domain's search space and fitness, built from a job's spec.
//
// A Problem is created once per job (and once per job on each worker process) by the problem
// registry. The search side (Random, Mutate, Crossover, Probe) runs on the job's coordinator;
// Evaluate runs on workers, possibly on many threads at once.
//
// Thread-safety: every const method is safe to call concurrently. Evaluate must be a pure
// function of (candidate, context): the same inputs give the same Evaluation on any worker,
// which is what makes a job's history independent of where and in which order it was computed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "evolv/v1/checkpoint.pb.h"
#include "evolv/v1/job.pb.h"
#include "search/rng.h"

namespace evolv {

// Quantized outputs of a candidate on the problem's fixed probe inputs. Two candidates with
// equal probe bytes are taken to compute the same function (functional hashing).
using ProbeBytes = std::string;

struct EvalContext {
  // Seed for any randomness inside Evaluate (derived from the functional key and repeat, never
  // from the worker or the time).
  uint64_t seed = 0;
  // 0 for the first evaluation of a key; k for the k-th re-evaluation in AGGREGATE mode.
  uint32_t repeat = 0;
};

enum class RenderFormat { kText, kC, kCFloat, kJson };

class Problem {
 public:
  virtual ~Problem() = default;

  // Registry name of the domain, e.g. "numerics".
  virtual std::string Domain() const = 0;
  // The spec fields that change what a candidate's evaluation means, in a canonical byte form;
  // part of every functional key so different targets never share cache rows.
  virtual std::string CanonicalSpec() const = 0;
  // Names of the objectives Evaluate returns, all minimized, in order.
  virtual std::vector<std::string> ObjectiveNames() const = 0;

  // A new individual (for numerics: the empty program, as in AutoNumerics-Zero).
  virtual v1::Candidate Random(Rng& rng) const = 0;
  // One child of `parent`.
  virtual v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const = 0;
  // A child of two parents, where the domain has a crossover; nullopt otherwise.
  virtual std::optional<v1::Candidate> Crossover(const v1::Candidate& a, const v1::Candidate& b,
                                                 Rng& rng) const {
    (void)a;
    (void)b;
    (void)rng;
    return std::nullopt;
  }

  // Cheap: the candidate's quantized outputs on fixed probe inputs.
  virtual ProbeBytes Probe(const v1::Candidate& candidate) const = 0;
  // Expensive: runs on a worker. Never throws; a failure is an Evaluation with status FAILED.
  virtual v1::Evaluation Evaluate(const v1::Candidate& candidate,
                                  const EvalContext& context) const = 0;
  // Human form of a candidate (C code, a schedule, a table row).
  virtual std::string Render(const v1::Candidate& candidate, RenderFormat format) const = 0;

  // The domain's closing report for a finished (or stopped) job, given its history in index
  // order: e.g. the Pareto front, baselines and the best candidate rendered. Plain text.
  virtual std::string Report(const std::vector<v1::HistoryEntry>& history) const = 0;
};

}  // namespace evolv
