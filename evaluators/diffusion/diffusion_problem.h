// The diffusion problem (AutoDiffusion, Li et al. ICCV 2023) as an evolv Problem: which K of the
// T = 1000 time steps a sampler should visit, on data whose exact denoiser is known (a Gaussian
// mixture), so that the only error is the sampler's discretization.
//
// A candidate (DiffusionSchedule) is a set of K distinct steps; the sampler (DDIM or
// DPM-Solver++(2M), from the spec) runs from the spec's N fixed starting noises. Objectives,
// both minimized, in this order:
//   fd          Frechet distance of the N samples to the mixture's exact mean and covariance;
//   loglik_gap  |mean log p(sample) - mean log p(exact sample)| under the mixture, the second
//               sample set being N exact samples from a fixed seed. FD on two moments rewards
//               stopping early at a posterior mean (samples pulled to the modes have too high a
//               likelihood); the gap sees it, in either direction.
// FD decides (strategies compare lexicographically); the gap breaks ties and is the second axis
// for NSGA-II. Metrics: fd, loglik, loglik_gap, mass_error (total variation between the shares
// of samples and of exact samples most likely under each component), noise_floor (FD of the N
// exact samples: no FD below it is meaningful), first_step, last_step.
//
// Functional key: Probe is the sorted step set (and any skipped blocks, per step, sorted), so
// permutations of a candidate share a key; CanonicalSpec is the normalized mixture, schedule,
// sampler, N and noise seed — not K or the baselines, which only decide feasibility and the
// report. Cache contract: evaluation is deterministic, the same on every machine with the same
// build (Eigen's blocking is pinned: eigen_blocking.h), exact to 1e-9 (CompareHit); with a learned
// denoiser a worker's CUDA device may run the network (device_network.h), whose last bits differ,
// so objectives then agree within kDeviceHitTolerance.
//
// The denoiser: the mixture's exact one, or (`denoiser`) a learned residual MLP read from a model
// file (learned_denoiser.h), trained on the same mixture; the mixture stays the data of the
// metrics. CanonicalSpec then carries a hash of the model file's content instead of its path.
//
// Images (`images`, image_data.h) instead of a mixture: the sampler runs on principal-component
// coefficients with a learned denoiser (required); fd is measured on the images' random features
// against the test images, loglik_gap and mass_error under one Gaussian per class, and the noise
// floor is that of N training images. CanonicalSpec carries the data's fingerprint (the files'
// content), not their directory. Figures: grids of images generated from the same noises by the
// uniform and the best searched schedule, beside real images.
//
// Joint stage (steps + skipped blocks, `joint`, needs a learned denoiser): a candidate has 1..K
// steps and per step skipped blocks, evaluating at most `joint.block_budget` blocks per sample
// (INFEASIBLE beyond, before the cache). Steps-only candidates have k0 = floor(budget / blocks)
// steps; the top-k evolution's later stages open skipping through their allowance (the share of
// a step's blocks that may be skipped, SkipLimit in step_plan.h), and its operators are
// step_plan.h's. Without `joint` a candidate has exactly K steps, and skipped blocks (where the
// denoiser has them) only as an allowance opens them; the exact denoiser has none, so any skipped
// block is INFEASIBLE. See docs/adr/0007-diffusion.md.
//
// Thread-safety: every method is const and safe to call concurrently.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/diffusion/device_network.h"
#include "evaluators/diffusion/gaussian_mixture.h"
#include "evaluators/diffusion/image_data.h"
#include "evaluators/diffusion/learned_denoiser.h"
#include "evaluators/diffusion/noise_schedule.h"
#include "evaluators/diffusion/sample_metrics.h"
#include "evaluators/diffusion/sampler.h"
#include "evaluators/diffusion/step_plan.h"
#include "evolv/v1/diffusion.pb.h"
#include "search/problem.h"
#include "search/top_k_evolution.h"

