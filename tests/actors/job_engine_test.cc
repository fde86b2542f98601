#include "actors/job_engine.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/engine_driver.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

v1::JobRecord ToyJob(const std::string& id, uint64_t evaluations, uint32_t window,
                     v1::CacheMode mode = v1::CACHE, double noise = 0, double grid = 0) {
  testing::ToyJobOptions options;
  options.id = id;
  options.dims = 2;
  options.noise = noise;
  options.grid = grid;
  options.evaluations = evaluations;
  options.window = window;
  options.seed = 11;
  options.mode = mode;
  v1::JobRecord record = testing::ToyJob(options);
  record.mutable_spec()->mutable_strategy()->mutable_regularized_evolution()->set_population_size(
      10);
  return record;
}

using testing::DriveToEnd;
using testing::HistoryFingerprint;

TEST(JobEngineTest, HistoryIsIndependentOfResultOrder) {
  TempDir dir_a, dir_b;
  auto store_a = Store::Open(dir_a.path());
  auto store_b = Store::Open(dir_b.path());
  ASSERT_TRUE(store_a.ok() && store_b.ok());
  const auto& registry = testing::ToyRegistry();
  auto a = JobEngine::Create(ToyJob("j", 300, 6), store_a->get(), registry);
  auto b = JobEngine::Create(ToyJob("j", 300, 6), store_b->get(), registry);
  ASSERT_TRUE(a.ok() && b.ok());
  DriveToEnd(**a, 0);
  DriveToEnd(**b, 12345);
  const auto ha = HistoryFingerprint(**store_a, "j");
  EXPECT_EQ(ha.size(), 300u);
  EXPECT_EQ(ha, HistoryFingerprint(**store_b, "j"));
}

TEST(JobEngineTest, WindowBoundsTasksInFlight) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine =
      JobEngine::Create(ToyJob("j", 100, 5, v1::OFF), store->get(), testing::ToyRegistry());
  ASSERT_TRUE(engine.ok());
  auto tasks = (*engine)->Fill();
  EXPECT_EQ(tasks.size(), 5u);
  EXPECT_EQ((*engine)->in_flight(), 5u);
  // A result out of order tells nothing and asks nothing new.
  const Problem& p = (*engine)->problem();
  auto more = (*engine)->OnResult(tasks[3].index, p.Evaluate(tasks[3].candidate, {}));
  EXPECT_TRUE(more.empty());
  EXPECT_EQ((*engine)->told(), 0u);
  more = (*engine)->OnResult(tasks[0].index, p.Evaluate(tasks[0].candidate, {}));
  EXPECT_EQ((*engine)->told(), 1u);
  EXPECT_EQ(more.size(), 1u);
}

TEST(JobEngineTest, ResumeFromCheckpointReachesTheSameHistory) {
  const auto& registry = testing::ToyRegistry();
  TempDir whole_dir, split_dir;
  auto whole = Store::Open(whole_dir.path());
  {
    auto engine = JobEngine::Create(ToyJob("j", 400, 7), whole->get(), registry);
    DriveToEnd(**engine, 0);
  }
  {
    auto split = Store::Open(split_dir.path());
    auto engine = JobEngine::Create(ToyJob("j", 400, 7), split->get(), registry);
    // Run part way, checkpoint, then drop the engine with tasks in flight (a crash).
    std::vector<EvalTask> pending = (*engine)->Fill();
    for (int i = 0; i < 150 && !pending.empty(); ++i) {
      EvalTask task = pending.front();
      pending.erase(pending.begin());
      auto more = (*engine)->OnResult(
          task.index, (*engine)->problem().Evaluate(task.candidate, {task.seed, task.repeat}));
      pending.insert(pending.end(), more.begin(), more.end());
      if (i == 120) {
        ASSERT_TRUE((*engine)->Checkpoint(v1::RUNNING).ok());
      }
    }
  }
  auto split = Store::Open(split_dir.path());
  auto resumed = JobEngine::Create(ToyJob("j", 400, 7), split->get(), registry);
  ASSERT_TRUE(resumed.ok());
  EXPECT_GT((*resumed)->told(), 100u);
  DriveToEnd(**resumed, 77);
  EXPECT_EQ(HistoryFingerprint(**whole, "j"), HistoryFingerprint(**split, "j"));
}

