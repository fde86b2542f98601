#include "evaluators/diffusion/diffusion_problem.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
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
  v1::Evaluation e;
  e.set_status(status);
  e.set_error(error);
  e.add_objectives(std::numeric_limits<double>::infinity());
  e.add_objectives(std::numeric_limits<double>::infinity());
  return e;
}

std::optional<v1::DiffusionSchedule> ScheduleOf(const v1::Candidate& candidate) {
  v1::DiffusionSchedule schedule;
  if (!UnpackCandidate(candidate, &schedule)) return std::nullopt;
  return schedule;
}

const char* SamplerName(SamplerKind kind) {
  return kind == SamplerKind::kDdim ? "DDIM" : "DPM-Solver++(2M)";
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

absl::StatusOr<std::vector<int>> CanonicalSteps(const v1::DiffusionSchedule& schedule, int k,
                                                const std::string& field) {
  if (schedule.steps_size() != k) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": has ", schedule.steps_size(), " steps; K is ", k));
  }
  std::vector<int> steps;
  steps.reserve(k);
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

absl::StatusOr<std::unique_ptr<Problem>> CreateDiffusionProblem(const v1::DiffusionSpec& s) {
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

  absl::StatusOr<GaussianMixture> mixture = GaussianMixture::FromSpec(s.mixture());
  if (!mixture.ok()) return mixture.status();
  const int d = mixture->dimension();
  const int components = static_cast<int>(mixture->components().size());
  if (static_cast<int64_t>(n) * d > kMaxDiffusionSampleValues) {
    return FieldError("samples", absl::StrCat("N * d = ", n, " * ", d, " exceeds the limit ",
                                              kMaxDiffusionSampleValues));
  }
  const double cost =
      static_cast<double>(n) * components * d * d * std::max(problem->k_, kReferenceSteps);
  if (cost > kMaxDiffusionCost) {
    return FieldError("samples",
                      absl::StrFormat("the evaluation cost N * C * d^2 * max(K, 100) = %.3g "
                                      "exceeds the limit 2^40; use fewer samples, components "
                                      "or dimensions",
                                      cost));
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
  problem->denoiser_ = std::make_unique<ExactMixtureDenoiser>(*problem->mixture_);
  problem->moments_ =
      std::make_unique<ExactMoments>(problem->mixture_->Mean(), problem->mixture_->Covariance());
  problem->alpha_bars_ =
      AlphaBars(spec.schedule() == v1::DiffusionSpec::LINEAR ? NoiseScheduleKind::kLinear
                                                             : NoiseScheduleKind::kCosine);
  Rng noise_rng(Mix64(s.noise_seed() ^ 0x6e6f697365ULL));
  problem->noise_.resize(d, n);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < d; ++i) problem->noise_(i, j) = noise_rng.Normal();
  }
  // The reference: N exact samples, scored as a candidate's samples are.
  Rng reference_rng(Mix64(s.noise_seed() ^ 0x7265666572656eULL));
  const Eigen::MatrixXd exact = problem->mixture_->Sample(n, reference_rng);
  problem->noise_floor_ = problem->moments_->FrechetDistance(exact);
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
  // What an evaluation depends on; K and the baselines only decide feasibility and the report.
  v1::DiffusionSpec canonical = spec_;
  canonical.clear_steps();
  canonical.clear_baselines();
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  {
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    canonical.SerializeToCodedStream(&out);
  }
  return "exact-mixture|" + bytes;
}

std::optional<std::vector<int>> DiffusionProblem::StepsOf(const v1::Candidate& candidate) const {
  const std::optional<v1::DiffusionSchedule> schedule = ScheduleOf(candidate);
  if (!schedule) return std::nullopt;
  auto steps = CanonicalSteps(*schedule, k_, "diffusion.steps");
  if (!steps.ok()) return std::nullopt;
  return *std::move(steps);
}

int DiffusionProblem::UnusedStep(const std::vector<int>& used, Rng& rng) const {
  // The r-th step not in `used`: walk the sorted used steps.
  int r = static_cast<int>(rng.Below(T - used.size()));
  for (int t : used) {
    if (t <= r) ++r;
  }
  return r;
}

v1::Candidate DiffusionProblem::Random(Rng& rng) const {
  std::vector<int> steps;
  steps.reserve(k_);
  for (int i = 0; i < k_; ++i) {
    const int t = UnusedStep(steps, rng);
    steps.insert(std::upper_bound(steps.begin(), steps.end(), t), t);
  }
  return DiffusionCandidate(steps);
}

