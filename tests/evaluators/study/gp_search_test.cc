// The Gaussian-process search (search/gp_search.h) over a study's parameters, driven directly
// with objectives computed here: it beats random search on Branin, asks distinct points for a
// window, and a restored snapshot asks what the uninterrupted search asks. Also the study's side
// of evaluation by clients: the client's values as an evaluation, and the spec's checks.
#include "search/gp_search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "evaluators/study/study_problem.h"
#include "google/protobuf/text_format.h"
#include "search/random_search.h"
#include "search/strategy.h"

namespace evolv {
namespace {

v1::StudySpec BraninSpec() {
  v1::StudySpec spec;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"(
      parameters { name: "x1" real { low: -5 high: 10 } }
      parameters { name: "x2" real { low: 0 high: 15 } }
      objectives { name: "value" }
      clients { objective: "branin" }
    )",
                                                            &spec));
  return spec;
}

std::unique_ptr<StudyProblem> Build(const v1::StudySpec& spec) {
  auto problem = CreateStudyProblem(spec);
  EXPECT_TRUE(problem.ok()) << problem.status();
  return std::unique_ptr<StudyProblem>(static_cast<StudyProblem*>(problem->release()));
}

std::vector<double> Values(const v1::Candidate& candidate) {
  v1::StudyTrial trial;
  EXPECT_TRUE(UnpackCandidate(candidate, &trial));
  return {trial.values().begin(), trial.values().end()};
}

double Branin(const std::vector<double>& x) {
  const double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI;
  return std::pow(x[1] - b * x[0] * x[0] + c * x[0] - 6, 2) +
         10 * (1 - 1 / (8 * M_PI)) * std::cos(x[0]) + 10;
}

v1::Evaluation Evaluated(double value) {
  v1::Evaluation evaluation;
  evaluation.set_status(v1::OK);
  evaluation.add_objectives(value);
  return evaluation;
}

// Runs `strategy` for `count` evaluations with a window of `window` (ask k once k - window is
// told), telling Branin; returns the candidates asked, in order.
std::vector<v1::Candidate> Drive(Strategy& strategy, uint64_t from, uint64_t count, uint64_t window,
                                 std::map<uint64_t, v1::Candidate>& in_flight) {
  std::vector<v1::Candidate> asked;
  for (uint64_t k = from; k < count; ++k) {
    if (k >= window) {
      auto it = in_flight.find(k - window);
      strategy.Tell(it->first, it->second, Evaluated(Branin(Values(it->second))));
      in_flight.erase(it);
    }
    asked.push_back(strategy.Ask(k));
    in_flight[k] = asked.back();
  }
  return asked;
}

double Best(const std::vector<v1::Candidate>& asked) {
  double best = INFINITY;
  for (const auto& c : asked) best = std::min(best, Branin(Values(c)));
  return best;
}

TEST(GpSearchTest, FindsBraninsMinimumWithinSixtyEvaluationsAndBeatsRandomSearch) {
  auto problem = Build(BraninSpec());
  for (uint64_t seed : {1, 2, 3}) {
    GpSearch gp({}, *problem, seed);
    RandomSearch random(*problem, seed);
    std::map<uint64_t, v1::Candidate> a, b;
    const double gp_best = Best(Drive(gp, 0, 60, 1, a));
    const double random_best = Best(Drive(random, 0, 60, 1, b));
    EXPECT_LT(gp_best, 0.45) << "seed " << seed;  // the minimum is 0.397887
    EXPECT_LT(gp_best, random_best) << "seed " << seed;
  }
}

TEST(GpSearchTest, AWindowOfAsksGetsDistinctPoints) {
  auto problem = Build(BraninSpec());
  GpSearch gp({}, *problem, 7);
  std::map<uint64_t, v1::Candidate> in_flight;
  Drive(gp, 0, 15, 1, in_flight);
  std::set<std::vector<double>> points;
  for (uint64_t k = 15; k < 19; ++k) points.insert(Values(gp.Ask(k)));
  EXPECT_EQ(points.size(), 4u);
}

TEST(GpSearchTest, ARestoredSnapshotAsksWhatTheUninterruptedSearchAsks) {
  auto problem = Build(BraninSpec());
  v1::GpSearchConfig config;
  config.set_initial_random(5);
  config.set_max_model_points(16);  // forgetting is part of the state too
  GpSearch whole(config, *problem, 11);
  std::map<uint64_t, v1::Candidate> in_flight;
  const auto expected = Drive(whole, 0, 40, 3, in_flight);

  GpSearch first(config, *problem, 11);
  std::map<uint64_t, v1::Candidate> flight;
  auto asked = Drive(first, 0, 22, 3, flight);
  GpSearch resumed(config, *problem, 11);
  ASSERT_TRUE(resumed.Restore(first.Snapshot()).ok());
  const auto rest = Drive(resumed, 22, 40, 3, flight);
  asked.insert(asked.end(), rest.begin(), rest.end());
  ASSERT_EQ(asked.size(), expected.size());
  for (size_t k = 0; k < asked.size(); ++k) {
    EXPECT_EQ(Values(asked[k]), Values(expected[k])) << "ask " << k;
  }
  v1::StrategySnapshot other;
  other.mutable_random();
  EXPECT_FALSE(resumed.Restore(other).ok());
}

