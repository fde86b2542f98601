// The diffusion problem: spec validation, candidates, keys, evaluation and report.
#include "evaluators/diffusion/diffusion_problem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "evaluators/diffusion/eigen_blocking.h"
#include "evaluators/registry.h"
#include "google/protobuf/util/message_differencer.h"
#include "search/functional_hash.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::DiffusionSpec Small(int k = 4) {
  v1::DiffusionSpec spec;
  spec.mutable_mixture()->set_dimension(4);
  spec.mutable_mixture()->set_components(3);
  spec.mutable_mixture()->set_seed(2);
  spec.set_steps(k);
  spec.set_samples(400);
  return spec;
}

std::unique_ptr<DiffusionProblem> Make(const v1::DiffusionSpec& spec) {
  auto problem = CreateDiffusionProblem(spec);
  EXPECT_TRUE(problem.ok()) << problem.status();
  return std::unique_ptr<DiffusionProblem>(static_cast<DiffusionProblem*>(problem->release()));
}

std::vector<int> StepsOf(const v1::Candidate& candidate) {
  v1::DiffusionSchedule schedule;
  EXPECT_TRUE(UnpackCandidate(candidate, &schedule));
  return std::vector<int>(schedule.steps().begin(), schedule.steps().end());
}

struct BadSpec {
  std::string what;
  std::function<void(v1::DiffusionSpec&)> edit;
  std::string message_prefix;
};

