#include "evaluators/diffusion/diffusion_problem.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "evaluators/common/cuda_devices.h"
#include "evaluators/common/png_image.h"
#include "evaluators/diffusion/device_network.h"
#include "evaluators/diffusion/eigen_blocking.h"
#include "evaluators/diffusion/learned_denoiser.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "search/strategy.h"

namespace evolv {
namespace {

constexpr int T = kDiffusionTimeSteps;
constexpr int kMinSamples = 10;

absl::Status FieldError(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("diffusion.", field, ": ", reason));
}

v1::Evaluation Fail(v1::EvaluationStatus status, const std::string& error) {
  return UnscoredEvaluation(status, error, 2);
}

std::optional<v1::DiffusionSchedule> ScheduleOf(const v1::Candidate& candidate) {
  v1::DiffusionSchedule schedule;
  if (!UnpackCandidate(candidate, &schedule)) return std::nullopt;
  return schedule;
}

const char* SamplerName(SamplerKind kind) {
  return kind == SamplerKind::kDdim ? "DDIM" : "DPM-Solver++(2M)";
}

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  {
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&out);
  }
  return bytes;
}

// The distinct steps of `schedule`, ascending, when it has min..max of them in [0, T).
absl::StatusOr<std::vector<int>> ScheduleSteps(const v1::DiffusionSchedule& schedule, int min_steps,
                                               int max_steps, const std::string& field) {
  const int n = schedule.steps_size();
  if (n < min_steps || n > max_steps) {
    return absl::InvalidArgumentError(
        min_steps == max_steps
            ? absl::StrCat(field, ": has ", n, " steps; K is ", max_steps)
            : absl::StrCat(field, ": has ", n, " steps; the joint search allows ", min_steps, "..",
                           max_steps));
  }
  std::vector<int> steps;
  steps.reserve(n);
  for (uint32_t t : schedule.steps()) {
    if (t >= static_cast<uint32_t>(T)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": step ", t, " is outside [0, ", T, ")"));
    }
    steps.push_back(static_cast<int>(t));
  }
  std::sort(steps.begin(), steps.end());
  const auto repeated = std::adjacent_find(steps.begin(), steps.end());
  if (repeated != steps.end()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": duplicate step ", *repeated));
  }
  return steps;
}

// The lexicographically best OK entry of `history` (nullptr when none); counts OK entries.
const v1::HistoryEntry* BestEntry(const std::vector<v1::HistoryEntry>& history, size_t* ok) {
  const v1::HistoryEntry* best = nullptr;
  *ok = 0;
  for (const v1::HistoryEntry& entry : history) {
    if (entry.evaluation().status() != v1::OK) continue;
    ++*ok;
    if (best == nullptr || LexicographicallyBetter(entry.evaluation(), best->evaluation())) {
      best = &entry;
    }
  }
  return best;
}

bool SkipsAny(const StepPlan& plan) {
  for (const auto& blocks : plan.skipped) {
    if (!blocks.empty()) return true;
  }
  return false;
}

std::string StepSet(const std::vector<int>& steps) {
  if (steps.size() > 12) {
    return absl::StrFormat("{%d, %d, ..., %d} (%d steps)", steps[0], steps[1], steps.back(),
                           steps.size());
  }
  return "{" + absl::StrJoin(steps, ", ") + "}";
}

// Checks the skipped blocks of `schedule` against its `steps` and a denoiser with `blocks`
// blocks: InvalidArgument "<field>.skipped[i]...: ..." for a step not in `steps`, a step listed
// twice, a repeated block or a block the denoiser does not have.
absl::Status CheckSkipped(const v1::DiffusionSchedule& schedule, const std::vector<int>& steps,
                          int blocks, const std::string& field) {
  std::vector<uint32_t> listed;
  for (int i = 0; i < schedule.skipped_size(); ++i) {
    const v1::SkippedBlocks& s = schedule.skipped(i);
    const std::string at = absl::StrCat(field, ".skipped[", i, "]");
    if (!std::binary_search(steps.begin(), steps.end(), static_cast<int>(s.step()))) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".step: ", s.step(), " is not one of the schedule's steps"));
    }
    if (std::find(listed.begin(), listed.end(), s.step()) != listed.end()) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".step: ", s.step(), " is listed twice"));
    }
    listed.push_back(s.step());
    std::vector<uint32_t> seen;
    for (uint32_t b : s.blocks()) {
      if (static_cast<int64_t>(b) >= blocks) {
        return absl::InvalidArgumentError(
            blocks == 0 ? absl::StrCat(at, ".blocks: the exact denoiser has no blocks")
                        : absl::StrCat(at, ".blocks: block ", b, " is outside 0..", blocks - 1));
      }
      if (std::find(seen.begin(), seen.end(), b) != seen.end()) {
        return absl::InvalidArgumentError(absl::StrCat(at, ".blocks: block ", b, " is repeated"));
      }
      seen.push_back(b);
    }
  }
  return absl::OkStatus();
}

}  // namespace

v1::Candidate DiffusionCandidate(const std::vector<int>& steps) {
  v1::DiffusionSchedule schedule;
  for (int t : steps) schedule.add_steps(static_cast<uint32_t>(t));
  return PackCandidate(schedule);
}

