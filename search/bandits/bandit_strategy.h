// The bandit strategy (Learning to Relax) as an evolv Strategy, over a problem that is a finite
// sequence of instances with a grid of arms (e.g. linear systems and relaxation parameters).
//
// Candidates are asked in blocks, one block per instance t = 0, 1, ..., T-1:
//   1. the problem's comparators for t (every grid arm, then any extra baselines), and
//   2. one pick per (trial, policy), trial-major: the policy's bandit draws an arm from its
//      state (seeing the instance's context), and the pick is the problem's candidate for that
//      arm, stamped with policy, trial, probability and context.
// A pick has the functional key of the comparator for the same arm, so the engine answers it
// from the cache: the evaluation is shared and nothing is solved twice. On Tell, a pick's
// iteration count (its first objective; the cap for a failed evaluation) is the only feedback
// its policy gets. Feedback arrives through the engine's window (picks at instance t see the
// results told before they are asked), which keeps the run a pure function of (spec, seed, W).
//
// Not thread-safe (owned by one coordinator).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "evolv/v1/checkpoint.pb.h"
#include "evolv/v1/job.pb.h"
#include "search/bandits/chebcb.h"
#include "search/bandits/tsallis_inf.h"
#include "search/bandits/tsallis_inf_cb.h"
#include "search/problem.h"
#include "search/rng.h"
#include "search/strategy.h"

namespace evolv {

// What the policy knew when it drew an arm, stamped into the pick and read back at Tell time.
struct BanditPick {
  std::string policy;
  uint32_t trial = 0;
  int arm = 0;
  double probability = 1;
  double context = 0;
};

// The capability a Problem implements to be driven by BanditStrategy (returned by
// Problem::AsBanditSequence, so search/ needs no knowledge of the domain). Every method is cheap
// and thread-safe.
class BanditSequence {
 public:
  virtual ~BanditSequence() = default;
  // T, the number of instances.
  virtual uint64_t NumInstances() const = 0;
  // K, the number of arms.
  virtual int NumArms() const = 0;
  // The scalar context of instance t (< T), without building the instance.
  virtual double Context(uint64_t instance) const = 0;
  // The range contexts fall in (lo < hi).
  virtual std::pair<double, double> ContextRange() const = 0;
  // The comparators evaluated for every instance, whatever the policies do.
  virtual std::vector<v1::Candidate> Comparators(uint64_t instance) const = 0;
  // The candidate that plays `pick.arm` on `instance`, carrying `pick`; same functional key as
  // the comparator for that arm.
  virtual v1::Candidate Pick(uint64_t instance, const BanditPick& pick) const = 0;
  // The pick a candidate carries, or nullopt for a comparator (or a foreign candidate).
  virtual std::optional<BanditPick> ReadPick(const v1::Candidate& candidate) const = 0;
  // The loss charged for a failed evaluation (e.g. the iteration cap).
  virtual double FailureLoss() const = 0;
};

// Policy names BanditConfig accepts.
inline constexpr const char* kBanditPolicies[] = {"tsallis_inf", "tsallis_inf_cb", "chebcb"};

// InvalidArgument naming the field ("strategy.bandit.policies[1]: ...") for an unknown or
// repeated policy or an out-of-range option.
absl::Status ValidateBanditConfig(const v1::BanditConfig& config);

class BanditStrategy : public Strategy {
 public:
  // `problem` must implement BanditSequence (InvalidArgument "strategy.bandit: ..." otherwise)
  // and outlive the strategy. Policy streams derive from `seed`, the trial and the policy name,
  // so a policy's trial r draws the same whichever other policies share the job.
  // A configuration whose state StateBytes estimates past `max_bytes` is refused with
  // InvalidArgument naming strategy.bandit and the figures, before anything is allocated.
  static absl::StatusOr<std::unique_ptr<BanditStrategy>> Create(
      const v1::BanditConfig& config, const Problem& problem, uint64_t seed,
      uint64_t max_bytes = std::numeric_limits<uint64_t>::max());
  // The bytes the policies' state of `config` over `arms` arms takes, three times over (the live
  // state, its snapshot message and the snapshot's bytes at a checkpoint): trials x the sum over
  // policies of tsallis_inf 8 arms, tsallis_inf_cb bins x 8 arms, chebcb 344 arms (a 6 x 6 Gram
  // matrix, 6 moments and a count per arm), plus 64 per object. Saturates instead of overflowing.
  static uint64_t StateBytes(const v1::BanditConfig& config, int arms);

  v1::Candidate Ask(uint64_t index) override;
  void Tell(uint64_t index, const v1::Candidate& candidate,
            const v1::Evaluation& evaluation) override;
  bool Done() const override;
  // Each policy's mean loss so far over its trials, e.g. "mean iterations: tsallis_inf 41.2,
  // chebcb 39.9" (the loss named by the problem's first ObjectiveDisplay).
  std::string ProgressNote(uint64_t told) const override;
  // Every instance's block: NumInstances() * BlockSize().
  uint64_t NaturalEvaluations() const override;
  // "instances": complete blocks of the told results, of NumInstances(); the best single
  // evaluation is incidental (evaluations are of different instances).
  std::optional<v1::WorkUnits> Units(uint64_t told) const override;
  v1::StrategySnapshot Snapshot() const override;
  absl::Status Restore(const v1::StrategySnapshot& snapshot) override;

  // Candidates per instance (comparators plus trials x policies).
  uint64_t BlockSize() const { return block_size_; }

 private:
  using Bandit = std::variant<TsallisInf, TsallisInfCb, ChebCb>;
  struct Policy {
    std::string name;
    uint32_t trial = 0;
    Bandit bandit;
    Rng rng;
    double loss_sum = 0;  // losses told, for the progress note
    uint64_t losses = 0;
  };

  BanditStrategy(const BanditSequence& sequence, std::vector<Policy> policies, uint64_t comparators,
                 std::string loss_name);

  const BanditSequence& sequence_;
  std::string loss_name_;         // the loss in the progress note, e.g. "iterations"
  std::vector<Policy> policies_;  // trial-major
  uint64_t comparators_;          // per instance
  uint64_t block_size_;
  uint64_t asked_ = 0;
};

}  // namespace evolv