TEST(JobEngineTest, CacheHitsAcrossJobsAndRestarts) {
  const auto& registry = testing::ToyRegistry();
  TempDir dir;
  {
    auto store = Store::Open(dir.path());
    auto first = JobEngine::Create(ToyJob("first", 200, 4), store->get(), registry);
    DriveToEnd(**first, 0);
    EXPECT_GT((*first)->Progress().cache().misses(), 0u);
  }
  // Same search under another job id after reopening the store: every key is in the cache.
  auto store = Store::Open(dir.path());
  auto second = JobEngine::Create(ToyJob("second", 200, 4), store->get(), registry);
  std::vector<EvalTask> tasks = (*second)->Fill();
  EXPECT_TRUE(tasks.empty());  // all answered from the cache, no worker needed
  EXPECT_TRUE((*second)->Finished());
  const auto progress = (*second)->Progress();
  EXPECT_EQ(progress.cache().hits(), 200u);
  EXPECT_EQ(progress.cache().misses(), 0u);
  EXPECT_GE(progress.cache().eval_seconds_saved(), 0.0);
  ASSERT_TRUE((*second)->Checkpoint(v1::SUCCEEDED).ok());
  EXPECT_EQ(HistoryFingerprint(**store, "first"), HistoryFingerprint(**store, "second"));
}

TEST(JobEngineTest, CacheModeOffEvaluatesEverything) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine =
      JobEngine::Create(ToyJob("j", 200, 4, v1::OFF), store->get(), testing::ToyRegistry());
  DriveToEnd(**engine, 0);
  EXPECT_EQ((*engine)->Progress().cache().misses(), 200u);
  EXPECT_EQ((*engine)->Progress().cache().hits(), 0u);
  EXPECT_EQ(*(*store)->CountEvaluations(), 0u);
}

TEST(JobEngineTest, CounterfactualCountsCollisionsOfFunctionalTwins) {
  // A coarse probe (grid 1.0) gives different vectors one key: re-found keys with different
  // fitness are collisions; exact copies (mutate_prob 0.5) are hits without collisions.
  v1::JobRecord job = ToyJob("j", 300, 4, v1::COUNTERFACTUAL, /*noise=*/0, /*grid=*/1.0);
  job.mutable_spec()->mutable_strategy()->mutable_regularized_evolution()->set_mutate_prob(0.5);
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(job, store->get(), testing::ToyRegistry());
  DriveToEnd(**engine, 0);
  const auto c = (*engine)->Progress().cache();
  EXPECT_EQ(c.hits() + c.misses(), 300u);  // everything evaluated: counterfactual
  EXPECT_GT(c.collisions(), 10u);
  EXPECT_LT(c.collisions(), c.hits());
  EXPECT_EQ(c.eval_seconds_saved(), 0.0);

  // With an exact probe the same search re-finds keys only through copies: no collisions.
  v1::JobRecord exact = ToyJob("k", 300, 4, v1::COUNTERFACTUAL);
  exact.mutable_spec()->mutable_strategy()->mutable_regularized_evolution()->set_mutate_prob(0.5);
  TempDir dir2;
  auto store2 = Store::Open(dir2.path());
  auto engine2 = JobEngine::Create(exact, store2->get(), testing::ToyRegistry());
  DriveToEnd(**engine2, 0);
  EXPECT_GT((*engine2)->Progress().cache().hits(), 50u);
  EXPECT_EQ((*engine2)->Progress().cache().collisions(), 0u);
}