v1::Candidate DiffusionCandidate(const StepPlan& plan) {
  v1::DiffusionSchedule schedule;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    schedule.add_steps(static_cast<uint32_t>(plan.steps[i]));
    if (plan.skipped[i].empty()) continue;
    v1::SkippedBlocks* skipped = schedule.add_skipped();
    skipped->set_step(static_cast<uint32_t>(plan.steps[i]));
    for (int b : plan.skipped[i]) skipped->add_blocks(static_cast<uint32_t>(b));
  }
  return PackCandidate(schedule);
}

absl::StatusOr<std::vector<int>> CanonicalSteps(const v1::DiffusionSchedule& schedule, int k,
                                                const std::string& field) {
  return ScheduleSteps(schedule, k, k, field);
}

absl::StatusOr<std::unique_ptr<Problem>> CreateDiffusionProblem(const v1::DiffusionSpec& s) {
  PinEigenBlocking();  // before any product: the same results on every machine
  auto problem = std::unique_ptr<DiffusionProblem>(new DiffusionProblem);
  v1::DiffusionSpec& spec = problem->spec_;
  spec = s;
  if (s.steps() == 0) return FieldError("steps", absl::StrCat("required: K in 1..", T));
  if (s.steps() > static_cast<uint32_t>(T)) {
    return FieldError("steps", absl::StrCat(s.steps(), " exceeds T = ", T));
  }
  problem->k_ = static_cast<int>(s.steps());
  if (!v1::DiffusionSpec::Schedule_IsValid(s.schedule())) {
    return FieldError("schedule", "unknown value");
  }
  if (spec.schedule() == v1::DiffusionSpec::SCHEDULE_UNSPECIFIED) {
    spec.set_schedule(v1::DiffusionSpec::COSINE);
  }
  if (!v1::DiffusionSpec::Sampler_IsValid(s.sampler())) {
    return FieldError("sampler", "unknown value");
  }
  if (spec.sampler() == v1::DiffusionSpec::SAMPLER_UNSPECIFIED) {
    spec.set_sampler(v1::DiffusionSpec::DDIM);
  }
  problem->sampler_ = spec.sampler() == v1::DiffusionSpec::DPM_SOLVER_PP_2M
                          ? SamplerKind::kDpmSolverPp2M
                          : SamplerKind::kDdim;
  if (s.samples() > static_cast<uint32_t>(kMaxDiffusionSamples)) {
    return FieldError("samples",
                      absl::StrCat(s.samples(), " exceeds the limit ", kMaxDiffusionSamples));
  }
  if (s.samples() != 0 && s.samples() < static_cast<uint32_t>(kMinSamples)) {
    return FieldError("samples", absl::StrCat(s.samples(), " is below the minimum ", kMinSamples));
  }
  const int n = s.samples() ? static_cast<int>(s.samples()) : kDefaultDiffusionSamples;
  spec.set_samples(n);

  // The data: a mixture, or images whose class Gaussians serve the mode-sensitive metrics.
  std::unique_ptr<ImageData> images;
  if (s.has_images()) {
    if (s.has_mixture()) {
      return FieldError("images", "give either diffusion.mixture or diffusion.images, not both");
    }
    if (!s.has_denoiser()) {
      return FieldError("denoiser",
                        "required with diffusion.images: images have no exact denoiser "
                        "(evolv train-denoiser SPEC trains one)");
    }
    absl::StatusOr<std::unique_ptr<ImageData>> read = ImageData::FromSpec(s.images());
    if (!read.ok()) return read.status();
    images = *std::move(read);
    *spec.mutable_images() = images->spec();
  }
  absl::StatusOr<GaussianMixture> mixture =
      images ? absl::StatusOr<GaussianMixture>(images->classes())
             : GaussianMixture::FromSpec(s.mixture());
  if (!mixture.ok()) return mixture.status();
  const int d = mixture->dimension();
  const int components = static_cast<int>(mixture->components().size());
  if (static_cast<int64_t>(n) * d > kMaxDiffusionSampleValues) {
    return FieldError("samples", absl::StrCat("N * d = ", n, " * ", d, " exceeds the limit ",
                                              kMaxDiffusionSampleValues));
  }
  std::optional<v1::DenoiserModel> model;
  if (s.has_denoiser()) {
    if (absl::Status status = ValidateDenoiserSpec(s.denoiser(), d, true); !status.ok()) {
      return status;
    }
    absl::StatusOr<v1::DenoiserModel> read =
        ReadDenoiserModel(s.denoiser().model(), "diffusion.denoiser.model");
    if (!read.ok()) return read.status();
    if (absl::Status status = CheckModelMatchesSpec(*read, s.denoiser().model(), spec,
                                                    images ? nullptr : &*mixture, images.get());
        !status.ok()) {
      return status;
    }
    model = *std::move(read);
    const std::string bytes = DeterministicBytes(*model);
    const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
    problem->model_hash_ = absl::StrFormat("%016x%016x", h.high64, h.low64);
    problem->denoiser_note_ = absl::StrFormat(
        "learned residual MLP, %d blocks of width %d, from '%s' (content %s; held-out loss "
        "%.4f -> %.4f in training)",
        model->blocks(), model->width(), s.denoiser().model(), problem->model_hash_.substr(0, 12),
        model->initial_loss(), model->final_loss());
  }
  const double per_sample = model ? static_cast<double>(model->parameters_size())
                                  : static_cast<double>(components) * d * d;
  const double cost = n * per_sample * std::max(problem->k_, kReferenceSteps);
  if (cost > kMaxDiffusionCost) {
    return FieldError(
        "samples",
        absl::StrFormat("the evaluation cost N * %s * max(K, 100) = %.3g exceeds the limit 2^40; "
                        "use fewer samples, %s",
                        model ? "P" : "C * d^2", cost,
                        model ? "a smaller network or fewer steps" : "components or dimensions"));
  }
  const int blocks = model ? static_cast<int>(model->blocks()) : 0;
  problem->limits_ = {blocks, problem->k_, problem->k_, int64_t{problem->k_} * blocks};
  problem->first_steps_ = problem->k_;
  if (s.has_joint()) {
    if (!model) {
      return FieldError("joint",
                        "the joint search needs a denoiser with blocks "
                        "(diffusion.denoiser); the exact denoiser has none");
    }
    const int64_t budget = s.joint().block_budget();
    const int64_t most = int64_t{problem->k_} * blocks;
    if (budget == 0) {
      return FieldError(
          "joint.block_budget",
          absl::StrCat("required: the block evaluations per sample, ", blocks, "..", most));
    }
    if (budget < blocks) {
      return FieldError("joint.block_budget",
                        absl::StrCat(budget, " is below one unskipped step, ", blocks, " blocks"));
    }
    if (budget > most) {
      return FieldError("joint.block_budget",
                        absl::StrCat(budget, " exceeds steps * blocks = ", most));
    }
    problem->joint_ = true;
    problem->limits_ = {blocks, 1, problem->k_, budget};
    problem->first_steps_ = static_cast<int>(budget / blocks);
  }
  if (s.baselines_size() > kMaxDiffusionBaselines) {
    return FieldError("baselines", absl::StrCat(s.baselines_size(), " exceed the limit ",
                                                kMaxDiffusionBaselines));
  }
  for (int i = 0; i < s.baselines_size(); ++i) {
    const std::string field = absl::StrCat("diffusion.baselines[", i, "]");
    auto steps = CanonicalSteps(s.baselines(i), problem->k_, field + ".steps");
    if (!steps.ok()) return steps.status();
    if (s.baselines(i).skipped_size() > 0) {
      return absl::InvalidArgumentError(field + ".skipped: baselines skip no blocks");
    }
    problem->baselines_.push_back(*std::move(steps));
  }

  problem->mixture_ = std::make_unique<GaussianMixture>(*std::move(mixture));
  if (model) {
    auto learned = std::make_unique<LearnedDenoiser>(*model);
    problem->learned_ = learned.get();
    problem->device_networks_ = std::make_unique<DeviceNetworks>(learned->network());
    problem->denoiser_ = std::move(learned);
  } else {
    problem->denoiser_ = std::make_unique<ExactMixtureDenoiser>(*problem->mixture_);
  }
  problem->moments_ = images ? std::make_unique<ExactMoments>(images->feature_moments())
                             : std::make_unique<ExactMoments>(problem->mixture_->Mean(),
                                                              problem->mixture_->Covariance());
  problem->images_ = std::move(images);
  problem->alpha_bars_ =
      AlphaBars(spec.schedule() == v1::DiffusionSpec::LINEAR ? NoiseScheduleKind::kLinear
                                                             : NoiseScheduleKind::kCosine);
  Rng noise_rng(Mix64(s.noise_seed() ^ 0x6e6f697365ULL));
  problem->noise_.resize(d, n);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < d; ++i) problem->noise_(i, j) = noise_rng.Normal();
  }
  // The reference: N exact samples (N training images), scored as a candidate's samples are.
  Rng reference_rng(Mix64(s.noise_seed() ^ 0x7265666572656eULL));
  const Eigen::MatrixXd exact = problem->images_ ? problem->images_->Sample(n, reference_rng)
                                                 : problem->mixture_->Sample(n, reference_rng);
  problem->noise_floor_ = problem->moments_->FrechetDistance(problem->ScoredFeatures(exact));
  problem->reference_mass_.assign(components, 0.0);
  std::vector<int> most_likely;
  problem->reference_loglik_ = problem->mixture_->LogDensity(exact, &most_likely).mean();
  for (int c : most_likely) problem->reference_mass_[c] += 1.0 / n;
  return std::unique_ptr<Problem>(std::move(problem));
}