TEST(DiffusionSpecTest, BadInputIsRefusedNamingTheField) {
  const std::vector<BadSpec> cases = {
      {"K = 0", [](auto& s) { s.set_steps(0); }, "diffusion.steps: required"},
      {"K > T", [](auto& s) { s.set_steps(1001); }, "diffusion.steps: 1001 exceeds T = 1000"},
      {"no dimension", [](auto& s) { s.mutable_mixture()->set_dimension(0); },
       "diffusion.mixture.dimension: 0 is outside 1..128"},
      {"d over the limit", [](auto& s) { s.mutable_mixture()->set_dimension(129); },
       "diffusion.mixture.dimension: 129 is outside 1..128"},
      {"N over the limit", [](auto& s) { s.set_samples(100001); },
       "diffusion.samples: 100001 exceeds the limit 100000"},
      {"N * d over the limit",
       [](auto& s) {
         s.mutable_mixture()->set_dimension(128);
         s.set_samples(40000);
       },
       "diffusion.samples: N * d = 40000 * 128 exceeds the limit 4194304"},
      {"too few samples", [](auto& s) { s.set_samples(3); }, "diffusion.samples: 3 is below"},
      {"evaluation cost",
       [](auto& s) {
         s.mutable_mixture()->set_dimension(128);
         s.mutable_mixture()->set_components(64);
         s.set_samples(30000);
       },
       "diffusion.samples: the evaluation cost"},
      {"components over the limit", [](auto& s) { s.mutable_mixture()->set_components(65); },
       "diffusion.mixture.components: 65 exceed the limit 64"},
      {"NaN eigenvalue",
       [](auto& s) {
         auto* spectrum = s.mutable_mixture()->mutable_spectrum();
         spectrum->set_kind(v1::CovarianceSpectrum::EXPLICIT);
         for (double v : {0.1, 0.2, std::nan(""), 0.3}) spectrum->add_eigenvalues(v);
       },
       "diffusion.mixture.spectrum.eigenvalues[2]: nan is not in (0, 1e+06]"},
      {"NaN in a covariance",
       [](auto& s) {
         auto* m = s.mutable_mixture();
         m->set_components(0);
         auto* c = m->add_explicit_components();
         c->set_weight(1);
         for (int i = 0; i < 4; ++i) c->add_mean(0);
         for (int i = 0; i < 16; ++i) c->add_covariance(i % 5 == 0 ? 1.0 : 0.0);
         c->set_covariance(6, std::nan(""));
       },
       "diffusion.mixture.explicit_components[0].covariance[6]: nan is not finite"},
      {"covariance not positive definite",
       [](auto& s) {
         auto* m = s.mutable_mixture();
         m->set_components(0);
         auto* c = m->add_explicit_components();
         c->set_weight(1);
         for (int i = 0; i < 4; ++i) c->add_mean(0);
         for (int i = 0; i < 16; ++i) c->add_covariance(i % 5 == 0 ? 1.0 : 0.0);
         c->set_covariance(15, -1.0);
       },
       "diffusion.mixture.explicit_components[0].covariance: not positive definite"},
      {"covariance not symmetric",
       [](auto& s) {
         auto* m = s.mutable_mixture();
         m->set_components(0);
         auto* c = m->add_explicit_components();
         c->set_weight(1);
         for (int i = 0; i < 4; ++i) c->add_mean(0);
         for (int i = 0; i < 16; ++i) c->add_covariance(i % 5 == 0 ? 1.0 : 0.0);
         c->set_covariance(1, 0.5);
       },
       "diffusion.mixture.explicit_components[0].covariance[4]: the matrix is not symmetric"},
      {"duplicate steps in a baseline",
       [](auto& s) {
         auto* b = s.add_baselines();
         for (int t : {0, 250, 250, 750}) b->add_steps(t);
       },
       "diffusion.baselines[0].steps: duplicate step 250"},
      {"a baseline with another K",
       [](auto& s) {
         auto* b = s.add_baselines();
         for (int t : {0, 250, 500}) b->add_steps(t);
       },
       "diffusion.baselines[0].steps: has 3 steps; K is 4"},
      {"a baseline step beyond T",
       [](auto& s) {
         auto* b = s.add_baselines();
         for (int t : {0, 250, 500, 1000}) b->add_steps(t);
       },
       "diffusion.baselines[0].steps: step 1000 is outside [0, 1000)"},
      {"unknown sampler",
       [](auto& s) { s.set_sampler(static_cast<v1::DiffusionSpec::Sampler>(9)); },
       "diffusion.sampler: unknown value"},
      {"negative mean scale", [](auto& s) { s.mutable_mixture()->set_mean_scale(-1); },
       "diffusion.mixture.mean_scale"},
      {"spectrum min above max",
       [](auto& s) {
         s.mutable_mixture()->mutable_spectrum()->set_min(1.0);
         s.mutable_mixture()->mutable_spectrum()->set_max(0.5);
       },
       "diffusion.mixture.spectrum.min"},
  };
  for (const BadSpec& c : cases) {
    v1::DiffusionSpec spec = Small();
    c.edit(spec);
    auto problem = CreateDiffusionProblem(spec);
    ASSERT_FALSE(problem.ok()) << c.what;
    EXPECT_EQ(problem.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
    EXPECT_THAT(std::string(problem.status().message()), StartsWith(c.message_prefix)) << c.what;
  }
}

// Eigen's products block for the pinned cache sizes once a diffusion problem exists, whatever this
// CPU's caches are, so that evaluations are the same on every machine (eigen_blocking.h; the
// golden test pins the values they give).
TEST(DiffusionProblemTest, EigenBlocksForThePinnedCacheSizesOnEveryMachine) {
  auto problem = Make(Small());
  EXPECT_EQ(Eigen::l1CacheSize(), kEigenBlockingL1);
  EXPECT_EQ(Eigen::l2CacheSize(), kEigenBlockingL2);
  EXPECT_EQ(Eigen::l3CacheSize(), kEigenBlockingL3);
}

TEST(DiffusionSpecTest, TheRegistryBuildsTheDomainFromItsSpec) {
  const auto domains = BuiltinProblems().Domains();
  EXPECT_NE(std::find(domains.begin(), domains.end(), "diffusion"), domains.end());
  v1::JobSpec job;
  job.mutable_problem()->PackFrom(Small());
  auto problem = BuiltinProblems().Create(job);
  ASSERT_TRUE(problem.ok()) << problem.status();
  EXPECT_EQ((*problem)->Domain(), "diffusion");
  EXPECT_EQ((*problem)->ObjectiveNames(), (std::vector<std::string>{"fd", "loglik_gap"}));
}

TEST(DiffusionProblemTest, BadCandidatesAreInfeasibleNamingTheField) {
  auto problem = Make(Small());
  auto infeasible = [&](std::vector<int> steps) {
    const auto e = problem->CheckFeasible(DiffusionCandidate(steps));
    EXPECT_TRUE(e.has_value());
    if (!e) return std::string();
    EXPECT_EQ(e->status(), v1::INFEASIBLE);
    EXPECT_EQ(problem->Evaluate(DiffusionCandidate(steps), {}).status(), v1::INFEASIBLE);
    return e->error();
  };
  EXPECT_EQ(infeasible({0, 250, 250, 750}), "diffusion.steps: duplicate step 250");
  EXPECT_EQ(infeasible({0, 250, 750}), "diffusion.steps: has 3 steps; K is 4");
  EXPECT_EQ(infeasible({0, 250, 500, 1200}), "diffusion.steps: step 1200 is outside [0, 1000)");
  v1::DiffusionSchedule skipping;
  for (int t : {0, 250, 500, 750}) skipping.add_steps(t);
  auto* skip = skipping.add_skipped();
  skip->set_step(250);
  skip->add_blocks(0);
  const auto e = problem->CheckFeasible(PackCandidate(skipping));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->error(), "diffusion.skipped[0].blocks: the exact denoiser has no blocks");
  EXPECT_FALSE(problem->CheckFeasible(DiffusionCandidate({750, 0, 500, 250})).has_value());
  // A foreign candidate is not a structure error; evaluating it fails.
  EXPECT_EQ(problem->Evaluate(v1::Candidate(), {}).status(), v1::FAILED);
}

