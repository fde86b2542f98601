// The scaling domain as a Problem and as a job: spec validation naming fields, the functional key
// (the realized network), feasibility, one real evaluation on Fashion-MNIST (Debian's
// dataset-fashion-mnist), and a short NSGA-II job through JobEngine with a real Store whose pure
// objectives are the same after a restart.
#include "evaluators/scaling/scaling_problem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "actors/job_engine.h"
#include "evaluators/registry.h"
#include "tests/support/engine_driver.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A spec that trains in about a second: 600 images in batches of 16, a base of two small stages.
v1::ScalingSpec Tiny() {
  v1::ScalingSpec spec;
  spec.mutable_data()->set_train_images(600);
  spec.mutable_data()->set_test_images(200);
  spec.mutable_training()->set_batch_size(16);
  spec.mutable_training()->set_learning_rate(0.05);
  spec.mutable_timing()->set_batch(8);
  spec.mutable_timing()->set_runs(3);
  spec.mutable_timing()->set_warmup(1);
  v1::ScalingNetwork* base = spec.mutable_base();
  base->set_stem_width(8);
  for (int i = 0; i < 2; ++i) {
    v1::ScalingStage* stage = base->add_stages();
    stage->set_depth(1);
    stage->set_width(8 << i);
    stage->set_stride(i == 0 ? 1 : 2);
    stage->set_group_width(8);
  }
  spec.add_flops_factors(2);
  spec.add_flops_factors(4);
  return spec;
}

std::unique_ptr<ScalingProblem> Make(const v1::ScalingSpec& spec) {
  auto problem = CreateScalingProblem(spec);
  EXPECT_TRUE(problem.ok()) << problem.status();
  if (!problem.ok()) return nullptr;
  return std::unique_ptr<ScalingProblem>(static_cast<ScalingProblem*>(problem->release()));
}

std::string ErrorOf(const v1::ScalingSpec& spec) {
  auto problem = CreateScalingProblem(spec);
  EXPECT_FALSE(problem.ok());
  EXPECT_EQ(problem.status().code(), absl::StatusCode::kInvalidArgument) << problem.status();
  return std::string(problem.status().message());
}

TEST(ScalingProblemTest, DefaultsGiveThePapersSweepAsSeeds) {
  auto problem = Make(ScalingExampleSpec());
  ASSERT_NE(problem, nullptr);
  EXPECT_EQ(problem->ObjectiveNames(), (std::vector<std::string>{"error", "runtime_ms"}));
  EXPECT_EQ(problem->flops_factors(), (std::vector<double>{2, 4, 8}));
  const std::vector<v1::Candidate> seeds = problem->Seeds();
  ASSERT_EQ(seeds.size(), 18u);  // w, d, r, dw, dwr, dWr at s = 2, 4, 8
  EXPECT_THAT(problem->Render(seeds[5], RenderFormat::kText), StartsWith("dWr s=2 (d 0.1, w 0.8"));
  // The key holds the device it times on, with its model.
  EXPECT_THAT(problem->CanonicalSpec(), HasSubstr("device {cpu"));
}

TEST(ScalingProblemTest, BadSpecsNameTheirField) {
  v1::ScalingSpec spec = Tiny();
  spec.set_flops_factors(1, 0.5);
  EXPECT_THAT(ErrorOf(spec), StartsWith("scaling.flops_factors[1]: 0.5 is outside (1, 64]"));
  spec = Tiny();
  spec.mutable_base()->clear_stages();
  EXPECT_THAT(ErrorOf(spec), StartsWith("scaling.base.stages: the network has no stage"));
  spec = Tiny();
  spec.mutable_base()->mutable_stages(1)->set_group_width(24);  // 16 channels, groups of 24
  EXPECT_THAT(ErrorOf(spec), StartsWith("scaling.base.stages[1]"));
  spec = Tiny();
  spec.mutable_data()->set_directory("/nonexistent/fashion-mnist");
  EXPECT_THAT(ErrorOf(spec), StartsWith("scaling.data.directory: cannot read"));
  spec = Tiny();
  spec.mutable_training()->set_epochs(9);
  EXPECT_THAT(ErrorOf(spec), StartsWith("scaling.training.epochs: 9 is above the limit 3"));
  spec = Tiny();
  spec.mutable_timing()->set_device("tpu");
  EXPECT_THAT(ErrorOf(spec), StartsWith("scaling.timing.device: \"tpu\""));
  spec = Tiny();
  spec.mutable_timing()->set_device("cuda");
  EXPECT_THAT(ErrorOf(spec), StartsWith("scaling.timing.device_name: required"));
}

