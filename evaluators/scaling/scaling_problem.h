// The scaling problem (Fast and Accurate Model Scaling, Dollar, Singh and Girshick, CVPR 2021) as
// an evolv Problem: how to split a flops factor s between depth, width and resolution of a base
// network of pycls's AnyNet family (network.h), judged by the scaled network's test error after a
// short training run and by its runtime or activations.
//
// A candidate (ScalingStrategy) is the weights (w_d, w_w, w_r) and a factor s of the spec's
// list; scaler.h turns it into a network with pycls's rounding. Objectives, both minimized:
//   error        test error (fraction of the test images misclassified) after the spec's
//                training schedule, seeded by the evaluation context (AGGREGATE mode averages
//                repeats with different seeds: the noise of a short run is real);
//   runtime_ms   median inference time of a batch on the evaluating device (objective RUNTIME),
//   or activations / train_step_ms (objectives ACTIVATIONS, TRAINING_TIME).
// Metrics: error, error_sq (so that the mean over AGGREGATE repeats gives the spread), flops,
// params, acts (pycls's counter, complexity.h), their ratios to the base network, inference_ms,
// inference_ms_worst, train_step_ms, initial_loss, final_loss, depth_factor, width_factor,
// resolution (pixels), train_seconds.
//
// Functional key: Probe is the realized network (depths, widths, group widths, resolution after
// rounding): strategies that round to the same network share a key; the strategy's name and s
// are not part of it. CanonicalSpec holds the normalized spec without the data's directory, a
// digest of the data files' content, and the timing device with its model ("cpu: <model name>,
// 1 thread" or "cuda: <GPU name>"): runtime is not a pure function of the candidate, so a key is
// a (network, device model) pair and a timing is only ever served for the device it was measured
// on. A remote worker on another CPU model builds another canonical spec, so its fingerprint
// differs from the coordinator's and it refuses the job's work (see search/functional_hash.h).
// Cache contract (CompareHit): the pure parts (flops, params, acts) equal and the error within
// 0.05 absolute (a short run's seed noise); runtime differs between measurements and is not
// compared.
//
// Timing runs alone in the process: evaluations hold a shared lock while they train and an
// exclusive one while they time, so that local workers training on other threads do not share
// the cores with a measurement.
//
// Thread-safety: every method is const and safe to call concurrently. See
// docs/adr/0016-scaling.md.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/scaling/complexity.h"
#include "evaluators/scaling/network.h"
#include "evaluators/scaling/presets.h"
#include "evaluators/scaling/scaler.h"
#include "evaluators/scaling/trainer.h"
#include "evolv/v1/scaling.pb.h"
#include "search/problem.h"
#include "search/top_k_evolution.h"

namespace evolv {

inline constexpr int kMaxScalingFactors = 8;
inline constexpr double kMaxFlopsFactor = 64;
inline constexpr int kMaxScalingTrainImages = 60000;
inline constexpr int kMaxScalingTestImages = 10000;
inline constexpr int kMaxScalingEpochs = 3;
inline constexpr int kMaxScalingBatch = 1024;
inline constexpr int kMaxScalingTimingRuns = 100;
// Multiply-adds of one image through a scaled network: beyond it a candidate is INFEASIBLE.
inline constexpr double kMaxScaledFlops = 4e9;
// The named strategies of the paper that seed a search and fill the report's table.
const std::vector<std::string>& ScalingStrategyNames();

// Validates the spec and builds the problem (reads the data files' content for the key; the
// images themselves are decoded on the first evaluation). InvalidArgument whose message starts
// with the field path ("scaling.flops_factors[1]: ...", "scaling.base.stages[0].width: ...").
absl::StatusOr<std::unique_ptr<Problem>> CreateScalingProblem(const v1::ScalingSpec& spec);

// The registry's example: the default base network on Fashion-MNIST, s in {2, 4, 8}.
v1::ScalingSpec ScalingExampleSpec();

// Pearson's correlation coefficient of x and y (equal lengths); NaN for fewer than 3 points or a
// constant series.
double PearsonCorrelation(const std::vector<double>& x, const std::vector<double>& y);

// A candidate holding `weights` at factor `s`, labelled `name` (may be empty).
v1::Candidate ScalingCandidate(const ScalingWeights& weights, double s, const std::string& name);

class ScalingProblem : public Problem, public EvolvableSpace {
 public:
  std::string Domain() const override { return "scaling"; }
  std::string CanonicalSpec() const override { return canonical_; }
  std::string EvaluatorVersion() const override { return "scaling/1"; }
  std::vector<std::string> ObjectiveNames() const override;
  std::vector<v1::ObjectiveDisplay> ObjectiveDisplays() const override;