TEST(DiffusionProblemTest, PermutedStepSetsShareAKeyAndAnEvaluation) {
  auto problem = Make(Small());
  const v1::Candidate sorted = DiffusionCandidate({0, 250, 500, 750});
  const v1::Candidate permuted = DiffusionCandidate({500, 0, 750, 250});
  const v1::Candidate other = DiffusionCandidate({0, 250, 500, 751});
  EXPECT_EQ(FunctionalKey(*problem, sorted), FunctionalKey(*problem, permuted));
  EXPECT_NE(FunctionalKey(*problem, sorted), FunctionalKey(*problem, other));
  const v1::Evaluation a = problem->Evaluate(sorted, {});
  const v1::Evaluation b = problem->Evaluate(permuted, {});
  ASSERT_EQ(a.status(), v1::OK) << a.error();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, b));
  EXPECT_TRUE(problem->CompareHit(a, b).within);
}

TEST(DiffusionProblemTest, KeysFollowWhatTheEvaluationDependsOn) {
  const CacheKey base = FunctionalKey(*Make(Small()), DiffusionCandidate({1, 2, 3, 4}));
  // K only decides feasibility, and defaults spelled out are the defaults.
  v1::DiffusionSpec other_k = Small(5);
  EXPECT_EQ(FunctionalKey(*Make(other_k), DiffusionCandidate({1, 2, 3, 4})), base);
  v1::DiffusionSpec spelled = Small();
  spelled.set_schedule(v1::DiffusionSpec::COSINE);
  spelled.set_sampler(v1::DiffusionSpec::DDIM);
  EXPECT_EQ(FunctionalKey(*Make(spelled), DiffusionCandidate({1, 2, 3, 4})), base);
  for (auto edit : std::vector<std::function<void(v1::DiffusionSpec&)>>{
           [](auto& s) { s.set_samples(500); },
           [](auto& s) { s.set_noise_seed(3); },
           [](auto& s) { s.set_sampler(v1::DiffusionSpec::DPM_SOLVER_PP_2M); },
           [](auto& s) { s.set_schedule(v1::DiffusionSpec::LINEAR); },
           [](auto& s) { s.mutable_mixture()->set_seed(3); },
       }) {
    v1::DiffusionSpec spec = Small();
    edit(spec);
    EXPECT_NE(FunctionalKey(*Make(spec), DiffusionCandidate({1, 2, 3, 4})), base);
  }
}