TEST(GpSearchTest, IsTheDefaultForAStudyWithOneObjectiveOnly) {
  v1::JobSpec job;
  job.set_seed(1);
  auto one = Build(BraninSpec());
  auto strategy = CreateStrategy(job, *one);
  ASSERT_TRUE(strategy.ok());
  EXPECT_NE(dynamic_cast<GpSearch*>(strategy->get()), nullptr);

  v1::StudySpec two_spec = BraninSpec();
  two_spec.add_objectives()->set_name("cost");
  auto two = Build(two_spec);
  strategy = CreateStrategy(job, *two);
  ASSERT_TRUE(strategy.ok());
  EXPECT_EQ(dynamic_cast<GpSearch*>(strategy->get()), nullptr);

  job.mutable_strategy()->mutable_gp()->set_max_model_points(5000);
  EXPECT_EQ(CreateStrategy(job, *one).status().message().substr(0, 29),
            "strategy.gp.max_model_points:");
}

TEST(StudyClientsTest, TheClientsValuesBecomeTheEvaluationAndBadOnesNameTheField) {
  v1::StudySpec spec = BraninSpec();
  spec.mutable_objectives(0)->set_direction(v1::StudyObjective::MAXIMIZE);
  auto problem = Build(spec);
  EXPECT_TRUE(problem->EvaluatedByClients());
  const v1::Candidate trial = problem->FromUnit({0.5, 0.25});
  google::protobuf::Map<std::string, double> values;
  values["value"] = 2.5;
  values["seconds"] = 3;
  auto evaluation = problem->ClientEvaluation(trial, values);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  EXPECT_EQ(evaluation->objectives(0), -2.5);  // maximized: stored negated
  EXPECT_EQ(evaluation->metrics().at("seconds"), 3);

  values.erase("value");
  EXPECT_EQ(problem->ClientEvaluation(trial, values).status().message(),
            "values: no objective 'value'");
  values["value"] = NAN;
  EXPECT_EQ(problem->ClientEvaluation(trial, values).status().message(),
            "values: objective 'value' is not a finite number");
  // A worker never evaluates such a study.
  EXPECT_EQ(problem->Evaluate(trial, {}).status(), v1::FAILED);

  v1::StudySpec neither = BraninSpec();
  neither.clear_clients();
  EXPECT_EQ(CreateStudyProblem(neither).status().message().substr(0, 19), "study.command.argv:");
  v1::StudySpec unnamed = BraninSpec();
  unnamed.mutable_clients()->clear_objective();
  EXPECT_EQ(CreateStudyProblem(unnamed).status().message().substr(0, 24),
            "study.clients.objective:");
  // The objective's name is part of the key; the rest of the evaluation's side is not there.
  v1::StudySpec renamed = BraninSpec();
  renamed.mutable_clients()->set_objective("branin/v2");
  EXPECT_NE(Build(renamed)->CanonicalSpec(), Build(BraninSpec())->CanonicalSpec());
}

TEST(StudyClientsTest, UnitCoordinatesRoundTripThroughCandidates) {
  v1::StudySpec spec;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"(
      parameters { name: "lr" real { low: 1e-4 high: 1 log: true } }
      parameters { name: "layers" integer { low: 1 high: 8 } }
      parameters { name: "act" categorical { choices: "relu" choices: "tanh" choices: "gelu" } }
      objectives { name: "loss" }
      clients { objective: "net" }
    )",
                                                            &spec));
  auto problem = Build(spec);
  const auto dims = problem->Dimensions();
  ASSERT_EQ(dims.size(), 3u);
  EXPECT_EQ(dims[1].kind, ParameterSpace::Kind::kInteger);
  EXPECT_EQ(dims[2].kind, ParameterSpace::Kind::kCategorical);
  EXPECT_EQ(dims[2].choices, 3);
  const v1::Candidate c = problem->FromUnit({0.5, 0.99, 0.4});
  EXPECT_FALSE(problem->CheckFeasible(c).has_value());
  const std::vector<double> values = Values(c);
  EXPECT_NEAR(values[0], 0.01, 1e-9);  // the middle of the log range
  EXPECT_EQ(values[1], 8);
  EXPECT_EQ(values[2], 1);
  EXPECT_EQ(Values(problem->FromUnit(problem->ToUnit(c))), values);
  EXPECT_EQ(problem->Render(c, RenderFormat::kJson), R"({"lr": 0.01, "layers": 8, "act": "tanh"})");
}

}  // namespace
}  // namespace evolv