  // Weights drawn uniformly on the simplex (Dirichlet(1, 1, 1)), s uniformly from the list.
  v1::Candidate Random(Rng& rng) const override;
  // One gene changed: a weight multiplied by exp(N(0, 0.5^2)) or set to 0 (one in four), or s
  // replaced by another factor of the list.
  v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const override;
  // Each weight and s from either parent.
  std::optional<v1::Candidate> Crossover(const v1::Candidate& a, const v1::Candidate& b,
                                         Rng& rng) const override;
  ProbeBytes Probe(const v1::Candidate& candidate) const override;
  // INFEASIBLE for a weight < 0 or not finite, weights summing to 0, s not in the spec's list,
  // or a scaled network past the counter's limits or kMaxScaledFlops.
  std::optional<v1::Evaluation> CheckFeasible(const v1::Candidate& candidate) const override;
  // EstimateEvaluationBytes (complexity.h) of the scaled network with the spec's training and
  // timing batches and image counts; 0 for a candidate CheckFeasible refuses.
  uint64_t EvaluationBytes(const v1::Candidate& candidate) const override;
  HitDifference CompareHit(const v1::Evaluation& cached,
                           const v1::Evaluation& fresh) const override;
  // timing.device_name for a job timed on "cuda": its runtimes belong to that GPU model, so only
  // workers on it run its evaluations. "" for "cpu".
  std::string RequiredCudaDevice() const override;
  // Trains on the CPU; times on the CPU, or on the worker's CUDA device (context.cuda_device)
  // for "cuda", FAILED when the worker has none or it is not timing.device_name.
  v1::Evaluation Evaluate(const v1::Candidate& candidate,
                          const EvalContext& context) const override;
  // Text: "dWr s=8 (d 1, w 8, r 1): stem 16 | 2x32 ... | 32px"; JSON: the strategy's fields
  // and the network.
  std::string Render(const v1::Candidate& candidate, RenderFormat format) const override;
  // The base network and its complexity; per named strategy and s: realized flops, params and
  // activations with their exponents log_s(x / x_base), error (mean and spread over repeats),
  // inference and training-step time; Pearson r of runtime with flops, params and activations
  // over every evaluated network (and without the resolution-scaled ones); the Pareto front of
  // (error, second objective).
  std::string Report(const std::vector<v1::HistoryEntry>& history) const override;
  // "runtime-vs-activations", "runtime-vs-flops" (scatter, one series per s) and "front"
  // (error vs the second objective, every network and the non-dominated ones).
  std::vector<v1::ReportChart> Charts(const std::vector<v1::HistoryEntry>& history) const override;
  const EvolvableSpace* AsEvolvableSpace() const override { return this; }

  // Every named strategy at every factor of the list.
  std::vector<v1::Candidate> Seeds() const override;
  // Each of the four genes changed (as Mutate) with probability `rate`.
  v1::Candidate MutateGenes(const v1::Candidate& parent, double rate,
                            const GenerationInfo& generation, Rng& rng) const override;

  const NetworkSpec& base() const { return base_; }
  const Complexity& base_complexity() const { return base_complexity_; }
  const std::vector<double>& flops_factors() const { return factors_; }
  // The scaled network of a candidate whose strategy is well formed; nullopt otherwise.
  std::optional<NetworkSpec> NetworkOf(const v1::Candidate& candidate) const;

 private:
  friend absl::StatusOr<std::unique_ptr<Problem>> CreateScalingProblem(const v1::ScalingSpec& spec);
  ScalingProblem() = default;

  // The decoded images, read on first use; the status of that read.
  const absl::StatusOr<ImageClassData>& Data() const;
  std::string SecondObjectiveName() const;
  double SecondObjective(const v1::Evaluation& evaluation) const;

  v1::ScalingSpec spec_;  // normalized: defaults filled in
  NetworkSpec base_;
  Complexity base_complexity_;
  std::vector<double> factors_;
  TrainSchedule schedule_;
  TimingDevice device_;
  std::string device_name_;  // what the timings are for, e.g. "cpu: <model>, 1 thread"
  std::string canonical_;

  mutable std::once_flag data_once_;
  mutable std::unique_ptr<absl::StatusOr<ImageClassData>> data_;
  // Shared while training, exclusive while timing (see above). Process-wide.
  static std::shared_mutex& TimingLock();
};

}  // namespace evolv