namespace evolv {

inline constexpr int kDefaultDiffusionSamples = 2000;
inline constexpr int kMaxDiffusionSamples = 100000;
inline constexpr int64_t kMaxDiffusionSampleValues = int64_t{1} << 22;  // N * d
inline constexpr int kMaxDiffusionBaselines = 16;
// N * C * d^2 * max(K, 100) (exact denoiser) or N * P * max(K, 100) (learned, P parameters):
// about the flops of one evaluation (or of the report's 100-step reference), bounded so that no
// spec asks for hours per evaluation.
inline constexpr double kMaxDiffusionCost = 1099511627776.0;  // 2^40
// Steps of the report's reference run (uniform, both samplers).
inline constexpr int kReferenceSteps = 100;
// Image figures: a grid of kFigureGridSide^2 images, each drawn kFigureScale times its size.
inline constexpr int kFigureGridSide = 8;
inline constexpr int kFigureTiles = kFigureGridSide * kFigureGridSide;
inline constexpr int kFigureScale = 2;

// Validates the spec and builds the problem. InvalidArgument whose message starts with the field
// path ("diffusion.steps: ...", "diffusion.mixture.dimension: ...").
absl::StatusOr<std::unique_ptr<Problem>> CreateDiffusionProblem(const v1::DiffusionSpec& spec);

// The registry's example: the mixture (d = 16, 8 components, cosine), K = 4, DDIM.
v1::DiffusionSpec DiffusionExampleSpec();

// A candidate holding `steps` (ascending is canonical, but any order is accepted).
v1::Candidate DiffusionCandidate(const std::vector<int>& steps);
// A candidate holding the plan's steps and, for steps that skip blocks, the skipped blocks.
v1::Candidate DiffusionCandidate(const StepPlan& plan);

// The distinct steps of `schedule`, ascending, when it has exactly `k` of them in [0, T);
// InvalidArgument "<field>: ..." otherwise (field e.g. "diffusion.steps").
absl::StatusOr<std::vector<int>> CanonicalSteps(const v1::DiffusionSchedule& schedule, int k,
                                                const std::string& field);

// What one sampler run gives.
struct ScheduleScore {
  double fd = 0;
  double loglik = 0;      // mean log p under the mixture
  double loglik_gap = 0;  // |loglik - the exact samples' loglik|
  double mass_error = 0;
};

// How far two evaluations of one candidate with a learned denoiser may differ, relative (see
// CompareHit): one made on a CUDA device, the other on a CPU. Measured: at most 3e-7 over 48
// plans of the two example models, both samplers (docs/adr/0025-cuda-evaluation.md).
inline constexpr double kDeviceHitTolerance = 1e-5;

class DiffusionProblem : public Problem, public EvolvableSpace {
 public:
  std::string Domain() const override { return "diffusion"; }
  std::string CanonicalSpec() const override;
  std::string EvaluatorVersion() const override { return "diffusion/1"; }
  std::vector<std::string> ObjectiveNames() const override { return {"fd", "loglik_gap"}; }
  // "FD 0.0396" (Frechet distance, no unit) and "log-lik. gap 0.25 nats".
  std::vector<v1::ObjectiveDisplay> ObjectiveDisplays() const override;

  // K distinct steps drawn uniformly, ascending.
  v1::Candidate Random(Rng& rng) const override;
  // One step replaced by a step the candidate does not use.
  v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const override;
  // Uniform crossover of the two ascending step lists (position i from either parent), then
  // any step taken twice replaced by an unused step of either parent: the child always has K
  // distinct steps, all from the parents.
  std::optional<v1::Candidate> Crossover(const v1::Candidate& a, const v1::Candidate& b,
                                         Rng& rng) const override;
  ProbeBytes Probe(const v1::Candidate& candidate) const override;
  // INFEASIBLE ("diffusion.steps: ...") for a wrong count, a step outside [0, T), a repeated
  // step, skipped blocks the denoiser does not have ("diffusion.skipped[i]..."), or more block
  // evaluations than the joint budget ("diffusion.joint.block_budget: ...").
  std::optional<v1::Evaluation> CheckFeasible(const v1::Candidate& candidate) const override;
  // With a learned denoiser and a worker's CUDA device (context.cuda_device), the denoiser's
  // network runs there (device_network.h); metric denoiser_on_device says whether it did (1) or
  // ran on the CPU (0).
  v1::Evaluation Evaluate(const v1::Candidate& candidate,
                          const EvalContext& context) const override;
  // Same status and objectives within 1e-9 relative (the exact denoiser), or within
  // kDeviceHitTolerance (a learned one, whose evaluations a CUDA device may have made). Each
  // gap is relative to the larger of the two values and a floor below which differences mean
  // nothing: the noise floor for fd, 1 nat for loglik_gap.
  HitDifference CompareHit(const v1::Evaluation& cached,
                           const v1::Evaluation& fresh) const override;
  // Text: "{0, 250, 500, 750}"; JSON: {"steps": [...]}.
  std::string Render(const v1::Candidate& candidate, RenderFormat format) const override;
  // The noise floor, then FD and loglik gap with DDIM and DPM-Solver++(2M) for: uniform
  // ("ddimK"), trailing (linspace 0..999), quadratic, the spec's baselines, the best searched
  // schedule (the job's sampler's numbers are its evaluation), and the 100-step uniform
  // reference; then searched / uniform. Baselines are computed once per problem.
  std::string Report(const std::vector<v1::HistoryEntry>& history) const override;
  const EvolvableSpace* AsEvolvableSpace() const override { return this; }
  // Image data only (none for a mixture): data.png (training images), samples-uniform.png and
  // samples-searched.png (the uniform and the best schedule from the same first noises), each an
  // 8 x 8 grid of images drawn at twice their size.
  std::vector<Figure> Figures(const std::vector<v1::HistoryEntry>& history) const override;
  // "schedule": where the uniform and the best searched schedule put their steps on the noise
  // schedule's alpha_bar(t) curve (log y), beside the curve itself (every 5th step).
  std::vector<v1::ReportChart> Charts(const std::vector<v1::HistoryEntry>& history) const override;

