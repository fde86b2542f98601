#include "search/bandits/bandit_strategy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <regex>

#include "evolv/test/arms.pb.h"
#include "search/strategy.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The arm choice a candidate of ThreeArms holds.
test::ArmChoice ChoiceOf(const v1::Candidate& c) {
  test::ArmChoice choice;
  EXPECT_TRUE(UnpackCandidate(c, &choice));
  return choice;
}

// Three arms; arm 1 is cheapest (10 iterations) on every instance, the others cost 50.
class ThreeArms : public Problem, public BanditSequence {
 public:
  std::string Domain() const override { return "three_arms"; }
  std::string CanonicalSpec() const override { return ""; }
  std::string EvaluatorVersion() const override { return "three_arms/1"; }
  std::vector<std::string> ObjectiveNames() const override { return {"iterations"}; }
  v1::Candidate Random(Rng&) const override { return Play(0, 0); }
  v1::Candidate Mutate(const v1::Candidate& parent, Rng&) const override { return parent; }
  ProbeBytes Probe(const v1::Candidate& c) const override { return c.SerializeAsString(); }
  v1::Evaluation Evaluate(const v1::Candidate& c, const EvalContext&) const override {
    v1::Evaluation e;
    e.set_status(v1::OK);
    e.add_objectives(ChoiceOf(c).arm() == 1 ? 10 : 50);
    return e;
  }
  std::string Render(const v1::Candidate&, RenderFormat) const override { return ""; }
  std::string Report(const std::vector<v1::HistoryEntry>&) const override { return ""; }
  const BanditSequence* AsBanditSequence() const override { return this; }

  uint64_t NumInstances() const override { return 200; }
  int NumArms() const override { return 3; }
  double Context(uint64_t t) const override { return (t % 10) / 10.0; }
  std::pair<double, double> ContextRange() const override { return {0.0, 1.0}; }
  std::vector<v1::Candidate> Comparators(uint64_t t) const override {
    return {Play(t, 0), Play(t, 1), Play(t, 2)};
  }
  v1::Candidate Pick(uint64_t t, const BanditPick& pick) const override {
    test::ArmChoice choice;
    choice.set_instance(t);
    choice.set_arm(pick.arm);
    choice.set_policy(pick.policy);
    choice.set_trial(pick.trial);
    choice.set_probability(pick.probability);
    choice.set_context(pick.context);
    return PackCandidate(choice);
  }
  std::optional<BanditPick> ReadPick(const v1::Candidate& c) const override {
    test::ArmChoice choice;
    if (!UnpackCandidate(c, &choice) || choice.policy().empty()) return std::nullopt;
    BanditPick pick;
    pick.policy = choice.policy();
    pick.trial = choice.trial();
    pick.arm = choice.arm();
    pick.probability = choice.probability();
    pick.context = choice.context();
    return pick;
  }
  double FailureLoss() const override { return 1000; }

 private:
  // The comparator playing `arm` on instance t.
  static v1::Candidate Play(uint64_t t, int arm) {
    test::ArmChoice choice;
    choice.set_instance(t);
    choice.set_arm(arm);
    return PackCandidate(choice);
  }
};

v1::BanditConfig Config(uint32_t trials) {
  v1::BanditConfig config;
  config.set_trials(trials);
  config.set_loss_scale(50);
  return config;
}

// Asks and tells `count` candidates from `first`, with feedback delayed by `window`.
std::vector<v1::Candidate> AskAndTell(BanditStrategy& strategy, const Problem& problem,
                                      uint64_t first, uint64_t count) {
  std::vector<v1::Candidate> asked;
  for (uint64_t i = first; i < first + count && !strategy.Done(); ++i) {
    asked.push_back(strategy.Ask(i));
    strategy.Tell(i, asked.back(), problem.Evaluate(asked.back(), {}));
  }
  return asked;
}