v1::DiffusionSpec DiffusionExampleSpec() {
  v1::DiffusionSpec spec;
  spec.mutable_mixture()->set_dimension(16);
  spec.mutable_mixture()->set_components(8);
  spec.mutable_mixture()->set_seed(1);
  spec.set_schedule(v1::DiffusionSpec::COSINE);
  spec.set_steps(4);
  return spec;
}

std::string DiffusionProblem::CanonicalSpec() const {
  // What an evaluation depends on; K, the baselines and the joint budget only decide feasibility
  // and the report. A learned denoiser is its model file's content, not its path or how it was
  // trained.
  v1::DiffusionSpec canonical = spec_;
  canonical.clear_steps();
  canonical.clear_baselines();
  canonical.clear_joint();
  canonical.clear_denoiser();
  // Images are their files' content (the fingerprint), not their directory.
  if (images_) canonical.mutable_images()->clear_directory();
  const std::string bytes = DeterministicBytes(canonical);
  if (model_hash_.empty()) return "exact-mixture|" + bytes;
  std::string out = "learned-mlp|" + bytes + "|model " + model_hash_;
  if (images_) out += "|data " + images_->fingerprint();
  return out;
}

std::vector<v1::ObjectiveDisplay> DiffusionProblem::ObjectiveDisplays() const {
  std::vector<v1::ObjectiveDisplay> displays(2);
  displays[0].set_name("fd");
  displays[0].set_label(images_ ? "feature FD" : "FD");
  displays[1].set_name("loglik_gap");
  displays[1].set_label("log-lik. gap");
  displays[1].set_unit("nats");
  return displays;
}