  // The uniform schedule (k0 steps with `joint`), then the spec's baselines
  // (with `joint`, those within the budget).
  std::vector<v1::Candidate> Seeds() const override;
  // Each step replaced with probability `rate` by a step the candidate does not use; where the
  // generation's allowance lets blocks go (SkipLimit(allowance, blocks) > 0) or the spec has
  // `joint`, step_plan.h's MutatePlan, within the budget and that many skipped blocks per step.
  v1::Candidate MutateGenes(const v1::Candidate& parent, double rate,
                            const GenerationInfo& generation, Rng& rng) const override;
  // Where the allowance lets blocks go: RandomPlan (steps added while they fit, each skipping
  // up to that many blocks); otherwise nullopt (Random).
  std::optional<v1::Candidate> RandomAt(const GenerationInfo& generation, Rng& rng) const override;

  // Runs `steps` (distinct, ascending, in [0, T); any count) with `sampler` from the fixed noises.
  ScheduleScore Score(const std::vector<int>& steps, SamplerKind sampler) const;
  // The same for a plan whose steps may skip blocks (each < NumBlocks(), checked by the caller).
  ScheduleScore Score(const StepPlan& plan, SamplerKind sampler) const;
  // The same with `denoiser` in place of the problem's (the learned one on a device, say).
  ScheduleScore Score(const StepPlan& plan, SamplerKind sampler, const Denoiser& denoiser) const;
  // The plan of a candidate that passes CheckFeasible's structure checks (the budget aside);
  // nullopt otherwise.
  std::optional<StepPlan> PlanOf(const v1::Candidate& candidate) const;

  int steps() const { return k_; }
  // Steps of a steps-only candidate: K, or floor(budget / blocks) with `joint`.
  int first_steps() const { return first_steps_; }
  // The denoiser's blocks (0 for the exact denoiser) and the joint limits.
  int blocks() const { return limits_.blocks; }
  const PlanLimits& limits() const { return limits_; }
  const Denoiser& denoiser() const { return *denoiser_; }
  // The learned denoiser, or nullptr for the exact one.
  const LearnedDenoiser* learned_denoiser() const { return learned_; }
  SamplerKind sampler() const { return sampler_; }
  double noise_floor() const { return noise_floor_; }
  double reference_loglik() const { return reference_loglik_; }
  // The data's mixture (for images: the class Gaussians); the images, or nullptr.
  const GaussianMixture& mixture() const { return *mixture_; }
  const ImageData* images() const { return images_.get(); }

 private:
  friend absl::StatusOr<std::unique_ptr<Problem>> CreateDiffusionProblem(
      const v1::DiffusionSpec& spec);
  DiffusionProblem() = default;

  // The ascending steps of a candidate that passed CheckFeasible's test; nullopt otherwise.
  std::optional<std::vector<int>> StepsOf(const v1::Candidate& candidate) const;
  // True when the candidate lists a step that skips blocks.
  static bool SkipsBlocks(const v1::Candidate& candidate);
  std::string BaselineTable() const;
  // What FD is measured on: the samples themselves (a mixture) or their image features.
  Eigen::MatrixXd ScoredFeatures(const Eigen::MatrixXd& samples) const;
  // The data, in a line of the report.
  std::string DataLine() const;
  // The first kFigureTiles columns of `samples` (image coefficients) as a grid; nullopt when it
  // cannot be drawn.
  std::optional<Figure> ImageGrid(const Eigen::MatrixXd& samples, const std::string& name,
                                  const std::string& caption) const;

  v1::DiffusionSpec spec_;  // normalized: defaults filled in
  std::unique_ptr<GaussianMixture> mixture_;  // the data, or the images' class Gaussians
  std::unique_ptr<ImageData> images_;          // image data only
  std::unique_ptr<Denoiser> denoiser_;
  const LearnedDenoiser* learned_ = nullptr;         // denoiser_, when it is the learned one
  std::unique_ptr<DeviceNetworks> device_networks_;  // learned denoiser only: on CUDA devices
  std::unique_ptr<ExactMoments> moments_;
  std::vector<double> alpha_bars_;
  SamplerKind sampler_ = SamplerKind::kDdim;
  int k_ = 0;
  int first_steps_ = 0;
  bool joint_ = false;
  PlanLimits limits_;
  std::string model_hash_;     // learned denoiser only: hex xxh3-128 of the model's content
  std::string denoiser_note_;  // learned denoiser only: a line of the report
  Eigen::MatrixXd noise_;      // d x N starting noises
  double noise_floor_ = 0;
  double reference_loglik_ = 0;
  std::vector<double> reference_mass_;  // share of exact samples most likely under each component
  std::vector<std::vector<int>> baselines_;

  mutable std::mutex report_mutex_;
  mutable std::optional<std::string> baseline_table_;
};

}  // namespace evolv
