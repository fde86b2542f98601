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
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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
  // The CUDA device of the worker (evolv-worker --device cuda:K), which a domain with a device
  // path may use; -1: none. Results may depend on it only within the domain's CompareHit
  // tolerance (the cache serves them everywhere).
  int cuda_device = -1;
};

enum class RenderFormat { kText, kC, kCFloat, kJson };

// One picture of a job's report (Problem::Figures).
struct Figure {
  std::string name;     // a file name, IsFigureName: "samples.png"
  std::string caption;  // one line of plain text shown under the picture
  std::string png;      // the PNG file's bytes (evaluators/common/png_image.h encodes them)
};

class BanditSequence;
class EvolvableSpace;
class ParameterSpace;

class Problem {
 public:
  virtual ~Problem() = default;

  // Registry name of the domain, as registered.
  virtual std::string Domain() const = 0;
  // The spec fields that change what a candidate's evaluation means, in a canonical byte form;
  // part of every functional key so different targets never share cache rows. Fields that only
  // decide feasibility (see CheckFeasible) stay out, so jobs differing in them share rows.
  virtual std::string CanonicalSpec() const = 0;
  // The evaluator's version, part of every functional key: change it whenever Evaluate may
  // return something else for the same candidate, so rows of the old evaluator are never served.
  // tests/evaluators/golden_test.cc pins evaluations per version and fails when they change
  // under an unchanged version.
  virtual std::string EvaluatorVersion() const = 0;
  // A digest of the content of every file the problem read from its spec beyond what
  // CanonicalSpec carries (e.g. data files whose content enters the key only through Probe).
  // Part of the problem fingerprint (search/functional_hash.h), which workers compare with the
  // coordinator's, never of a cache key, so problems reading the same content from different
  // paths still share rows. A function of the content alone, not of paths. The default, for
  // problems that read no such file: empty.
  virtual std::string InputsDigest() const { return {}; }
  // Names of the objectives Evaluate returns, all minimized, in order.
  virtual std::vector<std::string> ObjectiveNames() const = 0;
  // How people read each objective, one per name in the same order with the same names: a label,
  // a unit and whether the stored value is log10 of the quantity shown (e.g. label "max rel.
  // error", LOG10: a stored -7.21 reads "max rel. error 6.2e-08") or minus it (NEGATED: a
  // maximized quantity, e.g. an accuracy stored as -0.91). Clients show objectives only
  // this way (services/objective_text.h, the status page). The default: each name as its own
  // label, no unit, the value as stored.
  virtual std::vector<v1::ObjectiveDisplay> ObjectiveDisplays() const;

  // A new individual.
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

  // Cheap: the candidate's quantized outputs on fixed probe inputs, plus whatever else its
  // evaluation depends on (structure that sets objectives, such as a cost), so that a
  // cache hit returns what evaluating this candidate would (within HitTolerance).
  virtual ProbeBytes Probe(const v1::Candidate& candidate) const = 0;
  // Cheap, structural: an INFEASIBLE evaluation when the candidate breaks a limit of the spec
  // (e.g. a size limit), else nullopt. Runs before the cache is consulted, so limits need
  // not be part of the key.
  virtual std::optional<v1::Evaluation> CheckFeasible(const v1::Candidate& candidate) const {
    (void)candidate;
    return std::nullopt;
  }
  // Cheap, structural: an estimate, in bytes, of the memory one evaluation of `candidate` takes
  // on a worker beyond the process and what the problem holds (e.g. a network's training state),
  // meant as an upper bound; 0 (the default) when it is small. A job refuses a candidate whose
  // estimate is above the service's limit (JobLimits::max_evaluation_bytes, evolvd
  // --max-evaluation-memory) as INFEASIBLE, before the cache, and a spec one of whose Seeds is
  // above it as INVALID_ARGUMENT.
  virtual uint64_t EvaluationBytes(const v1::Candidate& candidate) const {
    (void)candidate;
    return 0;
  }
  // The domain's cache contract: how far a cached evaluation (of another candidate with the same
  // key) may differ from evaluating this candidate. Returns the difference, in the domain's own
  // measure; `within` says whether it is inside the documented tolerance. The default: same
  // status and objectives equal to 1e-9 relative; the difference is the largest relative gap.
  struct HitDifference {
    double difference = 0;
    bool within = true;
  };
  virtual HitDifference CompareHit(const v1::Evaluation& cached, const v1::Evaluation& fresh) const;
  // The default's measure, for a domain's own tolerance: same status and objective count, else
  // an infinite difference; otherwise the largest |x - y| / max(|x|, |y|, floors[i]) over the
  // objectives (floors[i] 0 where `floors` is shorter), within when <= `tolerance`.
  static HitDifference CompareObjectives(const v1::Evaluation& cached, const v1::Evaluation& fresh,
                                         double tolerance, const std::vector<double>& floors = {});
  // Expensive: runs on a worker. Never throws; a failure is an Evaluation with status FAILED.
  virtual v1::Evaluation Evaluate(const v1::Candidate& candidate,
                                  const EvalContext& context) const = 0;
  // Evaluates candidates[i] with contexts[i] together, for a device that runs several in one
  // launch; result i is what Evaluate gives for candidates[i] (the cache serves either), timing
  // metrics aside. Workers with a CUDA device call it with the tasks of one message. The default
  // calls Evaluate for each. Never throws.
  virtual std::vector<v1::Evaluation> EvaluateBatch(
      const std::vector<const v1::Candidate*>& candidates,
      const std::vector<EvalContext>& contexts) const;
  // The CUDA device every evaluation of this problem must run on, by name as the CUDA runtime
  // gives it (WorkerInfo.device_name, e.g. "NVIDIA H200"), or "" when any worker may run them
  // (the default). The dispatcher sends such tasks only to workers on that device; they wait
  // while none has joined. For measurements that belong to one device, such as a runtime.
  virtual std::string RequiredCudaDevice() const { return {}; }
  // Human form of a candidate (C code, a schedule, a table row).
  virtual std::string Render(const v1::Candidate& candidate, RenderFormat format) const = 0;