std::optional<std::vector<int>> DiffusionProblem::StepsOf(const v1::Candidate& candidate) const {
  const std::optional<v1::DiffusionSchedule> schedule = ScheduleOf(candidate);
  if (!schedule) return std::nullopt;
  auto steps = ScheduleSteps(*schedule, limits_.min_steps, limits_.max_steps, "diffusion.steps");
  if (!steps.ok()) return std::nullopt;
  return *std::move(steps);
}

std::optional<StepPlan> DiffusionProblem::PlanOf(const v1::Candidate& candidate) const {
  const std::optional<v1::DiffusionSchedule> schedule = ScheduleOf(candidate);
  if (!schedule) return std::nullopt;
  auto steps = ScheduleSteps(*schedule, limits_.min_steps, limits_.max_steps, "diffusion.steps");
  if (!steps.ok()) return std::nullopt;
  if (!CheckSkipped(*schedule, *steps, limits_.blocks, "diffusion").ok()) return std::nullopt;
  StepPlan plan;
  plan.steps = *std::move(steps);
  plan.skipped.resize(plan.steps.size());
  for (const v1::SkippedBlocks& s : schedule->skipped()) {
    const size_t i =
        std::lower_bound(plan.steps.begin(), plan.steps.end(), static_cast<int>(s.step())) -
        plan.steps.begin();
    plan.skipped[i].assign(s.blocks().begin(), s.blocks().end());
    std::sort(plan.skipped[i].begin(), plan.skipped[i].end());
  }
  return plan;
}

bool DiffusionProblem::SkipsBlocks(const v1::Candidate& candidate) {
  const std::optional<v1::DiffusionSchedule> schedule = ScheduleOf(candidate);
  if (!schedule) return false;
  for (const v1::SkippedBlocks& s : schedule->skipped()) {
    if (s.blocks_size() > 0) return true;
  }
  return false;
}

v1::Candidate DiffusionProblem::Random(Rng& rng) const {
  // Steps only: K steps, or with `joint` the whole steps that fit the budget.
  std::vector<int> steps;
  steps.reserve(first_steps_);
  for (int i = 0; i < first_steps_; ++i) {
    const int t = UnusedStep(steps, rng);
    steps.insert(std::upper_bound(steps.begin(), steps.end(), t), t);
  }
  return DiffusionCandidate(steps);
}

std::optional<v1::Candidate> DiffusionProblem::RandomAt(const GenerationInfo& generation,
                                                        Rng& rng) const {
  const int skip_limit = SkipLimit(generation.allowance, limits_.blocks);
  if (skip_limit == 0) return std::nullopt;
  return DiffusionCandidate(RandomPlan(limits_, skip_limit, rng));
}

v1::Candidate DiffusionProblem::MutateGenes(const v1::Candidate& parent, double rate,
                                            const GenerationInfo& generation, Rng& rng) const {
  const int skip_limit = SkipLimit(generation.allowance, limits_.blocks);
  if (joint_ || skip_limit > 0 || SkipsBlocks(parent)) {
    const std::optional<StepPlan> plan = PlanOf(parent);
    if (!plan) return Random(rng);
    return DiffusionCandidate(MutatePlan(*plan, limits_, skip_limit, rate, rng));
  }
  std::optional<std::vector<int>> parsed = StepsOf(parent);
  if (!parsed || k_ >= T) return parsed ? parent : Random(rng);
  std::vector<int> steps = *std::move(parsed);
  std::vector<int> genes = steps;
  for (int& gene : genes) {
    if (!rng.Bernoulli(rate)) continue;
    const int t = UnusedStep(steps, rng);  // unused by the child as it stands
    steps.erase(std::lower_bound(steps.begin(), steps.end(), gene));
    steps.insert(std::upper_bound(steps.begin(), steps.end(), t), t);
    gene = t;
  }
  return DiffusionCandidate(steps);
}

v1::Candidate DiffusionProblem::Mutate(const v1::Candidate& parent, Rng& rng) const {
  if (joint_ || SkipsBlocks(parent)) {
    // One step replaced by an unused one, which keeps the replaced step's skipped blocks.
    std::optional<StepPlan> plan = PlanOf(parent);
    if (!plan || plan->steps.size() >= static_cast<size_t>(T)) return plan ? parent : Random(rng);
    const int t = UnusedStep(plan->steps, rng);
    const size_t i = rng.Below(plan->steps.size());
    StepPlan child;
    for (size_t j = 0; j < plan->steps.size(); ++j) {
      const int step = j == i ? t : plan->steps[j];
      const auto at = std::upper_bound(child.steps.begin(), child.steps.end(), step);
      child.skipped.insert(child.skipped.begin() + (at - child.steps.begin()), plan->skipped[j]);
      child.steps.insert(at, step);
    }
    return DiffusionCandidate(child);
  }
  std::optional<std::vector<int>> parsed = StepsOf(parent);
  if (!parsed || k_ >= T) return parsed ? parent : Random(rng);
  std::vector<int> steps = *std::move(parsed);
  const int t = UnusedStep(steps, rng);
  steps.erase(steps.begin() + rng.Below(steps.size()));
  steps.insert(std::upper_bound(steps.begin(), steps.end(), t), t);
  return DiffusionCandidate(steps);
}