TEST(JobEngineTest, AggregateAveragesRepeatsThenReuses) {
  v1::JobRecord job = ToyJob("j", 60, 1, v1::AGGREGATE, /*noise=*/1.0);
  job.mutable_spec()->mutable_cache()->set_aggregate_repeats(3);
  job.mutable_spec()->mutable_strategy()->mutable_regularized_evolution()->set_mutate_prob(
      1e-9);  // children are copies: the same key over and over
  job.mutable_spec()->mutable_strategy()->mutable_regularized_evolution()->set_population_size(1);
  job.mutable_spec()->mutable_strategy()->mutable_regularized_evolution()->set_tournament_size(1);
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(job, store->get(), testing::ToyRegistry());
  DriveToEnd(**engine, 0);
  const auto c = (*engine)->Progress().cache();
  EXPECT_EQ(c.misses(), 3u);  // one key, evaluated three times
  EXPECT_EQ(c.hits(), 57u);
  auto history = (*store)->ReadHistory("j");
  ASSERT_EQ(history->size(), 60u);
  const double d0 = (*history)[0].evaluation().objectives(0);
  const double d1 = (*history)[1].evaluation().objectives(0);
  const double d2 = (*history)[2].evaluation().objectives(0);
  EXPECT_NE(d0, d1);                                        // running means of noisy evaluations
  EXPECT_EQ((*history)[3].evaluation().objectives(0), d2);  // then the 3-sample mean is reused
  EXPECT_EQ((*history)[59].evaluation().objectives(0), d2);
  auto row = (*store)->GetEvaluation((*history)[0].key());
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->repeats(), 3u);
}

// Runs `engine` to its end in index order; `result_of` gives each task's evaluation.
template <class ResultOf>
void DriveWith(JobEngine& engine, ResultOf result_of) {
  std::vector<EvalTask> pending = engine.Fill();
  while (!pending.empty()) {
    EvalTask task = pending.front();
    pending.erase(pending.begin());
    auto more = engine.OnResult(task.index, result_of(task));
    pending.insert(pending.end(), more.begin(), more.end());
  }
  ASSERT_TRUE(engine.Finished());
  ASSERT_TRUE(engine.Checkpoint(v1::SUCCEEDED).ok());
}

v1::Evaluation LostWorker() {
  v1::Evaluation e;
  e.set_status(v1::FAILED);
  e.set_error("worker lost");
  return e;
}

// A job whose children are copies of one parent: the same key over and over.
v1::JobRecord CopiesJob(const std::string& id, uint64_t evaluations, uint32_t window,
                        v1::CacheMode mode) {
  v1::JobRecord job = ToyJob(id, evaluations, window, mode);
  auto* re = job.mutable_spec()->mutable_strategy()->mutable_regularized_evolution();
  re->set_mutate_prob(1e-9);
  re->set_population_size(1);
  re->set_tournament_size(1);
  return job;
}

TEST(JobEngineTest, FailedResultsAreNeverServedOrStored) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine =
      JobEngine::Create(CopiesJob("j", 20, 1, v1::CACHE), store->get(), testing::ToyRegistry());
  ASSERT_TRUE(engine.ok());
  int evaluations = 0;
  DriveWith(**engine, [&](const EvalTask& task) {
    // The first evaluation of the key is lost (a worker died); the rest really run.
    return evaluations++ == 0 ? LostWorker()
                              : (*engine)->problem().Evaluate(task.candidate, {task.seed, 0});
  });
  auto history = (*store)->ReadHistory("j");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 20u);
  EXPECT_EQ((*history)[0].evaluation().status(), v1::FAILED);
  // The next candidate with that key was evaluated, not served the failure, and then cached.
  EXPECT_EQ(evaluations, 2);
  for (size_t i = 1; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].evaluation().status(), v1::OK) << i;
  }
  auto row = (*store)->GetEvaluation((*history)[0].key());
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->evaluation().status(), v1::OK);
}

