// The joint search space of the diffusion domain (AutoDiffusion's steps + skipped blocks) as
// plain values and the operators that edit them, without protobuf: a StepPlan is a set of time
// steps and, per step, the denoiser blocks it skips.
//
// Every operator keeps a plan within its PlanLimits (step count, block budget) and never adds
// more than `skip_limit` skipped blocks to a step: the limit is the evolution's allowance (the
// share of a step's blocks that may go) rounded to whole blocks, SkipLimit. Unlike AutoDiffusion's
// code, a skipped block is replaced by assignment (its mutation compared with == and changed
// nothing), and a crossover keeps the steps of both parents (its crossover could lose steps).
//
// Every function is a deterministic function of its arguments and the generator's state.
#pragma once

#include <cstdint>
#include <vector>

#include "search/rng.h"

namespace evolv {

struct StepPlan {
  std::vector<int> steps;                 // distinct, ascending, in [0, T)
  std::vector<std::vector<int>> skipped;  // per step (same size), distinct block indices, ascending
};

struct PlanLimits {
  int blocks = 0;     // B, the denoiser's blocks (0: nothing can be skipped)
  int min_steps = 1;  // a plan's step count stays in [min_steps, max_steps]
  int max_steps = 1;
  int64_t budget = 0;  // N_max: BlockEvaluations of a plan stay <= budget
};

// Sum over the steps of (blocks - skipped at the step).
int64_t BlockEvaluations(const StepPlan& plan, int blocks);

// How many blocks a step may skip at allowance `share`: round(share * blocks), half up, at most
// `blocks`. With 8 blocks: 0 below 0.0625, 1 from 0.0625, 2 from 0.1875.
int SkipLimit(double share, int blocks);

// A step not in `used` (ascending), uniformly; requires used.size() < T.
int UnusedStep(const std::vector<int>& used, Rng& rng);

// Steps added greedily while they fit (as AutoDiffusion's random candidate): each with a number
// of skipped blocks uniform in 0..skip_limit (at skip_limit when that lets one more step fit),
// until max_steps or the budget.
StepPlan RandomPlan(const PlanLimits& limits, int skip_limit, Rng& rng);

// A child of `parent`: each step replaced with probability `rate` by an unused step (keeping the
// replaced step's skipped blocks); when skip_limit > 0, each step's skipped set redrawn with
// probability `rate` (size uniform in 0..skip_limit) or else each of its blocks replaced with
// probability `rate` by one the step does not skip, and a step added and one removed, each with
// probability `rate`, where the step count allows; then FitBudget.
StepPlan MutatePlan(const StepPlan& parent, const PlanLimits& limits, int skip_limit, double rate,
                    Rng& rng);

// A child of two plans: a step both parents have is kept, a step of one parent with probability
// 1/2 (with that parent's skipped blocks; for a shared step, either parent's), then steps of the
// parents are dropped or added at random until the child has the step count of a parent chosen
// at random; then FitBudget without new skips. All of the child's steps come from the parents.
StepPlan CrossPlans(const StepPlan& a, const StepPlan& b, const PlanLimits& limits, Rng& rng);

// Brings a plan within the budget: adds a skipped block at a random step that skips fewer than
// `skip_limit`, or, when none does, removes a random step (down to min_steps). False when the
// plan is still over the budget at min_steps.
bool FitBudget(StepPlan* plan, const PlanLimits& limits, int skip_limit, Rng& rng);

}  // namespace evolv