TEST(BanditStrategyTest, AsksComparatorsThenOnePickPerTrialAndPolicy) {
  ThreeArms problem;
  auto strategy = BanditStrategy::Create(Config(2), problem, 1);
  ASSERT_TRUE(strategy.ok());
  EXPECT_EQ((*strategy)->BlockSize(), 3u + 2u * 3u);
  const auto asked = AskAndTell(**strategy, problem, 0, 1000000);
  EXPECT_TRUE((*strategy)->Done());
  ASSERT_EQ(asked.size(), 200u * 9u);
  const test::ArmChoice first_pick = ChoiceOf(asked[3]);
  EXPECT_EQ(first_pick.policy(), "tsallis_inf");
  EXPECT_EQ(first_pick.trial(), 0u);
  EXPECT_GT(first_pick.probability(), 0.0);
  EXPECT_EQ(ChoiceOf(asked[8]).policy(), "chebcb");
  EXPECT_EQ(ChoiceOf(asked[8]).trial(), 1u);
  EXPECT_EQ(ChoiceOf(asked[9 + 2]).instance(), 1u);
  EXPECT_TRUE(ChoiceOf(asked[9 + 2]).policy().empty());
  // Every policy ends up playing the cheap arm far more often than uniform play (about 33 of
  // these 100 picks) would.
  std::map<std::string, int> cheap;
  for (size_t i = 150 * 9; i < asked.size(); ++i) {
    const test::ArmChoice c = ChoiceOf(asked[i]);
    if (!c.policy().empty() && c.arm() == 1) ++cheap[c.policy()];
  }
  for (const char* policy : kBanditPolicies) EXPECT_GT(cheap[policy], 60) << policy;
}

TEST(BanditStrategyTest, RestoredSnapshotContinuesIdentically) {
  ThreeArms problem;
  auto a = BanditStrategy::Create(Config(2), problem, 7);
  auto b = BanditStrategy::Create(Config(2), problem, 7);
  ASSERT_TRUE(a.ok() && b.ok());
  AskAndTell(**a, problem, 0, 500);
  v1::StrategySnapshot snapshot;
  ASSERT_TRUE(snapshot.ParseFromString((*a)->Snapshot().SerializeAsString()));
  ASSERT_TRUE((*b)->Restore(snapshot).ok());
  const auto rest_a = AskAndTell(**a, problem, 500, 600);
  const auto rest_b = AskAndTell(**b, problem, 500, 600);
  ASSERT_EQ(rest_a.size(), rest_b.size());
  for (size_t i = 0; i < rest_a.size(); ++i) {
    EXPECT_EQ(rest_a[i].SerializeAsString(), rest_b[i].SerializeAsString()) << i;
  }
  // A snapshot of another configuration is refused.
  auto other = BanditStrategy::Create(Config(3), problem, 7);
  EXPECT_FALSE((*other)->Restore(snapshot).ok());
  EXPECT_FALSE((*other)->Restore(v1::StrategySnapshot()).ok());
}

TEST(BanditStrategyTest, CountsInstancesToItsNaturalEndAndNotesEachPolicysMeanLoss) {
  ThreeArms problem;
  auto strategy = BanditStrategy::Create(Config(2), problem, 3);
  ASSERT_TRUE(strategy.ok());
  EXPECT_EQ((*strategy)->NaturalEvaluations(), 200u * 9u);
  std::optional<v1::WorkUnits> units = (*strategy)->Units(0);
  ASSERT_TRUE(units.has_value());
  EXPECT_EQ(units->name(), "instances");
  EXPECT_EQ(units->done(), 0u);
  EXPECT_EQ(units->total(), 200u);
  EXPECT_TRUE(units->best_is_incidental());
  EXPECT_EQ((*strategy)->ProgressNote(0),
            "mean iterations: tsallis_inf -, tsallis_inf_cb -, chebcb -");

  AskAndTell(**strategy, problem, 0, 100 * 9 + 4);
  EXPECT_EQ((*strategy)->Units(100 * 9 + 4)->done(), 100u);
  // Every pick costs 10 (arm 1) or 50: each policy's mean over its trials lies between.
  const std::string note = (*strategy)->ProgressNote(100 * 9 + 4);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      note, m,
      std::regex(
          R"(mean iterations: tsallis_inf ([\d.]+), tsallis_inf_cb ([\d.]+), chebcb ([\d.]+))")))
      << note;
  for (int i = 1; i <= 3; ++i) {
    EXPECT_GE(std::stod(m[i]), 10.0) << note;
    EXPECT_LE(std::stod(m[i]), 50.0) << note;
  }
  // The means survive a snapshot.
  auto restored = BanditStrategy::Create(Config(2), problem, 3);
  ASSERT_TRUE((*restored)->Restore((*strategy)->Snapshot()).ok());
  EXPECT_EQ((*restored)->ProgressNote(100 * 9 + 4), note);
}

