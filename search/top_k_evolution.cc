#include "search/top_k_evolution.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "search/regularized_evolution.h"

namespace evolv {
namespace {

constexpr uint32_t kMaxPopulation = 100000;
constexpr int kMaxRedraws = 64;
constexpr int kMaxStages = 16;
constexpr uint32_t kDefaultStageCrossovers = 10;
constexpr double kDefaultAllowanceStep = 0.02;
constexpr double kDefaultAllowanceCap = 0.1;
constexpr uint32_t kDefaultOpenBy = 5;

absl::Status OutOfRange(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError("strategy.top_k_evolution." + field + ": " + reason);
}

bool ValidRate(double p) { return p >= 0.0 && p <= 1.0; }

}  // namespace

absl::Status ValidateTopKEvolutionConfig(const v1::TopKEvolutionConfig& c) {
  if (c.population() > kMaxPopulation) {
    return OutOfRange("population", "exceeds the limit " + std::to_string(kMaxPopulation));
  }
  const uint32_t population = c.population() ? c.population() : 50;
  if (c.top_k() > population) {
    return OutOfRange("top_k", "must not exceed population " + std::to_string(population));
  }
  const uint64_t mutants = c.has_mutants() ? c.mutants() : 25;
  const uint64_t crossovers = c.has_crossovers() ? c.crossovers() : 15;
  if (mutants + crossovers > population) {
    return OutOfRange(c.has_crossovers() ? "crossovers" : "mutants",
                      "mutants + crossovers (" + std::to_string(mutants + crossovers) +
                          ") exceed population " + std::to_string(population));
  }
  if (c.has_initial_random() && c.initial_random() > population) {
    return OutOfRange("initial_random", "must not exceed population " + std::to_string(population));
  }
  if (!ValidRate(c.mutate_prob())) return OutOfRange("mutate_prob", "must be in [0, 1]");
  if (!ValidRate(c.initial_mutate_prob())) {
    return OutOfRange("initial_mutate_prob", "must be in [0, 1]");
  }
  if (c.stages_size() > kMaxStages) {
    return OutOfRange("stages", "more than " + std::to_string(kMaxStages));
  }
  if (c.stages_size() > 0 && c.generations() == 0) {
    return OutOfRange("generations", "must be > 0 when later stages follow");
  }
  for (int i = 0; i < c.stages_size(); ++i) {
    const v1::TopKEvolutionStage& stage = c.stages(i);
    const std::string at = "stages[" + std::to_string(i) + "].";
    if (stage.generations() == 0 && i + 1 < c.stages_size()) {
      return OutOfRange(at + "generations", "must be > 0 except in the last stage");
    }
    const uint64_t stage_mutants = stage.has_mutants() ? stage.mutants() : mutants;
    if (stage.has_mutants() && stage_mutants > population) {
      return OutOfRange(at + "mutants", "exceed population " + std::to_string(population));
    }
    if (stage.has_crossovers() && stage_mutants + stage.crossovers() > population) {
      return OutOfRange(at + "crossovers", "mutants + crossovers (" +
                                               std::to_string(stage_mutants + stage.crossovers()) +
                                               ") exceed population " + std::to_string(population));
    }
    if (stage.has_allowance_step() &&
        !(stage.allowance_step() > 0 && stage.allowance_step() <= 1)) {
      return OutOfRange(at + "allowance_step", "must be in (0, 1]");
    }
    if (stage.has_allowance_cap() && !ValidRate(stage.allowance_cap())) {
      return OutOfRange(at + "allowance_cap", "must be in [0, 1]");
    }
  }
  return absl::OkStatus();
}

TopKEvolution::TopKEvolution(const v1::TopKEvolutionConfig& config, const Problem& problem,
                             uint64_t seed)
    : problem_(problem),
      space_(problem.AsEvolvableSpace()),
      population_(config.population() ? config.population() : 50),
      top_k_(config.top_k() ? config.top_k() : 10),
      mutate_prob_(config.mutate_prob() > 0 ? config.mutate_prob() : 0.25),
      initial_random_(config.has_initial_random() ? config.initial_random() : 25),
      initial_mutate_prob_(config.initial_mutate_prob() > 0 ? config.initial_mutate_prob() : 0.1),
      rng_(seed) {
  seeds_ = problem.Seeds();
  if (seeds_.size() > population_) seeds_.resize(population_);
  // Defaults that do not fit a small population shrink to fit it.
  Stage first;
  first.generations = config.generations();
  first.mutants = std::min<uint32_t>(config.has_mutants() ? config.mutants() : 25, population_);
  first.crossovers = std::min<uint32_t>(config.has_crossovers() ? config.crossovers() : 15,
                                        population_ - first.mutants);
  stages_.push_back(first);
  for (const v1::TopKEvolutionStage& s : config.stages()) {
    Stage stage;
    stage.first = stages_.back().first + stages_.back().generations;
    stage.generations = s.generations();
    stage.mutants = std::min<uint32_t>(s.has_mutants() ? s.mutants() : first.mutants, population_);
    stage.crossovers = std::min<uint32_t>(
        s.has_crossovers() ? s.crossovers() : kDefaultStageCrossovers, population_ - stage.mutants);
    stage.allowance_step = s.has_allowance_step() ? s.allowance_step() : kDefaultAllowanceStep;
    stage.allowance_cap = s.has_allowance_cap() ? s.allowance_cap() : kDefaultAllowanceCap;
    stage.open_by = s.has_open_by() ? s.open_by() : kDefaultOpenBy;
    stages_.push_back(stage);
  }
  initial_random_ = std::min<uint32_t>(initial_random_, population_ - seeds_.size());
}

size_t TopKEvolution::StageOf(uint64_t generation) const {
  size_t s = 0;
  while (s + 1 < stages_.size() && generation >= stages_[s + 1].first) ++s;
  return s;
}

GenerationInfo TopKEvolution::InfoAt(uint64_t generation) const {
  GenerationInfo info;
  info.generation = generation;
  info.stalled = stalled_;
  const size_t s = StageOf(generation);
  const Stage& stage = stages_[s];
  info.stage = static_cast<uint32_t>(s);
  info.stage_generation = generation - stage.first;
  if (opened_at_ && *opened_at_ >= stage.first && *opened_at_ <= generation) {
    const double opened = static_cast<double>(generation - *opened_at_ + 1);
    info.allowance = std::min(stage.allowance_cap, stage.allowance_step * opened);
  }
  return info;
}

TopKEvolution::Origin TopKEvolution::OriginOf(uint64_t generation, uint64_t position) const {
  if (generation == 0) {
    if (position < seeds_.size()) return Origin::kSeed;
    if (position < seeds_.size() + initial_random_ || seeds_.empty()) return Origin::kRandom;
    return Origin::kSeedMutant;
  }
  if (elite_.empty()) return Origin::kRandom;
  const Stage& stage = stages_[StageOf(generation)];
  if (position < stage.mutants) return Origin::kMutant;
  if (position < stage.mutants + stage.crossovers) return Origin::kCrossover;
  return Origin::kRandom;
}

v1::Candidate TopKEvolution::MutantOf(const v1::Candidate& parent, double rate,
                                      const GenerationInfo& info) {
  if (space_ != nullptr) return space_->MutateGenes(parent, rate, info, rng_);
  return problem_.Mutate(parent, rng_);
}

v1::Candidate TopKEvolution::Draw(Origin origin, uint64_t position, const GenerationInfo& info) {
  switch (origin) {
    case Origin::kSeed:
      return seeds_[position];
    case Origin::kRandom:
      if (space_ != nullptr) {
        if (std::optional<v1::Candidate> c = space_->RandomAt(info, rng_)) return *std::move(c);
      }
      return problem_.Random(rng_);
    case Origin::kSeedMutant: {
      const uint64_t k = (position - seeds_.size() - initial_random_) % seeds_.size();
      return MutantOf(seeds_[k], initial_mutate_prob_, info);
    }
    case Origin::kMutant: {
      const v1::Individual& parent = elite_[rng_.Below(elite_.size())];
      return MutantOf(Heritable(parent.candidate(), parent.evaluation()), mutate_prob_, info);
    }
    case Origin::kCrossover: {
      const size_t a = rng_.Below(elite_.size());
      size_t b = a;
      if (elite_.size() > 1) {
        b = rng_.Below(elite_.size() - 1);
        if (b >= a) ++b;
      }
      const v1::Candidate& first = Heritable(elite_[a].candidate(), elite_[a].evaluation());
      const v1::Candidate& second = Heritable(elite_[b].candidate(), elite_[b].evaluation());
      std::optional<v1::Candidate> child = problem_.Crossover(first, second, rng_);
      if (child) return *std::move(child);
      return MutantOf(first, mutate_prob_, info);
    }
  }
  return problem_.Random(rng_);
}

bool TopKEvolution::MarkSeen(const v1::Candidate& candidate) {
  const ProbeBytes probe = problem_.Probe(candidate);
  return seen_.insert(XXH3_64bits(probe.data(), probe.size())).second;
}

v1::Candidate TopKEvolution::Ask(uint64_t index) {
  (void)index;
  const uint64_t generation = asked_ / population_;
  const uint64_t position = asked_ % population_;
  ++asked_;
  if (position == 0 && generation > 0) {
    const uint64_t best = elite_.empty() ? UINT64_MAX : elite_.front().index();
    stalled_ = best == best_index_ ? stalled_ + 1 : 0;
    best_index_ = best;
    // A later stage's allowance opens once the best stops changing or at its generation open_by.
    const size_t s = StageOf(generation);
    const Stage& stage = stages_[s];
    const bool open = opened_at_ && *opened_at_ >= stage.first;
    const uint64_t in_stage = generation - stage.first;
    if (s > 0 && !open && stage.allowance_cap > 0 &&
        ((in_stage >= 1 && stalled_ >= 1) || in_stage >= stage.open_by)) {
      opened_at_ = generation;
    }
  }
  const GenerationInfo info = InfoAt(generation);
  last_asked_ = info;
  Origin origin = OriginOf(generation, position);
  v1::Candidate candidate = Draw(origin, position, info);
  for (int tries = 1; !MarkSeen(candidate) && tries < 2 * kMaxRedraws; ++tries) {
    // A seed is one fixed candidate: redraw it at random. Other operators are redrawn as they
    // are, then at random.
    if (origin == Origin::kSeed || tries >= kMaxRedraws) origin = Origin::kRandom;
    candidate = Draw(origin, position, info);
  }
  return candidate;
}

void TopKEvolution::Tell(uint64_t index, const v1::Candidate& candidate,
                         const v1::Evaluation& evaluation) {
  if (evaluation.status() != v1::OK) return;
  v1::Individual individual;
  individual.set_index(index);
  *individual.mutable_candidate() = candidate;
  *individual.mutable_evaluation() = evaluation;
  // After every member it is not better than: ties keep the earlier result first.
  auto at = std::upper_bound(elite_.begin(), elite_.end(), individual,
                             [](const v1::Individual& x, const v1::Individual& member) {
                               return LexicographicallyBetter(x.evaluation(), member.evaluation());
                             });
  if (static_cast<size_t>(at - elite_.begin()) >= top_k_) return;
  elite_.insert(at, std::move(individual));
  if (elite_.size() > top_k_) elite_.pop_back();
}

bool TopKEvolution::Done() const {
  const Stage& last = stages_.back();
  return last.generations > 0 && asked_ >= (last.first + last.generations) * population_;
}

std::string TopKEvolution::ProgressNote(uint64_t told) const {
  const uint64_t generation = told / population_;
  std::string note = "generation " + std::to_string(generation);
  const Stage& last = stages_.back();
  if (last.generations > 0) note += "/" + std::to_string(last.first + last.generations);
  if (stages_.size() > 1) {
    const GenerationInfo info = InfoAt(generation);
    char allowance[32];
    std::snprintf(allowance, sizeof(allowance), "%.2f", info.allowance);
    note += ", stage " + std::to_string(info.stage) + ", allowance " + allowance;
  }
  return note;
}

v1::StrategySnapshot TopKEvolution::Snapshot() const {
  v1::StrategySnapshot snapshot;
  *snapshot.mutable_rng() = rng_.Save();
  auto* state = snapshot.mutable_top_k_evolution();
  state->set_asked(asked_);
  for (const auto& individual : elite_) *state->add_elite() = individual;
  std::vector<uint64_t> seen(seen_.begin(), seen_.end());
  std::sort(seen.begin(), seen.end());  // the same snapshot bytes for the same state
  for (uint64_t h : seen) state->add_seen(h);
  state->set_stalled(stalled_);
  state->set_best_index(best_index_);
  if (opened_at_) state->set_opened_at(*opened_at_);
  return snapshot;
}

absl::Status TopKEvolution::Restore(const v1::StrategySnapshot& snapshot) {
  if (!snapshot.has_top_k_evolution()) {
    return absl::InvalidArgumentError("strategy snapshot is not of top-k evolution");
  }
  Rng rng;
  if (!rng.Restore(snapshot.rng())) {
    return absl::InvalidArgumentError("strategy snapshot: malformed RNG state");
  }
  const auto& state = snapshot.top_k_evolution();
  if (static_cast<uint32_t>(state.elite_size()) > top_k_) {
    return absl::InvalidArgumentError("strategy snapshot: elite larger than top_k");
  }
  rng_ = rng;
  asked_ = state.asked();
  elite_.assign(state.elite().begin(), state.elite().end());
  seen_ = std::unordered_set<uint64_t>(state.seen().begin(), state.seen().end());
  stalled_ = state.stalled();
  best_index_ = state.best_index();
  opened_at_.reset();
  if (state.has_opened_at()) opened_at_ = state.opened_at();
  return absl::OkStatus();
}

}  // namespace evolv
