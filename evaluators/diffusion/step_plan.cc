#include "evaluators/diffusion/step_plan.h"

#include <algorithm>
#include <cmath>

#include "evaluators/diffusion/noise_schedule.h"

namespace evolv {
namespace {

// `count` distinct blocks of 0..blocks-1, ascending (a partial Fisher-Yates shuffle).
std::vector<int> RandomBlocks(int blocks, int count, Rng& rng) {
  std::vector<int> all(blocks);
  for (int b = 0; b < blocks; ++b) all[b] = b;
  for (int i = 0; i < count; ++i) {
    std::swap(all[i], all[i + rng.Below(blocks - i)]);
  }
  all.resize(count);
  std::sort(all.begin(), all.end());
  return all;
}

// A block of 0..blocks-1 not in `skipped` (ascending); requires skipped.size() < blocks.
int UnskippedBlock(const std::vector<int>& skipped, int blocks, Rng& rng) {
  int r = static_cast<int>(rng.Below(blocks - skipped.size()));
  for (int b : skipped) {
    if (b <= r) ++r;
  }
  return r;
}

void Insert(StepPlan* plan, int step, std::vector<int> skipped) {
  const auto at = std::upper_bound(plan->steps.begin(), plan->steps.end(), step);
  const auto i = at - plan->steps.begin();
  plan->steps.insert(at, step);
  plan->skipped.insert(plan->skipped.begin() + i, std::move(skipped));
}

void Erase(StepPlan* plan, size_t i) {
  plan->steps.erase(plan->steps.begin() + i);
  plan->skipped.erase(plan->skipped.begin() + i);
}

int Size(const StepPlan& plan) { return static_cast<int>(plan.steps.size()); }

}  // namespace

int64_t BlockEvaluations(const StepPlan& plan, int blocks) {
  int64_t total = 0;
  for (const auto& s : plan.skipped) total += blocks - static_cast<int64_t>(s.size());
  return total;
}

int SkipLimit(double share, int blocks) {
  if (!(share > 0) || blocks <= 0) return 0;
  return std::min(blocks, static_cast<int>(std::floor(share * blocks + 0.5)));
}

int UnusedStep(const std::vector<int>& used, Rng& rng) {
  // The r-th step not in `used`: walk the sorted used steps.
  int r = static_cast<int>(rng.Below(kDiffusionTimeSteps - used.size()));
  for (int t : used) {
    if (t <= r) ++r;
  }
  return r;
}

StepPlan RandomPlan(const PlanLimits& limits, int skip_limit, Rng& rng) {
  StepPlan plan;
  int64_t cost = 0;
  while (Size(plan) < limits.max_steps && Size(plan) < kDiffusionTimeSteps) {
    int skip = skip_limit > 0 ? static_cast<int>(rng.Below(skip_limit + 1)) : 0;
    if (cost + limits.blocks - skip > limits.budget) {
      if (cost + limits.blocks - skip_limit > limits.budget) break;
      skip = skip_limit;
    }
    const int step = UnusedStep(plan.steps, rng);
    Insert(&plan, step, skip > 0 ? RandomBlocks(limits.blocks, skip, rng) : std::vector<int>());
    cost += limits.blocks - skip;
  }
  return plan;
}

StepPlan MutatePlan(const StepPlan& parent, const PlanLimits& limits, int skip_limit, double rate,
                    Rng& rng) {
  StepPlan child = parent;
  const std::vector<int> genes = parent.steps;
  if (Size(child) < kDiffusionTimeSteps) {
    for (int gene : genes) {
      if (!rng.Bernoulli(rate)) continue;
      const int step = UnusedStep(child.steps, rng);  // unused by the child as it stands
      const size_t i =
          std::lower_bound(child.steps.begin(), child.steps.end(), gene) - child.steps.begin();
      std::vector<int> skipped = std::move(child.skipped[i]);
      Erase(&child, i);
      Insert(&child, step, std::move(skipped));
    }
  }
  if (skip_limit > 0 && limits.blocks > 0) {
    for (std::vector<int>& skipped : child.skipped) {
      if (rng.Bernoulli(rate)) {
        const int count = static_cast<int>(rng.Below(skip_limit + 1));
        skipped = RandomBlocks(limits.blocks, count, rng);
        continue;
      }
      if (static_cast<int>(skipped.size()) >= limits.blocks) continue;
      const std::vector<int> original = skipped;
      for (int block : original) {
        if (!rng.Bernoulli(rate)) continue;
        const int replacement = UnskippedBlock(skipped, limits.blocks, rng);
        *std::lower_bound(skipped.begin(), skipped.end(), block) = replacement;  // assigned
        std::sort(skipped.begin(), skipped.end());
      }
    }
    if (Size(child) < limits.max_steps && Size(child) < kDiffusionTimeSteps &&
        rng.Bernoulli(rate)) {
      const int count = static_cast<int>(rng.Below(skip_limit + 1));
      const int step = UnusedStep(child.steps, rng);
      Insert(&child, step, RandomBlocks(limits.blocks, count, rng));
    }
    if (Size(child) > limits.min_steps && rng.Bernoulli(rate)) {
      Erase(&child, rng.Below(child.steps.size()));
    }
  }
  FitBudget(&child, limits, skip_limit, rng);
  return child;
}

StepPlan CrossPlans(const StepPlan& a, const StepPlan& b, const PlanLimits& limits, Rng& rng) {
  // The union of the parents' steps, each with its skipped blocks and how many parents have it.
  struct Gene {
    int step;
    const std::vector<int>* skipped;
    int parents;
  };
  std::vector<Gene> genes;
  size_t i = 0, j = 0;
  while (i < a.steps.size() || j < b.steps.size()) {
    if (j == b.steps.size() || (i < a.steps.size() && a.steps[i] < b.steps[j])) {
      genes.push_back({a.steps[i], &a.skipped[i], 1});
      ++i;
    } else if (i == a.steps.size() || b.steps[j] < a.steps[i]) {
      genes.push_back({b.steps[j], &b.skipped[j], 1});
      ++j;
    } else {
      genes.push_back({a.steps[i], rng.Bernoulli(0.5) ? &a.skipped[i] : &b.skipped[j], 2});
      ++i;
      ++j;
    }
  }
  const int target = static_cast<int>(rng.Bernoulli(0.5) ? a.steps.size() : b.steps.size());
  std::vector<size_t> kept, spare;
  for (size_t g = 0; g < genes.size(); ++g) {
    (genes[g].parents == 2 || rng.Bernoulli(0.5) ? kept : spare).push_back(g);
  }
  while (static_cast<int>(kept.size()) > target) kept.erase(kept.begin() + rng.Below(kept.size()));
  while (static_cast<int>(kept.size()) < target && !spare.empty()) {
    const size_t pick = rng.Below(spare.size());
    kept.push_back(spare[pick]);
    spare.erase(spare.begin() + pick);
  }
  std::sort(kept.begin(), kept.end());
  StepPlan child;
  for (size_t g : kept) {
    child.steps.push_back(genes[g].step);
    child.skipped.push_back(*genes[g].skipped);
  }
  FitBudget(&child, limits, 0, rng);
  return child;
}

bool FitBudget(StepPlan* plan, const PlanLimits& limits, int skip_limit, Rng& rng) {
  int64_t cost = BlockEvaluations(*plan, limits.blocks);
  while (cost > limits.budget) {
    std::vector<size_t> open;
    for (size_t i = 0; i < plan->skipped.size(); ++i) {
      if (static_cast<int>(plan->skipped[i].size()) < std::min(skip_limit, limits.blocks)) {
        open.push_back(i);
      }
    }
    if (!open.empty()) {
      std::vector<int>& skipped = plan->skipped[open[rng.Below(open.size())]];
      skipped.push_back(UnskippedBlock(skipped, limits.blocks, rng));
      std::sort(skipped.begin(), skipped.end());
      --cost;
    } else if (Size(*plan) > limits.min_steps) {
      const size_t i = rng.Below(plan->steps.size());
      cost -= limits.blocks - static_cast<int64_t>(plan->skipped[i].size());
      Erase(plan, i);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace evolv