TEST(DiffusionProblemTest, OperatorsKeepKDistinctSortedSteps) {
  for (int k : {1, 4, 10, 999, 1000}) {
    v1::DiffusionSpec spec = Small(k);
    spec.set_samples(10);
    auto problem = Make(spec);
    Rng rng(k);
    auto valid = [&](const v1::Candidate& c) {
      const std::vector<int> steps = StepsOf(c);
      EXPECT_TRUE(std::is_sorted(steps.begin(), steps.end()));
      EXPECT_FALSE(problem->CheckFeasible(c).has_value()) << "k = " << k;
      return steps;
    };
    v1::Candidate a = problem->Random(rng);
    valid(a);
    for (int i = 0; i < 30; ++i) {
      const v1::Candidate b = problem->Random(rng);
      const std::vector<int> child = valid(*problem->Crossover(a, b, rng));
      // Every step of a crossover child comes from a parent.
      std::set<int> parents;
      for (int t : StepsOf(a)) parents.insert(t);
      for (int t : StepsOf(b)) parents.insert(t);
      for (int t : child) EXPECT_TRUE(parents.count(t)) << t;
      const v1::Candidate mutant = problem->Mutate(a, rng);
      valid(mutant);
      if (k < 1000) {
        EXPECT_NE(StepsOf(mutant), StepsOf(a));
      }
      valid(problem->MutateGenes(a, 0.25, {}, rng));
      a = b;
    }
    EXPECT_EQ(StepsOf(problem->MutateGenes(a, 0.0, {}, rng)), StepsOf(a));
  }
}

TEST(DiffusionProblemTest, CrossoverOfOverlappingParentsNeverLosesSteps) {
  // Positions pair 10 with 20 and 20 with 30: a naive positional crossover can take 20 twice.
  auto problem = Make(Small(3));
  Rng rng(1);
  for (int i = 0; i < 200; ++i) {
    const auto child =
        problem->Crossover(DiffusionCandidate({10, 20, 40}), DiffusionCandidate({20, 30, 50}), rng);
    const std::vector<int> steps = StepsOf(*child);
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_FALSE(problem->CheckFeasible(*child).has_value());
  }
}

TEST(DiffusionProblemTest, SeedsAreUniformThenTheBaselines) {
  v1::DiffusionSpec spec = Small();
  auto* b = spec.add_baselines();
  for (int t : {999, 600, 300, 10}) b->add_steps(t);
  auto problem = Make(spec);
  const auto seeds = problem->Seeds();
  ASSERT_EQ(seeds.size(), 2u);
  EXPECT_EQ(StepsOf(seeds[0]), (std::vector<int>{0, 250, 500, 750}));
  EXPECT_EQ(StepsOf(seeds[1]), (std::vector<int>{10, 300, 600, 999}));
}

TEST(DiffusionProblemTest, EvaluationIsDeterministicWithBothObjectivesAndMetrics) {
  auto problem = Make(Small());
  const v1::Candidate uniform = DiffusionCandidate(UniformSteps(4));
  const v1::Evaluation e = problem->Evaluate(uniform, {123, 0});
  ASSERT_EQ(e.status(), v1::OK) << e.error();
  ASSERT_EQ(e.objectives_size(), 2);
  EXPECT_EQ(e.objectives(0), e.metrics().at("fd"));
  EXPECT_EQ(e.objectives(1), e.metrics().at("loglik_gap"));
  EXPECT_GT(e.objectives(0), problem->noise_floor());
  EXPECT_EQ(e.metrics().at("noise_floor"), problem->noise_floor());
  EXPECT_EQ(e.metrics().at("first_step"), 750);
  EXPECT_EQ(e.metrics().at("last_step"), 0);
  EXPECT_GE(e.metrics().at("mass_error"), 0);
  // The context's seed changes nothing: the noises are the spec's.
  using google::protobuf::util::MessageDifferencer;
  EXPECT_TRUE(MessageDifferencer::Equals(problem->Evaluate(uniform, {9, 1}), e));
  // A rebuilt problem evaluates the same.
  EXPECT_TRUE(MessageDifferencer::Equals(Make(Small())->Evaluate(uniform, {}), e));
}