TEST(ScalingProblemTest, StrategiesThatRoundToOneNetworkShareAKey) {
  auto problem = Make(Tiny());
  ASSERT_NE(problem, nullptr);
  const ScalingWeights dwr = *NamedStrategy("dwr");
  ScalingWeights doubled = dwr;  // only ratios matter
  doubled.depth *= 2;
  doubled.width *= 2;
  doubled.resolution *= 2;
  EXPECT_EQ(problem->Probe(ScalingCandidate(dwr, 4, "dwr")),
            problem->Probe(ScalingCandidate(doubled, 4, "")));
  EXPECT_NE(problem->Probe(ScalingCandidate(dwr, 4, "dwr")),
            problem->Probe(ScalingCandidate(*NamedStrategy("r"), 4, "r")));
  EXPECT_NE(problem->Probe(ScalingCandidate(dwr, 2, "dwr")),
            problem->Probe(ScalingCandidate(dwr, 4, "dwr")));
}

TEST(ScalingProblemTest, BadStrategiesAreInfeasibleNamingTheField) {
  auto problem = Make(Tiny());
  ASSERT_NE(problem, nullptr);
  ScalingWeights negative = *NamedStrategy("dwr");
  negative.depth = -1;
  auto infeasible = problem->CheckFeasible(ScalingCandidate(negative, 2, ""));
  ASSERT_TRUE(infeasible.has_value());
  EXPECT_EQ(infeasible->status(), v1::INFEASIBLE);
  EXPECT_THAT(infeasible->error(),
              StartsWith("scaling.strategy.depth_weight: -1 is not a finite number >= 0"));
  auto other_factor = problem->CheckFeasible(ScalingCandidate(*NamedStrategy("w"), 3, ""));
  ASSERT_TRUE(other_factor.has_value());
  EXPECT_THAT(other_factor->error(), StartsWith("scaling.strategy.flops_factor: 3 is not one of"));
  EXPECT_FALSE(problem->CheckFeasible(ScalingCandidate(*NamedStrategy("w"), 4, "w")).has_value());
}

TEST(ScalingProblemTest, AnEvaluationTrainsTimesAndCounts) {
  auto problem = Make(Tiny());
  ASSERT_NE(problem, nullptr);
  const v1::Candidate dwr = ScalingCandidate(*NamedStrategy("dwr"), 2, "dwr");
  const v1::Evaluation a = problem->Evaluate(dwr, {11, 0});
  ASSERT_EQ(a.status(), v1::OK) << a.error();
  ASSERT_EQ(a.objectives_size(), 2);
  EXPECT_GT(a.objectives(0), 0.0);
  EXPECT_LT(a.objectives(0), 0.9);  // better than chance after one epoch of 300 images
  EXPECT_GT(a.objectives(1), 0.0);  // inference milliseconds
  EXPECT_EQ(a.metrics().at("inference_ms"), a.objectives(1));
  EXPECT_GT(a.metrics().at("train_step_ms"), 0.0);
  EXPECT_LT(a.metrics().at("final_loss"), a.metrics().at("initial_loss"));
  const Complexity c = CountComplexity(*problem->NetworkOf(dwr));
  EXPECT_EQ(a.metrics().at("acts"), static_cast<double>(c.acts));
  EXPECT_EQ(a.metrics().at("flops"), static_cast<double>(c.flops));
  EXPECT_DOUBLE_EQ(a.metrics().at("flops_ratio"),
                   static_cast<double>(c.flops) / problem->base_complexity().flops);
  // The pure objective is a function of the network and the seed.
  const v1::Evaluation b = problem->Evaluate(dwr, {11, 0});
  EXPECT_EQ(a.objectives(0), b.objectives(0));
  EXPECT_TRUE(problem->CompareHit(a, b).within);
}

