#include "search/bandits/bandit_strategy.h"

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace evolv {
namespace {

constexpr uint32_t kMaxTrials = 1000;
constexpr uint32_t kMaxBins = 10000;
constexpr double kDefaultLossScale = 100.0;
constexpr int kDefaultBins = 10;

absl::Status Invalid(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("strategy.bandit.", field, ": ", reason));
}

bool KnownPolicy(const std::string& name) {
  for (const char* known : kBanditPolicies) {
    if (name == known) return true;
  }
  return false;
}

std::vector<std::string> PolicyNames(const v1::BanditConfig& config) {
  if (config.policies().empty()) return {std::begin(kBanditPolicies), std::end(kBanditPolicies)};
  return {config.policies().begin(), config.policies().end()};
}

// FNV-1a: a stable hash of a policy name for its seed (std::hash differs between libraries).
uint64_t NameHash(const std::string& name) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ULL;
  return h;
}

void SaveTsallis(const TsallisInfState& state, v1::TsallisInfSnapshot* out) {
  out->mutable_loss_estimates()->Add(state.loss_estimates.begin(), state.loss_estimates.end());
  out->set_rounds(state.rounds);
}

TsallisInfState LoadTsallis(const v1::TsallisInfSnapshot& in) {
  TsallisInfState state;
  state.loss_estimates.assign(in.loss_estimates().begin(), in.loss_estimates().end());
  state.rounds = in.rounds();
  return state;
}

// The loss as the problem names its first objective (the bandits' feedback), for the note.
std::string LossName(const Problem& problem) {
  const std::vector<v1::ObjectiveDisplay> displays = problem.ObjectiveDisplays();
  if (displays.empty()) return "loss";
  const v1::ObjectiveDisplay& d = displays.front();
  const std::string label = d.label().empty() ? d.name() : d.label();
  return d.scale() == v1::ObjectiveDisplay::LOG10 ? "log10 " + label : label;
}

}  // namespace

absl::Status ValidateBanditConfig(const v1::BanditConfig& config) {
  std::set<std::string> seen;
  for (int i = 0; i < config.policies_size(); ++i) {
    const std::string& name = config.policies(i);
    const std::string field = absl::StrCat("policies[", i, "]");
    if (!KnownPolicy(name)) {
      return Invalid(field, absl::StrCat("unknown policy '", name,
                                         "' (known: tsallis_inf, tsallis_inf_cb, chebcb)"));
    }
    if (!seen.insert(name).second) return Invalid(field, absl::StrCat("'", name, "' repeated"));
  }
  if (config.trials() > kMaxTrials) {
    return Invalid("trials", absl::StrCat(config.trials(), " exceeds the limit ", kMaxTrials));
  }
  if (!(std::isfinite(config.loss_scale()) && config.loss_scale() >= 0)) {
    return Invalid("loss_scale", "must be a finite number > 0 (0 means 100)");
  }
  if (config.bins() > kMaxBins) {
    return Invalid("bins", absl::StrCat(config.bins(), " exceeds the limit ", kMaxBins));
  }
  if (!(std::isfinite(config.gamma_scale()) && config.gamma_scale() >= 0)) {
    return Invalid("gamma_scale", "must be a finite number > 0 (0 means 1)");
  }
  if (config.has_loss_baseline() && !std::isfinite(config.loss_baseline())) {
    return Invalid("loss_baseline", "must be a finite number");
  }
  return absl::OkStatus();
}

uint64_t BanditStrategy::StateBytes(const v1::BanditConfig& config, int arms) {
  constexpr long double kObject = 64;
  const long double a = arms > 0 ? arms : 0;
  const long double bins = config.bins() > 0 ? config.bins() : kDefaultBins;
  long double per_trial = 0;
  for (const std::string& name : PolicyNames(config)) {
    if (name == "tsallis_inf") {
      per_trial += 8 * a + kObject;
    } else if (name == "tsallis_inf_cb") {
      per_trial += bins * (8 * a + kObject) + kObject;
    } else {
      per_trial += 344 * a + kObject;
    }
  }
  const long double trials = config.trials() > 0 ? config.trials() : 1;
  const long double bytes = 3 * trials * per_trial;
  const long double max = static_cast<long double>(std::numeric_limits<uint64_t>::max());
  return bytes >= max ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(bytes);
}