TEST(DiffusionProblemTest, LoglikGapSeesSamplesPulledToTheModes) {
  // Stopping at a posterior mean from a single large step shrinks the samples toward the
  // modes: their likelihood is too high, which the gap shows beside the FD.
  auto problem = Make(Small(1));
  const ScheduleScore one_step = problem->Score({500}, SamplerKind::kDdim);
  EXPECT_GT(one_step.loglik, problem->reference_loglik());
  EXPECT_GT(one_step.loglik_gap, 0.2);
  std::vector<int> all(kDiffusionTimeSteps);
  for (int t = 0; t < kDiffusionTimeSteps; ++t) all[t] = t;
  EXPECT_LT(problem->Score(all, SamplerKind::kDdim).loglik_gap, 0.5 * one_step.loglik_gap);
}

TEST(DiffusionProblemTest, RenderIsTheSortedSet) {
  auto problem = Make(Small());
  const v1::Candidate c = DiffusionCandidate({750, 0, 500, 250});
  EXPECT_EQ(problem->Render(c, RenderFormat::kText), "{0, 250, 500, 750}");
  EXPECT_EQ(problem->Render(c, RenderFormat::kJson), "{\"steps\": [0, 250, 500, 750]}");
}

TEST(DiffusionProblemTest, ReportShowsTheBaselinesBesideTheBestSchedule) {
  auto problem = Make(Small());
  std::vector<v1::HistoryEntry> history;
  for (const auto& steps : {UniformSteps(4), std::vector<int>{5, 60, 300, 999}}) {
    v1::HistoryEntry entry;
    entry.set_index(history.size());
    *entry.mutable_candidate() = DiffusionCandidate(steps);
    *entry.mutable_evaluation() = problem->Evaluate(entry.candidate(), {});
    history.push_back(entry);
  }
  const std::string report = problem->Report(history);
  for (const char* row :
       {"noise floor", "uniform (ddim4)", "trailing (linspace 0..999)", "quadratic",
        "100-step reference", "searched (result", "DPM++2M FD", "searched / uniform with DDIM"}) {
    EXPECT_THAT(report, HasSubstr(row));
  }
  EXPECT_THAT(problem->Report({}), HasSubstr("no searched schedule yet"));
}

TEST(DiffusionProblemTest, ChartPutsTheUniformAndTheBestStepsOnTheNoiseCurve) {
  auto problem = Make(Small());
  const std::vector<int> searched = {5, 60, 300, 999};
  v1::HistoryEntry entry;
  entry.set_index(7);
  *entry.mutable_candidate() = DiffusionCandidate(searched);
  *entry.mutable_evaluation() = problem->Evaluate(entry.candidate(), {});
  const std::vector<v1::ReportChart> charts = problem->Charts({entry});
  ASSERT_EQ(charts.size(), 1u);
  const v1::ReportChart& chart = charts[0];
  EXPECT_EQ(chart.name(), "schedule");
  EXPECT_TRUE(chart.log_y());
  ASSERT_EQ(chart.series_size(), 3);
  // The curve: alpha_bar falls from about 1 at t = 0 to its smallest value at t = 999.
  const v1::ChartSeries& curve = chart.series(0);
  EXPECT_EQ(curve.x_size(), 201);
  EXPECT_EQ(curve.x(curve.x_size() - 1), 999);
  for (int i = 1; i < curve.y_size(); ++i) EXPECT_LT(curve.y(i), curve.y(i - 1));
  EXPECT_GT(curve.y(0), 0.99);
  EXPECT_EQ(chart.series(1).label(), "uniform, 4 steps");
  EXPECT_THAT(chart.series(1).x(), ::testing::ElementsAre(0, 250, 500, 750));
  EXPECT_EQ(chart.series(2).label(), "searched (result 7)");
  EXPECT_THAT(chart.series(2).x(), ::testing::ElementsAre(5, 60, 300, 999));
  // Each marked step sits on the curve.
  EXPECT_DOUBLE_EQ(chart.series(2).y(3), curve.y(curve.y_size() - 1));
  EXPECT_EQ(problem->Charts({})[0].series_size(), 2);  // no search yet: the curve and uniform
}

}  // namespace
}  // namespace evolv