TEST(BanditStrategyTest, RejectsBadConfigsAndProblemsWithoutArms) {
  v1::BanditConfig config;
  config.add_policies("tsallis_inf");
  config.add_policies("epsilon_greedy");
  EXPECT_THAT(std::string(ValidateBanditConfig(config).message()),
              StartsWith("strategy.bandit.policies[1]: unknown policy 'epsilon_greedy'"));
  config.clear_policies();
  config.add_policies("chebcb");
  config.add_policies("chebcb");
  EXPECT_THAT(std::string(ValidateBanditConfig(config).message()),
              StartsWith("strategy.bandit.policies[1]: 'chebcb' repeated"));
  config.clear_policies();
  config.set_loss_scale(-1);
  EXPECT_THAT(std::string(ValidateBanditConfig(config).message()),
              StartsWith("strategy.bandit.loss_scale: "));

  struct Plain : Problem {
    std::string Domain() const override { return "plain"; }
    std::string CanonicalSpec() const override { return ""; }
    std::string EvaluatorVersion() const override { return "plain/1"; }
    std::vector<std::string> ObjectiveNames() const override { return {}; }
    v1::Candidate Random(Rng&) const override { return {}; }
    v1::Candidate Mutate(const v1::Candidate& p, Rng&) const override { return p; }
    ProbeBytes Probe(const v1::Candidate&) const override { return ""; }
    v1::Evaluation Evaluate(const v1::Candidate&, const EvalContext&) const override { return {}; }
    std::string Render(const v1::Candidate&, RenderFormat) const override { return ""; }
    std::string Report(const std::vector<v1::HistoryEntry>&) const override { return ""; }
  } plain;
  auto strategy = BanditStrategy::Create(Config(1), plain, 1);
  ASSERT_FALSE(strategy.ok());
  EXPECT_THAT(std::string(strategy.status().message()), StartsWith("strategy.bandit: the plain"));
}

TEST(BanditStrategyTest, StateBytesFollowTrialsPoliciesBinsAndArms) {
  v1::BanditConfig config;
  config.set_trials(10);
  config.add_policies("tsallis_inf");
  EXPECT_EQ(BanditStrategy::StateBytes(config, 1000), 3u * 10 * (8 * 1000 + 64));
  config.add_policies("tsallis_inf_cb");
  config.set_bins(100);
  EXPECT_EQ(BanditStrategy::StateBytes(config, 1000),
            3u * 10 * ((8 * 1000 + 64) + 100 * (8 * 1000 + 64) + 64));
  // The fields' own limits: 1,000 trials of every policy, 10,000 bins, 1,000 arms.
  config.set_trials(1000);
  config.set_bins(10000);
  config.add_policies("chebcb");
  EXPECT_GT(BanditStrategy::StateBytes(config, 1000), uint64_t{200} << 30);
}

TEST(BanditStrategyTest, AConfigurationPastTheMemoryLimitIsRefusedBeforeItsStateIsBuilt) {
  ThreeArms problem;
  v1::BanditConfig config = Config(1000);
  config.set_bins(10000);
  const uint64_t bytes = BanditStrategy::StateBytes(config, problem.NumArms());
  auto refused = BanditStrategy::Create(config, problem, 1, bytes - 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()),
              StartsWith("strategy.bandit: its state would take about "));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("(trials 1000 x policies 3, bins 10000, 3 arms)"));
  EXPECT_TRUE(BanditStrategy::Create(config, problem, 1, bytes).ok());

  // Through a job spec, with the limit a server sets.
  v1::JobSpec spec;
  *spec.mutable_strategy()->mutable_bandit() = config;
  JobLimits limits;
  limits.max_strategy_bytes = bytes - 1;
  auto via_spec = CreateStrategy(spec, problem, limits);
  ASSERT_FALSE(via_spec.ok());
  EXPECT_THAT(std::string(via_spec.status().message()), StartsWith("strategy.bandit: its state"));
}

}  // namespace
}  // namespace evolv
