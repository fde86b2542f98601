// The diffusion domain as a job: JobEngine with a real Store, the registry's diffusion problem and
// the top-k evolution, driven without actors (as tests/actors/job_engine_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "actors/job_engine.h"
#include "evaluators/diffusion/diffusion_problem.h"
#include "evaluators/registry.h"
#include "evolv/v1/diffusion.pb.h"
#include "tests/evaluators/diffusion/tiny_model.h"
#include "tests/support/engine_driver.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using testing::DriveToEnd;
using ::testing::HasSubstr;
using testing::HistoryFingerprint;
using ::testing::StartsWith;

v1::DiffusionSpec SmallMixture() {
  v1::DiffusionSpec spec;
  spec.mutable_mixture()->set_dimension(4);
  spec.mutable_mixture()->set_components(4);
  spec.mutable_mixture()->set_seed(3);
  spec.set_steps(4);
  spec.set_samples(500);
  return spec;
}

v1::JobRecord Job(const std::string& id, const v1::DiffusionSpec& diffusion, uint64_t evaluations,
                  uint32_t window, uint64_t seed = 7) {
  v1::JobRecord record;
  record.set_id(id);
  auto* spec = record.mutable_spec();
  spec->mutable_problem()->PackFrom(diffusion);
  spec->mutable_strategy()->mutable_top_k_evolution();  // the paper's defaults
  spec->mutable_budget()->set_max_evaluations(evaluations);
  spec->set_window(window);
  spec->set_seed(seed);
  record.set_state(v1::RUNNING);
  return record;
}

TEST(DiffusionJobTest, SearchBeatsUniformOnASmallMixtureInSeconds) {
  const auto start = std::chrono::steady_clock::now();
  TempDir data;
  auto store = Store::Open(data.path());
  ASSERT_TRUE(store.ok());
  auto engine =
      JobEngine::Create(Job("search", SmallMixture(), 200, 8), store->get(), BuiltinProblems());
  ASSERT_TRUE(engine.ok()) << engine.status();
  DriveToEnd(**engine, 0);
  auto history = (*store)->ReadHistory("search");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 200u);
  // Result 0 is the uniform schedule, the first generation's seed.
  const auto& problem = static_cast<const DiffusionProblem&>((*engine)->problem());
  EXPECT_EQ(problem.Render(history->front().candidate(), RenderFormat::kText),
            "{0, 250, 500, 750}");
  const double uniform = history->front().evaluation().objectives(0);
  const double best = (*engine)->Progress().best_objective();
  EXPECT_LT(best, 0.6 * uniform) << "uniform " << uniform;
  EXPECT_LT(best, problem.Score(QuadraticSteps(4), SamplerKind::kDdim).fd);
  // Candidates already seen are not asked again: every step set is new.
  EXPECT_EQ((*engine)->Progress().cache().hits(), 0u);
  const std::string report = problem.Report(*history);
  EXPECT_THAT(report, HasSubstr("searched / uniform with DDIM"));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30);
}

TEST(DiffusionJobTest, HistoryIsIndependentOfResultOrder) {
  TempDir dir_a, dir_b;
  auto store_a = Store::Open(dir_a.path());
  auto store_b = Store::Open(dir_b.path());
  v1::DiffusionSpec spec = SmallMixture();
  spec.set_samples(100);
  spec.set_sampler(v1::DiffusionSpec::DPM_SOLVER_PP_2M);
  auto a = JobEngine::Create(Job("j", spec, 130, 6), store_a->get(), BuiltinProblems());
  auto b = JobEngine::Create(Job("j", spec, 130, 6), store_b->get(), BuiltinProblems());
  ASSERT_TRUE(a.ok() && b.ok());
  DriveToEnd(**a, 0);
  DriveToEnd(**b, 4242);
  const auto rows = HistoryFingerprint(**store_a, "j");
  EXPECT_EQ(rows.size(), 130u);
  EXPECT_EQ(rows, HistoryFingerprint(**store_b, "j"));
}