// A job timed on a GPU model requires workers on it; on a worker without that device its
// evaluations fail saying why, instead of timing somewhere else.
TEST(ScalingProblemTest, AJobTimedOnAGpuRequiresThatDevice) {
  auto on_cpu = Make(Tiny());
  ASSERT_NE(on_cpu, nullptr);
  EXPECT_EQ(on_cpu->RequiredCudaDevice(), "");
  v1::ScalingSpec spec = Tiny();
  spec.mutable_timing()->set_device("cuda");
  spec.mutable_timing()->set_device_name("No Such GPU 9000");
  auto on_gpu = Make(spec);
  ASSERT_NE(on_gpu, nullptr);
  EXPECT_EQ(on_gpu->RequiredCudaDevice(), "No Such GPU 9000");
  const v1::Candidate dwr = ScalingCandidate(*NamedStrategy("dwr"), 2, "dwr");
  const v1::Evaluation cpu_worker = on_gpu->Evaluate(dwr, {11, 0, -1});
  EXPECT_EQ(cpu_worker.status(), v1::FAILED);
  EXPECT_THAT(cpu_worker.error(), HasSubstr("this worker has no CUDA device"));
  const v1::Evaluation other_device = on_gpu->Evaluate(dwr, {11, 0, 0});
  EXPECT_EQ(other_device.status(), v1::FAILED);
  EXPECT_THAT(other_device.error(), StartsWith("scaling.timing.device_name: this worker times on"));
  EXPECT_THAT(other_device.error(), HasSubstr("No Such GPU 9000"));
}