  // Evaluation by clients (evolvd's SuggestTrials and CompleteTrial): whether the job's
  // candidates are evaluated by its clients, which receive them as Render(kJson), rather than by
  // workers. The default: false.
  virtual bool EvaluatedByClients() const { return false; }
  // The evaluation a client reports for `candidate`: `values` holds the objectives by name as
  // the client measured them, and other numbers. InvalidArgument whose message starts with
  // "values" when an objective is missing or not finite. Called only when EvaluatedByClients;
  // the default refuses.
  virtual absl::StatusOr<v1::Evaluation> ClientEvaluation(
      const v1::Candidate& candidate,
      const google::protobuf::Map<std::string, double>& values) const;

  // Hand-made candidates a search starts from (e.g. a domain's classical baselines or a paper's
  // named configurations), best first; may be empty (the default). NSGA-II, regularized evolution
  // and the top-k evolution ask them first, up to their population. A pure function of the spec
  // (a resumed search asks the same ones); may cost up to about a second (called when a
  // strategy is built).
  virtual std::vector<v1::Candidate> Seeds() const { return {}; }

  // The problem as a sequence of instances with a grid of arms, when it is one (the bandit
  // strategy drives such problems); nullptr otherwise.
  virtual const BanditSequence* AsBanditSequence() const { return nullptr; }
  // The problem's seeds and rated mutation for the top-k evolution strategy
  // (search/top_k_evolution.h), when it has them; nullptr otherwise (the strategy then uses
  // Random and Mutate).
  virtual const EvolvableSpace* AsEvolvableSpace() const { return nullptr; }
  // The problem as a box of real, integer and categorical parameters (search/parameter_space.h),
  // which the model-based strategy searches, when it is one; nullptr otherwise.
  virtual const ParameterSpace* AsParameterSpace() const { return nullptr; }

  // The domain's report on a job, given its history in index order: e.g. the Pareto front,
  // baselines and the best candidate rendered. Plain text. Called for a finished (or stopped) job
  // and, on demand (evolvd's GetJobReport), on the checkpointed history of a running one.
  virtual std::string Report(const std::vector<v1::HistoryEntry>& history) const = 0;
  // Pictures of the same report (e.g. a grid of generated samples), shown beside its text by
  // the status page and written beside report.txt by the CLI. Same history contract as Report.
  // May be expensive (it may evaluate candidates again): callers compute it on demand, never
  // per evaluation, and evolvd caches the result per (job, history size). Names must be
  // distinct and IsFigureName; limits on count and bytes in docs/limits.md (a report past them
  // is refused as INTERNAL). The default: no figures.
  virtual std::vector<Figure> Figures(const std::vector<v1::HistoryEntry>& history) const {
    (void)history;
    return {};
  }
  // Data charts of the same report (e.g. a curve over the problem's domain, per-arm totals),
  // drawn by the status page with zoom and tooltips. Same history contract and cost caveats as
  // Figures; evolvd caches them with it. Names must be distinct and IsChartName; each series'
  // x and y of equal length; limits on charts, series and points in docs/limits.md (a report
  // past them is refused as INTERNAL). Non-finite values are allowed and left out when drawn.
  // The default: no charts.
  virtual std::vector<v1::ReportChart> Charts(const std::vector<v1::HistoryEntry>& history) const {
    (void)history;
    return {};
  }
};

// Whether `name` is a figure's file name: [a-z0-9][a-z0-9_-]{0,63}\.png. Such a name is safe as
// a file name in any directory and as the last segment of a URL path.
bool IsFigureName(std::string_view name);
// Whether `name` is a chart's name: [a-z0-9][a-z0-9_-]{0,63} (a figure name without ".png").
bool IsChartName(std::string_view name);

// An evaluation that did not give objectives: `status` (FAILED or INFEASIBLE), the reason, and
// `objectives` values of +inf (every objective at its worst).
v1::Evaluation UnscoredEvaluation(v1::EvaluationStatus status, const std::string& error,
                                  int objectives);

// A candidate holding the domain message `m`.
template <class M>
v1::Candidate PackCandidate(const M& m) {
  v1::Candidate candidate;
  candidate.mutable_value()->PackFrom(m);
  return candidate;
}

// The domain message in `candidate`; false when it holds another type or does not parse.
template <class M>
bool UnpackCandidate(const v1::Candidate& candidate, M* m) {
  return candidate.value().Is<M>() && candidate.value().UnpackTo(m);
}

}  // namespace evolv
