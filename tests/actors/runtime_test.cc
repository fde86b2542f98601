// The actor runtime with real CAF actors: dispatcher, local worker threads, coordinator.
#include <gtest/gtest.h>

#include "actors/coordinator.h"
#include "actors/dispatcher.h"
#include "actors/local_runtime.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

v1::JobRecord ToyJob(uint64_t evaluations, double work_ms) {
  testing::ToyJobOptions options;
  options.id = "runtime";
  options.dims = 3;
  options.work_ms = work_ms;
  options.evaluations = evaluations;
  options.window = 4;
  options.seed = 5;
  return testing::ToyJob(options);
}

TEST(RuntimeTest, RunsAJobToTheEndAndReportsProgress) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(ToyJob(200, 0), store->get(), testing::ToyRegistry());
  ASSERT_TRUE(engine.ok());
  LocalRuntime runtime(2, testing::ToyRegistry());
  int reports = 0;
  auto outcome = runtime.RunJob(
      std::move(*engine), CoordinatorOptions{}, [&](const v1::JobProgress&) { ++reports; },
      nullptr);
  EXPECT_EQ(outcome.state, v1::SUCCEEDED);
  EXPECT_GE(reports, 1);
  EXPECT_EQ((*store)->ReadHistory("runtime")->size(), 200u);
  EXPECT_EQ((*store)->GetJob("runtime")->state(), v1::SUCCEEDED);
}

// Results reach a coordinator as messages from the dispatcher, not as replies, so it watches
// the dispatcher: one that goes down ends the coordinator instead of leaving it waiting.
TEST(RuntimeTest, ACoordinatorWhoseDispatcherGoesDownEndsInsteadOfWaiting) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(ToyJob(200, 0), store->get(), testing::ToyRegistry());
  ASSERT_TRUE(engine.ok());
  caf::actor_system_config config;
  caf::actor_system system{config};
  auto dispatcher = SpawnDispatcher(system);  // no workers: the job's tasks wait in its queue
  auto coordinator = SpawnCoordinator(system, std::shared_ptr<JobEngine>(std::move(*engine)),
                                      dispatcher, job_listener_actor{});
  caf::scoped_actor self{system};
  self->monitor(coordinator);
  caf::anon_send_exit(dispatcher, caf::exit_reason::kill);
  bool ended = false;
  self->receive([&](const caf::down_msg& down) { ended = down.source == coordinator.address(); },
                caf::after(std::chrono::seconds(30)) >> [] {});
  EXPECT_TRUE(ended);
  caf::anon_send_exit(coordinator, caf::exit_reason::kill);  // lets the system end if it did not
}

TEST(RuntimeTest, ATaskPastItsTimeoutIsRetriedThenRecordedAsFailedWithTheReason) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  // Every evaluation takes 200 ms of CPU; the timeout is 20 ms, two attempts in all.
  auto engine = JobEngine::Create(ToyJob(2, 200), store->get(), testing::ToyRegistry());
  ASSERT_TRUE(engine.ok());
  DispatcherOptions options;
  options.task_timeout_seconds = 0.02;
  options.max_attempts = 2;
  LocalRuntime runtime(1, testing::ToyRegistry(), {}, options);
  auto outcome = runtime.RunJob(std::move(*engine), CoordinatorOptions{}, nullptr, nullptr);
  EXPECT_EQ(outcome.state, v1::SUCCEEDED);
  auto history = (*store)->ReadHistory("runtime");
  ASSERT_EQ(history->size(), 2u);
  for (const auto& row : *history) {
    EXPECT_EQ(row.evaluation().status(), v1::FAILED);
    EXPECT_NE(row.evaluation().error().find("evaluation failed 2 times"), std::string::npos)
        << row.evaluation().error();
    EXPECT_NE(row.evaluation().error().find("timeout"), std::string::npos)
        << row.evaluation().error();
  }
  // Failures from the infrastructure are never cached.
  EXPECT_EQ(*(*store)->CountEvaluations(), 0u);
}

TEST(RuntimeTest, StopCheckpointsAndLeavesTheJobRunning) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(ToyJob(100000, 1), store->get(), testing::ToyRegistry());
  LocalRuntime runtime(2, testing::ToyRegistry());
  int polls = 0;
  auto outcome = runtime.RunJob(std::move(*engine), CoordinatorOptions{}, nullptr,
                                [&] { return ++polls > 3; });
  EXPECT_TRUE(outcome.interrupted);
  EXPECT_EQ((*store)->GetJob("runtime")->state(), v1::RUNNING);
  auto checkpoint = (*store)->GetCheckpoint("runtime");
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_GT(checkpoint->told(), 0u);
  EXPECT_EQ((*store)->ReadHistory("runtime")->size(), checkpoint->told());
}

TEST(RuntimeTest, StopIsSeenWhenProgressReportsComeMoreOftenThanItsPoll) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  auto engine = JobEngine::Create(ToyJob(100000, 1), store->get(), testing::ToyRegistry());
  LocalRuntime runtime(2, testing::ToyRegistry());
  CoordinatorOptions options;
  options.progress_every_seconds = 0.01;  // a report every 10 ms: never a quiet 100 ms
  int reports = 0;
  bool stop = false;
  auto outcome = runtime.RunJob(
      std::move(*engine), options, [&](const v1::JobProgress&) { stop = ++reports >= 5; },
      [&] { return stop; });
  EXPECT_TRUE(outcome.interrupted);
  EXPECT_LT(reports, 50) << "the stop waited for the job";
  EXPECT_EQ((*store)->GetJob("runtime")->state(), v1::RUNNING);
}

}  // namespace
}  // namespace evolv