TEST(DiffusionJobTest, ResumeAfterACheckpointReachesTheSameHistory) {
  v1::DiffusionSpec spec = SmallMixture();
  spec.set_samples(100);
  TempDir whole_dir, split_dir;
  auto whole = Store::Open(whole_dir.path());
  {
    auto engine = JobEngine::Create(Job("j", spec, 160, 8), whole->get(), BuiltinProblems());
    ASSERT_TRUE(engine.ok()) << engine.status();
    DriveToEnd(**engine, 0);
  }
  {
    auto split = Store::Open(split_dir.path());
    auto engine = JobEngine::Create(Job("j", spec, 160, 8), split->get(), BuiltinProblems());
    std::vector<EvalTask> pending = (*engine)->Fill();
    for (int i = 0; i < 90 && !pending.empty(); ++i) {
      EvalTask task = pending.front();
      pending.erase(pending.begin());
      auto more = (*engine)->OnResult(
          task.index, (*engine)->problem().Evaluate(task.candidate, {task.seed, task.repeat}));
      pending.insert(pending.end(), more.begin(), more.end());
      if (i == 70) {
        ASSERT_TRUE((*engine)->Checkpoint(v1::RUNNING).ok());  // mid generation 1
      }
    }
    // Dropped here with tasks in flight: a crash after the checkpoint.
  }
  auto split = Store::Open(split_dir.path());
  auto resumed = JobEngine::Create(Job("j", spec, 160, 8), split->get(), BuiltinProblems());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_GT((*resumed)->told(), 60u);
  DriveToEnd(**resumed, 99);
  const auto rows = HistoryFingerprint(**whole, "j");
  EXPECT_EQ(rows.size(), 160u);
  EXPECT_EQ(rows, HistoryFingerprint(**split, "j"));
}

TEST(DiffusionJobTest, ASpecWithoutAStrategyGetsTheTopKEvolution) {
  TempDir data;
  auto store = Store::Open(data.path());
  v1::DiffusionSpec spec = SmallMixture();
  spec.set_samples(50);
  v1::JobRecord record = Job("default", spec, 60, 4);
  record.mutable_spec()->clear_strategy();
  auto engine = JobEngine::Create(record, store->get(), BuiltinProblems());
  ASSERT_TRUE(engine.ok()) << engine.status();
  DriveToEnd(**engine, 0);
  EXPECT_EQ((*engine)->Progress().note(), "generation 1");
  auto history = (*store)->ReadHistory("default");
  EXPECT_EQ((*engine)->problem().Render(history->front().candidate(), RenderFormat::kText),
            "{0, 250, 500, 750}");
}

TEST(DiffusionJobTest, BadInputFailsBeforeAnythingIsStored) {
  TempDir data;
  auto store = Store::Open(data.path());
  v1::DiffusionSpec zero = SmallMixture();
  zero.set_steps(0);
  auto engine = JobEngine::Create(Job("bad", zero, 10, 4), store->get(), BuiltinProblems());
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(engine.status().message()), StartsWith("diffusion.steps: "));
  EXPECT_FALSE((*store)->GetJob("bad").ok());

  v1::JobRecord strategy = Job("bad", SmallMixture(), 10, 4);
  strategy.mutable_spec()->mutable_strategy()->mutable_top_k_evolution()->set_population(20);
  auto refused = JobEngine::Create(strategy, store->get(), BuiltinProblems());
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()),
              StartsWith("strategy.top_k_evolution.mutants: "));
}

// A joint job on the tiny learned denoiser (3 blocks, K 4, budget 9): 2 steps-only generations
// of 12, then 6 joint ones that open one skipped block per step.
class JointJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = testing::TinyLearnedSpec(model_dir_.Sub("tiny.model"));
    spec_.set_samples(100);
    spec_.mutable_joint()->set_block_budget(9);
    testing::WriteTinyModel(spec_);
  }
  v1::JobRecord JointJob(const std::string& id, uint32_t window) const {
    v1::JobRecord record = Job(id, spec_, 96, window);
    *record.mutable_spec()->mutable_strategy()->mutable_top_k_evolution() =
        testing::TinyJointConfig();
    return record;
  }

  TempDir model_dir_;
  v1::DiffusionSpec spec_;
};

