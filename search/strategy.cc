#include "search/strategy.h"

#include <cmath>
#include <limits>
#include <string>

#include "search/bandits/bandit_strategy.h"
#include "search/gp_search.h"
#include "search/nsga2.h"
#include "search/random_search.h"
#include "search/regularized_evolution.h"
#include "search/top_k_evolution.h"

namespace evolv {
namespace {

constexpr uint32_t kMaxPopulation = 100000;

double Key(const v1::Evaluation& e, int i) {
  if (e.status() != v1::OK || i >= e.objectives_size() || std::isnan(e.objectives(i))) {
    return std::numeric_limits<double>::infinity();
  }
  return e.objectives(i);
}

absl::Status OutOfRange(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError("strategy." + field + ": " + reason);
}

}  // namespace

bool LexicographicallyBetter(const v1::Evaluation& a, const v1::Evaluation& b) {
  const bool a_ok = a.status() == v1::OK;
  const bool b_ok = b.status() == v1::OK;
  if (a_ok != b_ok) return a_ok;
  const int n = std::max(a.objectives_size(), b.objectives_size());
  for (int i = 0; i < n; ++i) {
    const double x = Key(a, i);
    const double y = Key(b, i);
    if (x != y) return x < y;
  }
  return false;
}

absl::Status ValidateStrategy(const v1::StrategySpec& spec) {
  switch (spec.config_case()) {
    case v1::StrategySpec::kRegularizedEvolution: {
      const auto& c = spec.regularized_evolution();
      if (c.population_size() > kMaxPopulation) {
        return OutOfRange("regularized_evolution.population_size",
                          "exceeds the limit " + std::to_string(kMaxPopulation));
      }
      const uint32_t population = c.population_size() ? c.population_size() : 100;
      if (c.tournament_size() > population) {
        return OutOfRange("regularized_evolution.tournament_size",
                          "must not exceed population_size " + std::to_string(population));
      }
      if (!(c.mutate_prob() >= 0.0 && c.mutate_prob() <= 1.0)) {
        return OutOfRange("regularized_evolution.mutate_prob", "must be in [0, 1]");
      }
      return absl::OkStatus();
    }
    case v1::StrategySpec::kNsga2: {
      const auto& c = spec.nsga2();
      if (c.parents() > kMaxPopulation) {
        return OutOfRange("nsga2.parents", "exceeds the limit " + std::to_string(kMaxPopulation));
      }
      if (c.children() > kMaxPopulation) {
        return OutOfRange("nsga2.children", "exceeds the limit " + std::to_string(kMaxPopulation));
      }
      if (!(c.crossover_prob() >= 0.0 && c.crossover_prob() <= 1.0)) {
        return OutOfRange("nsga2.crossover_prob", "must be in [0, 1]");
      }
      return absl::OkStatus();
    }
    case v1::StrategySpec::kBandit:
      return ValidateBanditConfig(spec.bandit());
    case v1::StrategySpec::kTopKEvolution:
      return ValidateTopKEvolutionConfig(spec.top_k_evolution());
    case v1::StrategySpec::kRandom:
      return absl::OkStatus();
    case v1::StrategySpec::kGp:
      if (spec.gp().initial_random() > kGpMaxInitialRandom) {
        return OutOfRange("gp.initial_random",
                          "exceeds the limit " + std::to_string(kGpMaxInitialRandom));
      }
      if (spec.gp().max_model_points() > kGpMaxModelPoints) {
        return OutOfRange("gp.max_model_points",
                          "exceeds the limit " + std::to_string(kGpMaxModelPoints));
      }
      if (spec.gp().max_model_points() == 1) {
        return OutOfRange("gp.max_model_points", "must be 0 (400) or at least 2");
      }
      return absl::OkStatus();
    case v1::StrategySpec::CONFIG_NOT_SET:
      // NSGA-II with defaults; the bandit for a bandit-sequence problem, top-k evolution for a
      // problem with an evolvable space, the Gaussian-process search for a box of parameters
      // with one objective.
      return absl::OkStatus();
  }
  return OutOfRange("config", "unknown strategy");
}

absl::StatusOr<std::unique_ptr<Strategy>> CreateStrategy(const v1::JobSpec& spec,
                                                         const Problem& problem,
                                                         const JobLimits& limits) {
  if (absl::Status status = ValidateStrategy(spec.strategy()); !status.ok()) return status;
  // The strategy's stream is derived from, not equal to, the job seed.
  const uint64_t seed = Mix64(spec.seed() ^ 0x5eed5eed5eed5eedULL);
  if (spec.strategy().has_random()) return std::make_unique<RandomSearch>(problem, seed);
  if (spec.strategy().has_gp() && problem.AsParameterSpace() == nullptr) {
    return OutOfRange("gp", "the " + problem.Domain() +
                                " domain's candidates are not a box of parameters; gp searches "
                                "studies");
  }
  if (spec.strategy().has_gp() ||
      (spec.strategy().config_case() == v1::StrategySpec::CONFIG_NOT_SET &&
       problem.AsParameterSpace() != nullptr && problem.ObjectiveNames().size() == 1)) {
    return std::make_unique<GpSearch>(spec.strategy().gp(), problem, seed);
  }
  if (spec.strategy().has_regularized_evolution()) {
    return std::make_unique<RegularizedEvolution>(spec.strategy().regularized_evolution(), problem,
                                                  seed);
  }
  if (spec.strategy().has_top_k_evolution() ||
      (spec.strategy().config_case() == v1::StrategySpec::CONFIG_NOT_SET &&
       problem.AsEvolvableSpace() != nullptr)) {
    return std::make_unique<TopKEvolution>(spec.strategy().top_k_evolution(), problem, seed);
  }
  if (spec.strategy().has_bandit() ||
      (!spec.strategy().has_nsga2() && problem.AsBanditSequence() != nullptr)) {
    auto bandit =
        BanditStrategy::Create(spec.strategy().bandit(), problem, seed, limits.max_strategy_bytes);
    if (!bandit.ok()) return bandit.status();
    return std::unique_ptr<Strategy>(*std::move(bandit));
  }
  return std::make_unique<Nsga2>(spec.strategy().nsga2(), problem, seed);
}

}  // namespace evolv