std::optional<v1::Candidate> DiffusionProblem::Crossover(const v1::Candidate& a,
                                                         const v1::Candidate& b, Rng& rng) const {
  if (joint_ || SkipsBlocks(a) || SkipsBlocks(b)) {
    const std::optional<StepPlan> x = PlanOf(a), y = PlanOf(b);
    if (!x || !y) return std::nullopt;
    return DiffusionCandidate(CrossPlans(*x, *y, limits_, rng));
  }
  const std::optional<std::vector<int>> x = StepsOf(a), y = StepsOf(b);
  if (!x || !y) return std::nullopt;
  std::vector<int> child(k_);
  for (int i = 0; i < k_; ++i) child[i] = rng.Bernoulli(0.5) ? (*x)[i] : (*y)[i];
  std::sort(child.begin(), child.end());
  child.erase(std::unique(child.begin(), child.end()), child.end());
  if (static_cast<int>(child.size()) < k_) {
    // Steps of either parent the child lacks; |x u y| >= K, so there are enough.
    std::vector<int> spare;
    std::vector<int> either;
    std::set_union(x->begin(), x->end(), y->begin(), y->end(), std::back_inserter(either));
    std::set_difference(either.begin(), either.end(), child.begin(), child.end(),
                        std::back_inserter(spare));
    while (static_cast<int>(child.size()) < k_) {
      const size_t pick = rng.Below(spare.size());
      child.insert(std::upper_bound(child.begin(), child.end(), spare[pick]), spare[pick]);
      spare.erase(spare.begin() + pick);
    }
  }
  return DiffusionCandidate(child);
}

ProbeBytes DiffusionProblem::Probe(const v1::Candidate& candidate) const {
  const std::optional<v1::DiffusionSchedule> schedule = ScheduleOf(candidate);
  if (!schedule) return "not a schedule";
  std::vector<uint32_t> steps(schedule->steps().begin(), schedule->steps().end());
  std::sort(steps.begin(), steps.end());
  std::string bytes = "steps";
  for (uint32_t t : steps) bytes.append(reinterpret_cast<const char*>(&t), sizeof(t));
  // Skipped blocks by step, blocks sorted: order-free like the steps.
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> skipped;
  for (const v1::SkippedBlocks& s : schedule->skipped()) {
    if (s.blocks_size() == 0) continue;
    std::vector<uint32_t> blocks(s.blocks().begin(), s.blocks().end());
    std::sort(blocks.begin(), blocks.end());
    skipped.emplace_back(s.step(), std::move(blocks));
  }
  std::sort(skipped.begin(), skipped.end());
  for (const auto& [step, blocks] : skipped) {
    bytes += "|skip";
    bytes.append(reinterpret_cast<const char*>(&step), sizeof(step));
    for (uint32_t b : blocks) bytes.append(reinterpret_cast<const char*>(&b), sizeof(b));
  }
  return bytes;
}

std::optional<v1::Evaluation> DiffusionProblem::CheckFeasible(
    const v1::Candidate& candidate) const {
  const std::optional<v1::DiffusionSchedule> schedule = ScheduleOf(candidate);
  if (!schedule) return std::nullopt;  // Evaluate reports it as FAILED
  auto steps = ScheduleSteps(*schedule, limits_.min_steps, limits_.max_steps, "diffusion.steps");
  if (!steps.ok()) return Fail(v1::INFEASIBLE, std::string(steps.status().message()));
  const absl::Status skipped = CheckSkipped(*schedule, *steps, denoiser_->NumBlocks(), "diffusion");
  if (!skipped.ok()) return Fail(v1::INFEASIBLE, std::string(skipped.message()));
  if (joint_) {
    int64_t cost = static_cast<int64_t>(steps->size()) * limits_.blocks;
    for (const v1::SkippedBlocks& s : schedule->skipped()) cost -= s.blocks_size();
    if (cost > limits_.budget) {
      return Fail(v1::INFEASIBLE,
                  absl::StrCat("diffusion.joint.block_budget: the schedule evaluates ", cost,
                               " blocks per sample; the budget is ", limits_.budget));
    }
  }
  return std::nullopt;
}

ScheduleScore DiffusionProblem::Score(const std::vector<int>& steps, SamplerKind sampler) const {
  return Score(StepPlan{steps, std::vector<std::vector<int>>(steps.size())}, sampler);
}

ScheduleScore DiffusionProblem::Score(const StepPlan& steps, SamplerKind sampler) const {
  return Score(steps, sampler, *denoiser_);
}