absl::StatusOr<std::unique_ptr<BanditStrategy>> BanditStrategy::Create(
    const v1::BanditConfig& config, const Problem& problem, uint64_t seed, uint64_t max_bytes) {
  if (absl::Status status = ValidateBanditConfig(config); !status.ok()) return status;
  const auto* sequence = problem.AsBanditSequence();
  if (sequence == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("strategy.bandit: the ", problem.Domain(),
                     " problem is not a sequence of instances with arms"));
  }
  const int arms = sequence->NumArms();
  if (const uint64_t bytes = StateBytes(config, arms); bytes > max_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "strategy.bandit: its state would take about %.3g GB (trials %u x policies %d, bins %u, "
        "%d arms), over the limit of %.3g GB (evolvd --max-strategy-memory); lower "
        "strategy.bandit.trials or bins, or the problem's arms",
        bytes / 1e9, config.trials() > 0 ? config.trials() : 1,
        static_cast<int>(PolicyNames(config).size()),
        config.bins() > 0 ? config.bins() : static_cast<uint32_t>(kDefaultBins), arms,
        max_bytes / 1e9));
  }
  const auto [lo, hi] = sequence->ContextRange();
  const double loss_scale = config.loss_scale() > 0 ? config.loss_scale() : kDefaultLossScale;
  const int bins = config.bins() > 0 ? static_cast<int>(config.bins()) : kDefaultBins;
  const double gamma_scale = config.gamma_scale() > 0 ? config.gamma_scale() : 1.0;
  const double loss_baseline = config.has_loss_baseline() ? config.loss_baseline() : 0.5;
  const uint32_t trials = config.trials() > 0 ? config.trials() : 1;
  std::vector<Policy> policies;
  for (uint32_t trial = 0; trial < trials; ++trial) {
    for (const std::string& name : PolicyNames(config)) {
      absl::StatusOr<Bandit> bandit = absl::InternalError("unreachable");
      if (name == "tsallis_inf") {
        auto made = TsallisInf::Create(arms, loss_scale, loss_baseline);
        bandit = made.ok() ? absl::StatusOr<Bandit>(*std::move(made)) : made.status();
      } else if (name == "tsallis_inf_cb") {
        auto made = TsallisInfCb::Create(arms, loss_scale, bins, lo, hi, loss_baseline);
        bandit = made.ok() ? absl::StatusOr<Bandit>(*std::move(made)) : made.status();
      } else {
        ChebCbOptions options;
        options.num_arms = arms;
        options.loss_scale = loss_scale;
        options.context_lo = lo;
        options.context_hi = hi;
        options.gamma_scale = gamma_scale;
        auto made = ChebCb::Create(options);
        bandit = made.ok() ? absl::StatusOr<Bandit>(*std::move(made)) : made.status();
      }
      if (!bandit.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("strategy.bandit: ", name, ": ", bandit.status().message()));
      }
      const uint64_t stream = Mix64(seed ^ Mix64(trial + 1) ^ NameHash(name));
      policies.push_back(Policy{name, trial, *std::move(bandit), Rng(stream)});
    }
  }
  const uint64_t comparators = sequence->Comparators(0).size();
  return std::unique_ptr<BanditStrategy>(
      new BanditStrategy(*sequence, std::move(policies), comparators, LossName(problem)));
}

BanditStrategy::BanditStrategy(const BanditSequence& sequence, std::vector<Policy> policies,
                               uint64_t comparators, std::string loss_name)
    : sequence_(sequence),
      loss_name_(std::move(loss_name)),
      policies_(std::move(policies)),
      comparators_(comparators),
      block_size_(comparators + policies_.size()) {}