TEST(JobEngineTest, AFollowerOfAFailedEvaluationIsEvaluatedItself) {
  // A probe grid of 100 gives every vector of [-5, 5]^1 one of two keys, so the candidates in
  // the window follow the first evaluation of their key instead of running it again.
  testing::ToyJobOptions options;
  options.id = "j";
  options.dims = 1;
  options.grid = 100;
  options.evaluations = 12;
  options.window = 6;
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(testing::ToyJob(options), store->get(), testing::ToyRegistry());
  ASSERT_TRUE(engine.ok());
  int evaluations = 0;
  DriveWith(**engine, [&](const EvalTask& task) {
    return evaluations++ == 0 ? LostWorker()
                              : (*engine)->problem().Evaluate(task.candidate, {task.seed, 0});
  });
  auto history = (*store)->ReadHistory("j");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 12u);
  EXPECT_EQ((*history)[0].evaluation().status(), v1::FAILED);
  int followers_of_first = 0;
  for (size_t i = 1; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].evaluation().status(), v1::OK) << i;
    if ((*history)[i].key() == (*history)[0].key()) ++followers_of_first;
  }
  ASSERT_GT(followers_of_first, 0);
  EXPECT_LE(evaluations, 3);  // the lost one, its key again, and the other key once
  auto row = (*store)->GetEvaluation((*history)[0].key());
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->evaluation().status(), v1::OK);
}

TEST(JobEngineTest, AggregateMeansOkRepeatsOnlyWithMatchingMetrics) {
  v1::JobRecord job = CopiesJob("j", 30, 1, v1::AGGREGATE);
  job.mutable_spec()->mutable_cache()->set_aggregate_repeats(3);
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(job, store->get(), testing::ToyRegistry());
  ASSERT_TRUE(engine.ok());
  // Repeats 1 and 3 fail; the others report objective 10 * k and metric k for the k-th try.
  int tries = 0;
  std::vector<double> ok_objectives;
  DriveWith(**engine, [&](const EvalTask&) {
    ++tries;
    if (tries == 1 || tries == 3) return LostWorker();
    v1::Evaluation e;
    e.set_status(v1::OK);
    e.add_objectives(10.0 * tries);
    e.add_objectives(1.0);
    (*e.mutable_metrics())["k"] = tries;
    ok_objectives.push_back(10.0 * tries);
    return e;
  });
  ASSERT_EQ(ok_objectives.size(), 3u);  // three OK repeats were needed, failures not counted
  auto history = (*store)->ReadHistory("j");
  ASSERT_TRUE(history.ok());
  auto row = (*store)->GetEvaluation((*history)[0].key());
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->repeats(), 3u);
  const double mean = (ok_objectives[0] + ok_objectives[1] + ok_objectives[2]) / 3;
  EXPECT_DOUBLE_EQ(row->evaluation().objectives(0), mean);
  EXPECT_DOUBLE_EQ(row->evaluation().metrics().at("k"), mean / 10);
  EXPECT_DOUBLE_EQ(history->back().evaluation().objectives(0), mean);
}

TEST(JobEngineTest, InfeasibleCandidatesNeverReachTheCacheOrAWorker) {
  testing::ToyJobOptions options;
  options.id = "j";
  options.evaluations = 200;
  options.max_abs = 2.0;  // random vectors are drawn from [-5, 5]: most are infeasible
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(testing::ToyJob(options), store->get(), testing::ToyRegistry());
  ASSERT_TRUE(engine.ok());
  int evaluated = 0;
  DriveWith(**engine, [&](const EvalTask& task) {
    ++evaluated;
    EXPECT_FALSE((*engine)->problem().CheckFeasible(task.candidate).has_value());
    return (*engine)->problem().Evaluate(task.candidate, {task.seed, 0});
  });
  const auto c = (*engine)->Progress().cache();
  EXPECT_GT(c.infeasible(), 0u);
  EXPECT_EQ(c.infeasible() + c.hits() + c.misses(), 200u);
  EXPECT_EQ(static_cast<uint64_t>(evaluated), c.misses());
  EXPECT_EQ(*(*store)->CountEvaluations(), c.misses());  // OK rows of feasible ones only
}

}  // namespace
}  // namespace evolv