ScheduleScore DiffusionProblem::Score(const StepPlan& steps, SamplerKind sampler,
                                      const Denoiser& denoiser) const {
  std::vector<SamplerStep> plan;
  plan.reserve(steps.steps.size());
  for (size_t i = 0; i < steps.steps.size(); ++i) {
    plan.push_back({steps.steps[i], steps.skipped[i]});
  }
  const Eigen::MatrixXd samples = RunSampler(denoiser, alpha_bars_, plan, sampler, noise_);
  ScheduleScore score;
  score.fd = moments_->FrechetDistance(ScoredFeatures(samples));
  if (!std::isfinite(score.fd)) {
    score.loglik = -std::numeric_limits<double>::infinity();
    score.loglik_gap = score.mass_error = std::numeric_limits<double>::infinity();
    return score;
  }
  std::vector<int> most_likely;
  score.loglik = mixture_->LogDensity(samples, &most_likely).mean();
  score.loglik_gap = std::abs(score.loglik - reference_loglik_);
  std::vector<double> mass(reference_mass_.size(), 0.0);
  for (int c : most_likely) mass[c] += 1.0 / samples.cols();
  for (size_t c = 0; c < mass.size(); ++c) {
    score.mass_error += 0.5 * std::abs(mass[c] - reference_mass_[c]);
  }
  return score;
}

v1::Evaluation DiffusionProblem::Evaluate(const v1::Candidate& candidate,
                                          const EvalContext& context) const {
  const std::optional<v1::DiffusionSchedule> schedule = ScheduleOf(candidate);
  if (!schedule) return Fail(v1::FAILED, "candidate holds no diffusion schedule");
  if (std::optional<v1::Evaluation> infeasible = CheckFeasible(candidate)) return *infeasible;
  const StepPlan plan = *PlanOf(candidate);
  const std::vector<int>& steps = plan.steps;
  // On a worker's CUDA device, every call of the learned network runs there until one fails;
  // the rest of the evaluation then runs on the CPU.
  bool on_device = false;
  ScheduleScore score;
  if (learned_ != nullptr && context.cuda_device >= 0) {
    on_device = true;
    std::string why_not;
    const NetworkDenoiser device_denoiser(
        *learned_, [&](const Eigen::MatrixXf& input, const std::vector<bool>& skipped) {
          Eigen::MatrixXf out;
          if (on_device &&
              device_networks_->Forward(context.cuda_device, input, skipped, &out, &why_not)) {
            return out;
          }
          on_device = false;
          return learned_->network().Forward(input, skipped, nullptr);
        });
    score = Score(plan, sampler_, device_denoiser);
    if (!on_device) SayNotOnDevice("diffusion", "the denoiser", context.cuda_device, why_not);
  } else {
    score = Score(plan, sampler_);
  }
  if (!std::isfinite(score.fd)) return Fail(v1::FAILED, "the sampler produced non-finite samples");
  v1::Evaluation e;
  e.set_status(v1::OK);
  e.add_objectives(score.fd);
  e.add_objectives(score.loglik_gap);
  auto& m = *e.mutable_metrics();
  m["fd"] = score.fd;
  m["loglik"] = score.loglik;
  m["loglik_gap"] = score.loglik_gap;
  m["mass_error"] = score.mass_error;
  m["noise_floor"] = noise_floor_;
  m["first_step"] = steps.back();
  m["last_step"] = steps.front();
  if (limits_.blocks > 0) {
    m["block_evaluations"] = static_cast<double>(BlockEvaluations(plan, limits_.blocks));
  }
  if (learned_ != nullptr) m["denoiser_on_device"] = on_device ? 1 : 0;
  return e;
}

Problem::HitDifference DiffusionProblem::CompareHit(const v1::Evaluation& cached,
                                                    const v1::Evaluation& fresh) const {
  if (learned_ == nullptr) return Problem::CompareHit(cached, fresh);
  return CompareObjectives(cached, fresh, kDeviceHitTolerance, {noise_floor_, 1.0});
}

std::string DiffusionProblem::Render(const v1::Candidate& candidate, RenderFormat format) const {
  const std::optional<v1::DiffusionSchedule> schedule = ScheduleOf(candidate);
  if (!schedule) return "not a diffusion schedule";
  std::vector<int> steps(schedule->steps().begin(), schedule->steps().end());
  std::sort(steps.begin(), steps.end());
  std::vector<std::string> skips;
  for (const v1::SkippedBlocks& s : schedule->skipped()) {
    if (s.blocks_size() == 0) continue;
    skips.push_back(format == RenderFormat::kJson
                        ? absl::StrFormat("{\"step\": %d, \"blocks\": [%s]}", s.step(),
                                          absl::StrJoin(s.blocks(), ", "))
                        : absl::StrFormat("%d: {%s}", s.step(), absl::StrJoin(s.blocks(), ", ")));
  }
  if (format == RenderFormat::kJson) {
    std::string out = "{\"steps\": [" + absl::StrJoin(steps, ", ") + "]";
    if (!skips.empty()) out += ", \"skipped\": [" + absl::StrJoin(skips, ", ") + "]";
    return out + "}";
  }
  std::string out = "{" + absl::StrJoin(steps, ", ") + "}";
  if (!skips.empty()) out += " skipping " + absl::StrJoin(skips, "; ");
  return out;
}

std::vector<v1::Candidate> DiffusionProblem::Seeds() const {
  std::vector<v1::Candidate> seeds = {DiffusionCandidate(UniformSteps(first_steps_))};
  if (int64_t{k_} * limits_.blocks > limits_.budget) return seeds;  // baselines over the budget
  for (const auto& steps : baselines_) seeds.push_back(DiffusionCandidate(steps));
  return seeds;
}