v1::Candidate DiffusionProblem::MutateGenes(const v1::Candidate& parent, double rate,
                                            const GenerationInfo& generation, Rng& rng) const {
  (void)generation;  // the joint stage's growing skip budget will read it
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
  auto steps = CanonicalSteps(*schedule, k_, "diffusion.steps");
  if (!steps.ok()) return Fail(v1::INFEASIBLE, std::string(steps.status().message()));
  const absl::Status skipped = CheckSkipped(*schedule, *steps, denoiser_->NumBlocks(), "diffusion");
  if (!skipped.ok()) return Fail(v1::INFEASIBLE, std::string(skipped.message()));
  return std::nullopt;
}

ScheduleScore DiffusionProblem::Score(const std::vector<int>& steps, SamplerKind sampler) const {
  std::vector<SamplerStep> plan;
  plan.reserve(steps.size());
  for (int t : steps) plan.push_back({t, {}});
  const Eigen::MatrixXd samples = RunSampler(*denoiser_, alpha_bars_, plan, sampler, noise_);
  ScheduleScore score;
  score.fd = moments_->FrechetDistance(samples);
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
  (void)context;  // deterministic: fixed noises
  const std::optional<v1::DiffusionSchedule> schedule = ScheduleOf(candidate);
  if (!schedule) return Fail(v1::FAILED, "candidate holds no diffusion schedule");
  if (std::optional<v1::Evaluation> infeasible = CheckFeasible(candidate)) return *infeasible;
  const std::vector<int> steps = *StepsOf(candidate);
  const ScheduleScore score = Score(steps, sampler_);
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
  return e;
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
  std::vector<v1::Candidate> seeds = {DiffusionCandidate(UniformSteps(k_))};
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

std::string DiffusionProblem::Report(const std::vector<v1::HistoryEntry>& history) const {
  const auto& mixture = spec_.mixture();
  std::string out = absl::StrFormat(
      "diffusion: Gaussian mixture, d %d, %d components (seed %d); %s schedule, T %d; K %d; "
      "N %d fixed noises (seed %d); search sampler %s\n",
      mixture_->dimension(), mixture_->components().size(), mixture.seed(),
      spec_.schedule() == v1::DiffusionSpec::LINEAR ? "linear" : "cosine", T, k_, spec_.samples(),
      spec_.noise_seed(), SamplerName(sampler_));
  absl::StrAppendFormat(&out,
                        "noise floor (FD of N exact samples): %.4f; their mean log-likelihood: "
                        "%.4f\n",
                        noise_floor_, reference_loglik_);
  const v1::HistoryEntry* best = nullptr;
  size_t ok = 0;
  for (const v1::HistoryEntry& entry : history) {
    if (entry.evaluation().status() != v1::OK) continue;
    ++ok;
    if (best == nullptr || LexicographicallyBetter(entry.evaluation(), best->evaluation())) {
      best = &entry;
    }
  }
  absl::StrAppendFormat(&out, "results: %d, %d OK\n\n", history.size(), ok);
  absl::StrAppendFormat(&out, "  %-28s %10s %10s %12s %10s   %s\n", "schedule", "DDIM FD", "LL gap",
                        "DPM++2M FD", "LL gap", "steps");
  out += BaselineTable();
  if (best == nullptr) return out + "no searched schedule yet\n";
  const std::vector<int> steps = StepsOf(best->candidate()).value_or(std::vector<int>());
  if (steps.empty()) return out;
  const ScheduleScore ddim = Score(steps, SamplerKind::kDdim);
  const ScheduleScore dpm = Score(steps, SamplerKind::kDpmSolverPp2M);
  absl::StrAppendFormat(&out, "  %-28s %10.4f %10.4f %12.4f %10.4f   %s\n",
                        absl::StrCat("searched (result ", best->index(), ")"), ddim.fd,
                        ddim.loglik_gap, dpm.fd, dpm.loglik_gap, StepSet(steps));
  const ScheduleScore uniform = Score(UniformSteps(k_), sampler_);
  const ScheduleScore& searched = sampler_ == SamplerKind::kDdim ? ddim : dpm;
  absl::StrAppendFormat(&out, "\nsearched / uniform with %s: FD %.3fx (%.4f vs %.4f)\n",
                        SamplerName(sampler_), searched.fd / uniform.fd, searched.fd, uniform.fd);
  return out;
}

}  // namespace evolv