std::string BanditStrategy::ProgressNote(uint64_t told) const {
  (void)told;
  // Policies in config order (the first trial's), each averaged over its trials.
  std::vector<std::string> names;
  std::map<std::string, std::pair<double, uint64_t>> sums;
  for (const Policy& policy : policies_) {
    auto [it, inserted] = sums.try_emplace(policy.name, 0.0, 0);
    if (inserted) names.push_back(policy.name);
    it->second.first += policy.loss_sum;
    it->second.second += policy.losses;
  }
  std::string note = absl::StrCat("mean ", loss_name_, ":");
  for (size_t i = 0; i < names.size(); ++i) {
    const auto [sum, count] = sums[names[i]];
    absl::StrAppend(&note, i ? ", " : " ", names[i], " ",
                    count ? absl::StrFormat("%.4g", sum / count) : std::string("-"));
  }
  return note;
}

uint64_t BanditStrategy::NaturalEvaluations() const {
  return sequence_.NumInstances() * block_size_;
}

std::optional<v1::WorkUnits> BanditStrategy::Units(uint64_t told) const {
  v1::WorkUnits units;
  units.set_name("instances");
  units.set_done(block_size_ ? std::min(told / block_size_, sequence_.NumInstances()) : 0);
  units.set_total(sequence_.NumInstances());
  units.set_best_is_incidental(true);
  return units;
}

bool BanditStrategy::Done() const {
  return block_size_ == 0 || asked_ >= sequence_.NumInstances() * block_size_;
}

v1::Candidate BanditStrategy::Ask(uint64_t index) {
  asked_ = index + 1;
  const uint64_t instance = index / block_size_;
  const uint64_t slot = index % block_size_;
  if (slot < comparators_) return sequence_.Comparators(instance)[slot];
  Policy& policy = policies_[slot - comparators_];
  const double context = sequence_.Context(instance);
  const BanditDraw draw = std::visit(
      [&](const auto& bandit) -> BanditDraw {
        using T = std::decay_t<decltype(bandit)>;
        if constexpr (std::is_same_v<T, TsallisInf>) {
          return bandit.Sample(policy.rng);
        } else {
          return bandit.Sample(context, policy.rng);
        }
      },
      policy.bandit);
  BanditPick pick;
  pick.policy = policy.name;
  pick.trial = policy.trial;
  pick.arm = draw.arm;
  pick.probability = draw.probability;
  pick.context = context;
  return sequence_.Pick(instance, pick);
}

void BanditStrategy::Tell(uint64_t index, const v1::Candidate& candidate,
                          const v1::Evaluation& evaluation) {
  (void)index;
  const std::optional<BanditPick> pick = sequence_.ReadPick(candidate);
  if (!pick || pick->policy.empty()) return;  // a comparator
  const BanditPick& choice = *pick;
  for (Policy& policy : policies_) {
    if (policy.name != choice.policy || policy.trial != choice.trial) continue;
    const double loss = evaluation.status() == v1::OK && evaluation.objectives_size() > 0 &&
                                std::isfinite(evaluation.objectives(0))
                            ? evaluation.objectives(0)
                            : sequence_.FailureLoss();
    policy.loss_sum += loss;
    ++policy.losses;
    // An update the bandit rejects (a corrupted candidate) leaves its state unchanged.
    std::visit(
        [&](auto& bandit) {
          using T = std::decay_t<decltype(bandit)>;
          if constexpr (std::is_same_v<T, TsallisInf>) {
            (void)bandit.Update(choice.arm, loss, choice.probability);
          } else {
            (void)bandit.Update(choice.context, choice.arm, loss, choice.probability);
          }
        },
        policy.bandit);
    return;
  }
}