std::string DiffusionProblem::BaselineTable() const {
  std::lock_guard<std::mutex> lock(report_mutex_);
  if (baseline_table_) return *baseline_table_;
  std::vector<std::pair<std::string, std::vector<int>>> rows = {
      {absl::StrCat("uniform (ddim", k_, ")"), UniformSteps(k_)},
      {"trailing (linspace 0..999)", TrailingSteps(k_)},
      {"quadratic", QuadraticSteps(k_)},
  };
  for (size_t i = 0; i < baselines_.size(); ++i) {
    rows.push_back({absl::StrCat("baselines[", i, "]"), baselines_[i]});
  }
  if (first_steps_ != k_) {
    rows.push_back(
        {absl::StrCat("uniform, ", first_steps_, " steps (budget)"), UniformSteps(first_steps_)});
  }
  rows.push_back({absl::StrCat(kReferenceSteps, "-step reference"), UniformSteps(kReferenceSteps)});
  std::string table;
  for (const auto& [name, steps] : rows) {
    const ScheduleScore ddim = Score(steps, SamplerKind::kDdim);
    const ScheduleScore dpm = Score(steps, SamplerKind::kDpmSolverPp2M);
    absl::StrAppendFormat(&table, "  %-28s %10.4f %10.4f %12.4f %10.4f   %s\n", name, ddim.fd,
                          ddim.loglik_gap, dpm.fd, dpm.loglik_gap, StepSet(steps));
  }
  baseline_table_ = table;
  return table;
}

Eigen::MatrixXd DiffusionProblem::ScoredFeatures(const Eigen::MatrixXd& samples) const {
  return images_ ? images_->Features(samples) : samples;
}

std::string DiffusionProblem::DataLine() const {
  if (images_) {
    const v1::ImageDataSpec& s = images_->spec();
    return absl::StrFormat(
        "images from '%s': %d training images of %d x %d on %d principal components (%.1f %% of "
        "the variance); FD on %d random features against %d test images; likelihood and mass "
        "under %d class Gaussians",
        s.directory(), images_->train_images(), images_->rows(), images_->cols(),
        images_->dimension(), 100 * images_->variance_kept(), s.features(),
        images_->test_images(), mixture_->components().size());
  }
  return absl::StrFormat("Gaussian mixture, d %d, %d components (seed %d)", mixture_->dimension(),
                         mixture_->components().size(), spec_.mixture().seed());
}

std::string DiffusionProblem::Report(const std::vector<v1::HistoryEntry>& history) const {
  std::string out = absl::StrFormat(
      "diffusion: %s; %s schedule, T %d; K %d; N %d fixed noises (seed %d); search sampler %s\n",
      DataLine(), spec_.schedule() == v1::DiffusionSpec::LINEAR ? "linear" : "cosine", T, k_,
      spec_.samples(), spec_.noise_seed(), SamplerName(sampler_));
  if (!denoiser_note_.empty()) out += "denoiser: " + denoiser_note_ + "\n";
  if (joint_) {
    absl::StrAppendFormat(&out,
                          "joint search: at most %d block evaluations per sample (K x blocks = "
                          "%d); steps-only candidates have %d steps\n",
                          limits_.budget, k_ * limits_.blocks, first_steps_);
  }
  absl::StrAppendFormat(&out,
                        "noise floor (FD of N %s): %.4f; their mean log-likelihood: %.4f\n",
                        images_ ? "training images" : "exact samples",
                        noise_floor_, reference_loglik_);
  size_t ok = 0;
  const v1::HistoryEntry* best = BestEntry(history, &ok);
  absl::StrAppendFormat(&out, "results: %d, %d OK\n\n", history.size(), ok);
  absl::StrAppendFormat(&out, "  %-28s %10s %10s %12s %10s   %s\n", "schedule", "DDIM FD", "LL gap",
                        "DPM++2M FD", "LL gap", "steps");
  out += BaselineTable();
  if (best == nullptr) return out + "no searched schedule yet\n";
  const std::optional<StepPlan> plan = PlanOf(best->candidate());
  if (!plan) return out;
  const ScheduleScore ddim = Score(*plan, SamplerKind::kDdim);
  const ScheduleScore dpm = Score(*plan, SamplerKind::kDpmSolverPp2M);
  std::string steps = StepSet(plan->steps);
  if (limits_.blocks > 0) {
    int skipped = 0;
    for (const auto& blocks : plan->skipped) skipped += static_cast<int>(blocks.size());
    absl::StrAppendFormat(&steps, ", %d blocks skipped, %d block evaluations", skipped,
                          BlockEvaluations(*plan, limits_.blocks));
  }
  absl::StrAppendFormat(&out, "  %-28s %10.4f %10.4f %12.4f %10.4f   %s\n",
                        absl::StrCat("searched (result ", best->index(), ")"), ddim.fd,
                        ddim.loglik_gap, dpm.fd, dpm.loglik_gap, steps);
  if (SkipsAny(*plan)) {
    out += "  skipped blocks: " + Render(best->candidate(), RenderFormat::kText) + "\n";
  }
  const ScheduleScore uniform = Score(UniformSteps(first_steps_), sampler_);
  const ScheduleScore& searched = sampler_ == SamplerKind::kDdim ? ddim : dpm;
  absl::StrAppendFormat(
      &out, "\nsearched / uniform%s with %s: FD %.3fx (%.4f vs %.4f)\n",
      joint_ ? absl::StrCat(" of ", first_steps_, " steps (what the budget holds)") : std::string(),
      SamplerName(sampler_), searched.fd / uniform.fd, searched.fd, uniform.fd);
  return out;
}

