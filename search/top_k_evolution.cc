#include "search/top_k_evolution.h"

#include <xxhash.h>

#include <algorithm>
#include <string>

#include "search/regularized_evolution.h"

namespace evolv {
namespace {

constexpr uint32_t kMaxPopulation = 100000;
constexpr int kMaxRedraws = 64;

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
  return absl::OkStatus();
}

TopKEvolution::TopKEvolution(const v1::TopKEvolutionConfig& config, const Problem& problem,
                             uint64_t seed)
    : problem_(problem),
      space_(problem.AsEvolvableSpace()),
      population_(config.population() ? config.population() : 50),
      top_k_(config.top_k() ? config.top_k() : 10),
      mutants_(config.has_mutants() ? config.mutants() : 25),
      crossovers_(config.has_crossovers() ? config.crossovers() : 15),
      mutate_prob_(config.mutate_prob() > 0 ? config.mutate_prob() : 0.25),
      initial_random_(config.has_initial_random() ? config.initial_random() : 25),
      initial_mutate_prob_(config.initial_mutate_prob() > 0 ? config.initial_mutate_prob() : 0.1),
      generations_(config.generations()),
      rng_(seed) {
  if (space_ != nullptr) seeds_ = space_->Seeds();
  if (seeds_.size() > population_) seeds_.resize(population_);
  // Defaults that do not fit a small population shrink to fit it.
  mutants_ = std::min(mutants_, population_);
  crossovers_ = std::min(crossovers_, population_ - mutants_);
  initial_random_ = std::min<uint32_t>(initial_random_, population_ - seeds_.size());
}

TopKEvolution::Origin TopKEvolution::OriginOf(uint64_t generation, uint64_t position) const {
  if (generation == 0) {
    if (position < seeds_.size()) return Origin::kSeed;
    if (position < seeds_.size() + initial_random_ || seeds_.empty()) return Origin::kRandom;
    return Origin::kSeedMutant;
  }
  if (elite_.empty()) return Origin::kRandom;
  if (position < mutants_) return Origin::kMutant;
  if (position < mutants_ + crossovers_) return Origin::kCrossover;
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
  }
  const GenerationInfo info{generation, stalled_};
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
  return generations_ > 0 && asked_ >= static_cast<uint64_t>(generations_) * population_;
}

std::string TopKEvolution::ProgressNote(uint64_t told) const {
  std::string note = "generation " + std::to_string(told / population_);
  if (generations_ > 0) note += "/" + std::to_string(generations_);
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
  return absl::OkStatus();
}

}  // namespace evolv