v1::StrategySnapshot BanditStrategy::Snapshot() const {
  v1::StrategySnapshot snapshot;
  v1::BanditState* state = snapshot.mutable_bandit();
  state->set_asked(asked_);
  for (const Policy& policy : policies_) {
    v1::BanditPolicySnapshot* out = state->add_policies();
    out->set_policy(policy.name);
    out->set_trial(policy.trial);
    out->set_loss_sum(policy.loss_sum);
    out->set_losses(policy.losses);
    const v1::RngState rng = policy.rng.Save();
    out->mutable_rng()->Add(rng.s().begin(), rng.s().end());
    if (const auto* b = std::get_if<TsallisInf>(&policy.bandit)) {
      SaveTsallis(b->Save(), out->add_bins());
    } else if (const auto* b = std::get_if<TsallisInfCb>(&policy.bandit)) {
      for (const TsallisInfState& bin : b->Save().bins) SaveTsallis(bin, out->add_bins());
    } else if (const auto* b = std::get_if<ChebCb>(&policy.bandit)) {
      const ChebCbState s = b->Save();
      v1::ChebCbSnapshot* cb = out->mutable_chebcb();
      cb->mutable_gram()->Add(s.gram.begin(), s.gram.end());
      cb->mutable_moments()->Add(s.moments.begin(), s.moments.end());
      cb->mutable_pulls()->Add(s.pulls.begin(), s.pulls.end());
      cb->set_rounds(s.rounds);
    }
  }
  return snapshot;
}

absl::Status BanditStrategy::Restore(const v1::StrategySnapshot& snapshot) {
  if (!snapshot.has_bandit()) {
    return absl::InvalidArgumentError("strategy snapshot: not of the bandit strategy");
  }
  const v1::BanditState& state = snapshot.bandit();
  if (state.policies_size() != static_cast<int>(policies_.size())) {
    return absl::InvalidArgumentError(absl::StrCat("strategy snapshot: ", state.policies_size(),
                                                   " policy states, expected ", policies_.size()));
  }
  std::vector<Policy> restored = policies_;
  for (size_t i = 0; i < restored.size(); ++i) {
    const v1::BanditPolicySnapshot& in = state.policies(static_cast<int>(i));
    Policy& policy = restored[i];
    const std::string where = absl::StrCat("strategy snapshot: policies[", i, "]: ");
    if (in.policy() != policy.name || in.trial() != policy.trial) {
      return absl::InvalidArgumentError(absl::StrCat(where, "is ", in.policy(), " trial ",
                                                     in.trial(), ", expected ", policy.name,
                                                     " trial ", policy.trial));
    }
    policy.loss_sum = in.loss_sum();
    policy.losses = in.losses();
    v1::RngState rng;
    rng.mutable_s()->Add(in.rng().begin(), in.rng().end());
    if (!policy.rng.Restore(rng)) {
      return absl::InvalidArgumentError(absl::StrCat(where, "rng: not four words"));
    }
    absl::Status status;
    if (auto* b = std::get_if<TsallisInf>(&policy.bandit)) {
      status = in.bins_size() == 1
                   ? b->Restore(LoadTsallis(in.bins(0)))
                   : absl::InvalidArgumentError(absl::StrCat("bins: ", in.bins_size(), " != 1"));
    } else if (auto* b = std::get_if<TsallisInfCb>(&policy.bandit)) {
      TsallisInfCbState s;
      for (const auto& bin : in.bins()) s.bins.push_back(LoadTsallis(bin));
      status = b->Restore(s);
    } else if (auto* b = std::get_if<ChebCb>(&policy.bandit)) {
      ChebCbState s;
      s.gram.assign(in.chebcb().gram().begin(), in.chebcb().gram().end());
      s.moments.assign(in.chebcb().moments().begin(), in.chebcb().moments().end());
      s.pulls.assign(in.chebcb().pulls().begin(), in.chebcb().pulls().end());
      s.rounds = in.chebcb().rounds();
      status = b->Restore(s);
    }
    if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat(where, status.message()));
  }
  policies_ = std::move(restored);
  asked_ = state.asked();
  return absl::OkStatus();
}

}  // namespace evolv