TEST(ScalingProblemTest, PearsonCorrelationOfTheReport) {
  EXPECT_DOUBLE_EQ(PearsonCorrelation({1, 2, 3, 4}, {2, 4, 6, 8}), 1.0);
  EXPECT_DOUBLE_EQ(PearsonCorrelation({1, 2, 3, 4}, {8, 6, 4, 2}), -1.0);
  EXPECT_NEAR(PearsonCorrelation({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8, 1e-12);
  EXPECT_TRUE(std::isnan(PearsonCorrelation({1, 2, 3}, {5, 5, 5})));
  EXPECT_TRUE(std::isnan(PearsonCorrelation({1, 2}, {1, 2})));
}

v1::JobRecord Job(const std::string& id, uint64_t evaluations, v1::ScalingSpec scaling = Tiny()) {
  v1::JobRecord record;
  record.set_id(id);
  auto* spec = record.mutable_spec();
  spec->mutable_problem()->PackFrom(scaling);
  spec->mutable_strategy()->mutable_nsga2()->set_parents(4);
  spec->mutable_strategy()->mutable_nsga2()->set_children(4);
  spec->mutable_budget()->set_max_evaluations(evaluations);
  spec->set_window(2);
  spec->set_seed(3);
  record.set_state(v1::RUNNING);
  return record;
}

TEST(ScalingJobTest, AShortSearchStartsFromTheNamedStrategiesAndReports) {
  TempDir data;
  auto store = Store::Open(data.path());
  ASSERT_TRUE(store.ok());
  auto engine = JobEngine::Create(Job("scaling", 8), store->get(), BuiltinProblems());
  ASSERT_TRUE(engine.ok()) << engine.status();
  testing::DriveToEnd(**engine, 0);
  auto history = (*store)->ReadHistory("scaling");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 8u);
  const auto& problem = static_cast<const ScalingProblem&>((*engine)->problem());
  // The first asks are the named strategies (NSGA-II takes the problem's seeds).
  EXPECT_THAT(problem.Render(history->at(0).candidate(), RenderFormat::kText), StartsWith("w s=2"));
  EXPECT_THAT(problem.Render(history->at(3).candidate(), RenderFormat::kText),
              StartsWith("dw s=2"));
  for (const v1::HistoryEntry& entry : *history)
    EXPECT_EQ(entry.evaluation().status(), v1::OK) << entry.evaluation().error();
  const std::string report = problem.Report(*history);
  EXPECT_THAT(report, HasSubstr("Pearson r of runtime with complexity"));
  EXPECT_THAT(report, HasSubstr("Pareto front of (error, runtime_ms)"));
  EXPECT_THAT(report, HasSubstr("\ndw      2 "));  // the table's row of dw at s = 2
  const std::vector<v1::ReportChart> charts = problem.Charts(*history);
  ASSERT_EQ(charts.size(), 3u);
  EXPECT_EQ(charts[0].name(), "runtime-vs-activations");
  EXPECT_TRUE(charts[0].series(0).points());
  EXPECT_GE(charts[0].series(0).x_size(), 4);  // the four named networks at s = 2, and more

  // The same job again in a fresh store: the pure objectives (error, complexity) are the same.
  TempDir again;
  auto store2 = Store::Open(again.path());
  ASSERT_TRUE(store2.ok());
  auto engine2 = JobEngine::Create(Job("scaling", 8), store2->get(), BuiltinProblems());
  ASSERT_TRUE(engine2.ok());
  testing::DriveToEnd(**engine2, 0);
  auto history2 = (*store2)->ReadHistory("scaling");
  ASSERT_TRUE(history2.ok());
  ASSERT_EQ(history2->size(), 8u);
  for (size_t i = 0; i < 4; ++i) {  // the seeds; later asks follow runtimes, which vary
    EXPECT_EQ(history->at(i).key(), history2->at(i).key());
    EXPECT_EQ(history->at(i).evaluation().objectives(0),
              history2->at(i).evaluation().objectives(0));
    EXPECT_EQ(history->at(i).evaluation().metrics().at("acts"),
              history2->at(i).evaluation().metrics().at("acts"));
  }
}

// With (error, activations) every objective is pure: a job dropped after a checkpoint with
// evaluations in flight resumes to the history of an uninterrupted run.
TEST(ScalingJobTest, ResumeAfterACheckpointReachesTheSameHistoryOnPureObjectives) {
  v1::ScalingSpec spec = Tiny();
  spec.set_objective(v1::ScalingSpec::ACTIVATIONS);
  TempDir whole_dir, split_dir;
  auto whole = Store::Open(whole_dir.path());
  ASSERT_TRUE(whole.ok());
  {
    auto engine = JobEngine::Create(Job("j", 12, spec), whole->get(), BuiltinProblems());
    ASSERT_TRUE(engine.ok()) << engine.status();
    testing::DriveToEnd(**engine, 0);
  }
  {
    auto split = Store::Open(split_dir.path());
    ASSERT_TRUE(split.ok());
    auto engine = JobEngine::Create(Job("j", 12, spec), split->get(), BuiltinProblems());
    ASSERT_TRUE(engine.ok()) << engine.status();
    std::vector<EvalTask> pending = (*engine)->Fill();
    for (int i = 0; i < 7 && !pending.empty(); ++i) {
      EvalTask task = pending.front();
      pending.erase(pending.begin());
      auto more = (*engine)->OnResult(
          task.index, (*engine)->problem().Evaluate(task.candidate, {task.seed, task.repeat}));
      pending.insert(pending.end(), more.begin(), more.end());
      if (i == 5) {
        ASSERT_TRUE((*engine)->Checkpoint(v1::RUNNING).ok());
      }
    }
    // Dropped here with tasks in flight: a crash after the checkpoint.
  }
  auto split = Store::Open(split_dir.path());
  ASSERT_TRUE(split.ok());
  auto resumed = JobEngine::Create(Job("j", 12, spec), split->get(), BuiltinProblems());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_GE((*resumed)->told(), 6u);
  testing::DriveToEnd(**resumed, 5);
  const auto rows = testing::HistoryFingerprint(**whole, "j");
  EXPECT_EQ(rows.size(), 12u);
  EXPECT_EQ(rows, testing::HistoryFingerprint(**split, "j"));
}

// The memory estimate: the example spec fits the default limit with room; a limit below a seed's
// estimate refuses the spec (INVALID_ARGUMENT naming the domain and the flag); a limit between
// the seeds' estimates lets the job run, the larger candidates INFEASIBLE before the cache (no
// worker is asked, nothing stored as evaluated).
TEST(ScalingJobTest, CandidatesAboveTheEvaluationMemoryLimitAreRefused) {
  const v1::ScalingSpec tiny = Tiny();
  auto problem = Make(tiny);
  ASSERT_NE(problem, nullptr);
  uint64_t smallest = UINT64_MAX, largest = 0;
  for (const v1::Candidate& seed : problem->Seeds()) {
    const uint64_t bytes = problem->EvaluationBytes(seed);
    smallest = std::min(smallest, bytes);
    largest = std::max(largest, bytes);
  }
  ASSERT_GT(smallest, uint64_t{kEvaluationFixedBytes});
  ASSERT_LT(smallest, largest);
  ScalingWeights negative = *NamedStrategy("d");
  negative.depth = -1;
  EXPECT_EQ(problem->EvaluationBytes(ScalingCandidate(negative, 2, "")), 0u);
  // Twice the batch, more memory.
  v1::ScalingSpec bigger = tiny;
  bigger.mutable_training()->set_batch_size(64);
  auto big = Make(bigger);
  ASSERT_NE(big, nullptr);
  const v1::Candidate d4 = ScalingCandidate(*NamedStrategy("d"), 4, "d");
  EXPECT_GT(big->EvaluationBytes(d4), problem->EvaluationBytes(d4));

  // The example spec of the registry (the defaults, Fashion-MNIST) is accepted at the default
  // limit (its largest, r at s = 8 on 80 px, is estimated at about 5.0 GiB).
  auto example = Make(ScalingExampleSpec());
  ASSERT_NE(example, nullptr);
  for (const v1::Candidate& seed : example->Seeds())
    EXPECT_LT(example->EvaluationBytes(seed), JobLimits{}.max_evaluation_bytes)
        << example->Render(seed, RenderFormat::kText);

  v1::JobRecord job = Job("mem", 12, tiny);
  JobLimits limits;
  limits.max_evaluation_bytes = smallest - 1;
  auto refused = ValidateAndBuild(job.spec(), BuiltinProblems(), limits);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()),
              StartsWith("scaling: evaluating the candidate \""));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("(evolvd --max-evaluation-memory)"));
  limits.max_evaluation_bytes = largest;
  ASSERT_TRUE(ValidateAndBuild(job.spec(), BuiltinProblems(), limits).ok());

  // Only the smallest seed within the limit (a spec refused at submit now; a service whose limit
  // was lowered after the job started runs it so): the others are INFEASIBLE, never dispatched.
  const uint64_t limit = smallest;
  limits.max_evaluation_bytes = limit;
  TempDir dir;
  auto store = Store::Open(dir.path());
  ASSERT_TRUE(store.ok());
  auto engine = JobEngine::Create(job, store->get(), BuiltinProblems(), limits);
  ASSERT_TRUE(engine.ok()) << engine.status();
  int dispatched_above = 0;
  std::vector<EvalTask> pending = (*engine)->Fill();
  while (!pending.empty()) {
    EvalTask task = pending.front();
    pending.erase(pending.begin());
    if (problem->EvaluationBytes(task.candidate) > limit) ++dispatched_above;
    auto more = (*engine)->OnResult(
        task.index, (*engine)->problem().Evaluate(task.candidate, {task.seed, task.repeat}));
    pending.insert(pending.end(), more.begin(), more.end());
  }
  EXPECT_EQ(dispatched_above, 0);
  ASSERT_TRUE((*engine)->Checkpoint(v1::SUCCEEDED).ok());
  auto history = (*store)->ReadHistory("mem");
  ASSERT_TRUE(history.ok());
  int infeasible = 0;
  for (const v1::HistoryEntry& entry : *history) {
    const bool above = problem->EvaluationBytes(entry.candidate()) > limit;
    EXPECT_EQ(entry.evaluation().status() == v1::INFEASIBLE, above) << entry.evaluation().error();
    if (!above) continue;
    ++infeasible;
    EXPECT_THAT(entry.evaluation().error(), HasSubstr("MiB per evaluation"));
    EXPECT_FALSE((*store)->GetEvaluation(entry.key()).ok());  // not cached
  }
  EXPECT_GT(infeasible, 0);
}

}  // namespace
}  // namespace evolv