std::optional<Figure> DiffusionProblem::ImageGrid(const Eigen::MatrixXd& samples,
                                                  const std::string& name,
                                                  const std::string& caption) const {
  const int tiles = static_cast<int>(std::min<Eigen::Index>(samples.cols(), kFigureTiles));
  const int side = kFigureGridSide;
  const int scale = kFigureScale;
  std::vector<Image> images;
  images.reserve(tiles);
  for (int j = 0; j < tiles; ++j) {
    const std::vector<uint8_t> pixels = images_->Image(samples, j);
    Image tile;
    tile.width = images_->cols() * scale;
    tile.height = images_->rows() * scale;
    tile.pixels.resize(static_cast<size_t>(tile.width) * tile.height);
    for (int y = 0; y < tile.height; ++y) {
      for (int x = 0; x < tile.width; ++x) {
        tile.pixels[static_cast<size_t>(y) * tile.width + x] =
            pixels[static_cast<size_t>(y / scale) * images_->cols() + x / scale];
      }
    }
    images.push_back(std::move(tile));
  }
  absl::StatusOr<Image> grid = TileImages(images, side, side, 2, 128);
  if (!grid.ok()) return std::nullopt;
  absl::StatusOr<std::string> png = EncodePng(*grid);
  if (!png.ok()) return std::nullopt;
  return Figure{name, caption, *std::move(png)};
}

std::vector<Figure> DiffusionProblem::Figures(const std::vector<v1::HistoryEntry>& history) const {
  if (!images_) return {};
  // The same first noises for every grid, so that tiles at one place can be compared.
  const Eigen::MatrixXd noise = noise_.leftCols(std::min<Eigen::Index>(noise_.cols(), kFigureTiles));
  auto run = [&](const StepPlan& plan) {
    std::vector<SamplerStep> steps;
    for (size_t i = 0; i < plan.steps.size(); ++i) steps.push_back({plan.steps[i], plan.skipped[i]});
    return RunSampler(*denoiser_, alpha_bars_, steps, sampler_, noise);
  };
  auto plain = [](const std::vector<int>& steps) {
    return StepPlan{steps, std::vector<std::vector<int>>(steps.size())};
  };
  std::vector<Figure> figures;
  auto add = [&figures](std::optional<Figure> figure) {
    if (figure) figures.push_back(*std::move(figure));
  };
  Rng rng(Mix64(spec_.noise_seed() ^ 0x66696775726573ULL));
  add(ImageGrid(images_->Sample(kFigureTiles, rng), "data.png",
                absl::StrFormat("training images, projected on %d principal components",
                                images_->dimension())));
  const std::vector<int> uniform = UniformSteps(first_steps_);
  add(ImageGrid(run(plain(uniform)), "samples-uniform.png",
                absl::StrFormat("uniform %s, %s, from the first %d fixed noises", StepSet(uniform),
                                SamplerName(sampler_), noise.cols())));
  size_t ok = 0;
  if (const v1::HistoryEntry* best = BestEntry(history, &ok)) {
    if (std::optional<StepPlan> plan = PlanOf(best->candidate())) {
      add(ImageGrid(run(*plan), "samples-searched.png",
                    absl::StrFormat("searched %s (result %d, FD %.4f), %s, same noises",
                                    Render(best->candidate(), RenderFormat::kText), best->index(),
                                    best->evaluation().objectives(0), SamplerName(sampler_))));
    }
  }
  return figures;
}

std::vector<v1::ReportChart> DiffusionProblem::Charts(
    const std::vector<v1::HistoryEntry>& history) const {
  v1::ReportChart chart;
  chart.set_name("schedule");
  chart.set_title(absl::StrFormat("where the steps fall on the %s schedule",
                                  spec_.schedule() == v1::DiffusionSpec::LINEAR ? "linear"
                                                                                : "cosine"));
  chart.set_x_label("time step t");
  chart.set_y_label("alpha_bar(t)");
  chart.set_log_y(true);
  auto add = [&](const std::string& label, const std::vector<int>& steps) {
    v1::ChartSeries* series = chart.add_series();
    series->set_label(label);
    for (int t : steps) {
      series->add_x(t);
      series->add_y(alpha_bars_[t]);
    }
  };
  std::vector<int> every;
  for (int t = 0; t < T; t += 5) every.push_back(t);
  every.push_back(T - 1);
  add("alpha_bar(t)", every);
  add(absl::StrCat("uniform, ", first_steps_, " steps"), UniformSteps(first_steps_));
  size_t ok = 0;
  if (const v1::HistoryEntry* best = BestEntry(history, &ok)) {
    if (std::optional<StepPlan> plan = PlanOf(best->candidate())) {
      add(absl::StrCat("searched (result ", best->index(), ")"), plan->steps);
    }
  }
  return {chart};
}

}  // namespace evolv