TEST_F(JointJobTest, HistoryIsIndependentOfResultOrderAndSkipsBlocks) {
  TempDir dir_a, dir_b;
  auto store_a = Store::Open(dir_a.path());
  auto store_b = Store::Open(dir_b.path());
  auto a = JobEngine::Create(JointJob("j", 6), store_a->get(), BuiltinProblems());
  auto b = JobEngine::Create(JointJob("j", 6), store_b->get(), BuiltinProblems());
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  DriveToEnd(**a, 0);
  DriveToEnd(**b, 4242);
  const auto rows = HistoryFingerprint(**store_a, "j");
  EXPECT_EQ(rows.size(), 96u);
  EXPECT_EQ(rows, HistoryFingerprint(**store_b, "j"));
  // The joint stage asked candidates that skip blocks, all within the budget.
  auto history = (*store_a)->ReadHistory("j");
  int skipping = 0;
  for (const auto& entry : *history) {
    ASSERT_EQ(entry.evaluation().status(), v1::OK) << entry.evaluation().error();
    EXPECT_LE(entry.evaluation().metrics().at("block_evaluations"), 9);
    if ((*a)->problem().Render(entry.candidate(), RenderFormat::kText).find("skipping") !=
        std::string::npos) {
      ++skipping;
    }
  }
  EXPECT_GT(skipping, 5);
  EXPECT_THAT((*a)->Progress().note(), HasSubstr("stage 1, allowance 0.34"));
  const std::string report = (*a)->problem().Report(*history);
  EXPECT_THAT(report, HasSubstr("block evaluations"));
  EXPECT_THAT(report, HasSubstr("searched / uniform of 3 steps"));
}

TEST_F(JointJobTest, ResumeInTheJointStageReachesTheSameHistory) {
  TempDir whole_dir, split_dir;
  auto whole = Store::Open(whole_dir.path());
  {
    auto engine = JobEngine::Create(JointJob("j", 8), whole->get(), BuiltinProblems());
    ASSERT_TRUE(engine.ok()) << engine.status();
    DriveToEnd(**engine, 0);
  }
  {
    auto split = Store::Open(split_dir.path());
    auto engine = JobEngine::Create(JointJob("j", 8), split->get(), BuiltinProblems());
    ASSERT_TRUE(engine.ok()) << engine.status();
    std::vector<EvalTask> pending = (*engine)->Fill();
    for (int i = 0; i < 75 && !pending.empty(); ++i) {
      EvalTask task = pending.front();
      pending.erase(pending.begin());
      auto more = (*engine)->OnResult(
          task.index, (*engine)->problem().Evaluate(task.candidate, {task.seed, task.repeat}));
      pending.insert(pending.end(), more.begin(), more.end());
      if (i == 64) {
        ASSERT_TRUE((*engine)->Checkpoint(v1::RUNNING).ok());  // generation 5: skipping is open
      }
    }
  }
  auto split = Store::Open(split_dir.path());
  auto resumed = JobEngine::Create(JointJob("j", 8), split->get(), BuiltinProblems());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_GT((*resumed)->told(), 60u);
  DriveToEnd(**resumed, 99);
  const auto rows = HistoryFingerprint(**whole, "j");
  EXPECT_EQ(rows.size(), 96u);
  EXPECT_EQ(rows, HistoryFingerprint(**split, "j"));
}

TEST_F(JointJobTest, AMissingModelFailsTheJobBeforeAnythingIsStored) {
  TempDir data;
  auto store = Store::Open(data.path());
  v1::JobRecord record = JointJob("missing", 4);
  v1::DiffusionSpec spec = spec_;
  spec.mutable_denoiser()->set_model(model_dir_.Sub("absent.model"));
  record.mutable_spec()->mutable_problem()->PackFrom(spec);
  auto engine = JobEngine::Create(record, store->get(), BuiltinProblems());
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(engine.status().message()), StartsWith("diffusion.denoiser.model: "));
  EXPECT_FALSE((*store)->GetJob("missing").ok());
}

}  // namespace
}  // namespace evolv
