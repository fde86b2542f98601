// The job manager with real actors (dispatcher, local workers, coordinators) on a real Store:
// ids, pause / resume / cancel of a running job, and a stop whose checkpoint fails.
#include "actors/job_manager.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "actors/job_lifecycle.h"
#include "actors/local_runtime.h"
#include "search/job_spec.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

v1::JobSpec Spec(uint64_t evaluations, double work_ms) {
  testing::ToyJobOptions options;
  options.evaluations = evaluations;
  options.work_ms = work_ms;
  return testing::ToyJob(options).spec();
}

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Start(const CoordinatorOptions& coordinator = {}) {
    runtime_ = std::make_unique<LocalRuntime>(2, testing::ToyRegistry());
    JobManagerOptions options;
    options.coordinator = coordinator;
    manager_ = SpawnJobManager(runtime_->system(), store_.get(), testing::ToyRegistry(),
                               runtime_->dispatcher(), options);
    client_ = std::make_unique<JobManagerClient>(runtime_->system(), manager_);
  }

  void TearDown() override {
    if (!runtime_) return;
    (void)client_->Shutdown();
    caf::anon_send_exit(manager_, caf::exit_reason::user_shutdown);
    client_.reset();
    manager_ = nullptr;
    runtime_.reset();
  }

  // Waits until the job has told at least `evaluations` results.
  bool WaitForProgress(const std::string& id, uint64_t evaluations) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto record = client_->Get(id);
      if (record.ok() && record->progress().evaluations() >= evaluations) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LocalRuntime> runtime_;
  job_manager_actor manager_;
  std::unique_ptr<JobManagerClient> client_;
};

TEST_F(JobManagerTest, JobsGetTheSpecsIdsAndRunToTheEnd) {
  Start();
  const v1::JobSpec spec = Spec(100, 0);
  auto first = client_->Submit(spec);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->id(), JobIdFor(spec));
  auto second = client_->Submit(spec);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->id(), JobIdAt(spec, 1));

  v1::JobEvent last;
  ASSERT_TRUE(client_
                  ->Watch(
                      first->id(), [&](const v1::JobEvent& e) { last = e; }, [] { return true; })
                  .ok());
  EXPECT_EQ(last.state(), v1::SUCCEEDED);
  EXPECT_EQ(last.progress().evaluations(), 100u);
  EXPECT_EQ(client_->Get(first->id())->state(), v1::SUCCEEDED);
  EXPECT_EQ(store_->GetJob(first->id())->state(), v1::SUCCEEDED);
  EXPECT_EQ(store_->ReadHistory(first->id())->size(), 100u);
}

TEST_F(JobManagerTest, PauseAndCancelAreWrittenWithTheCoordinatorsCheckpoint) {
  Start();
  auto job = client_->Submit(Spec(1000000, 1));
  ASSERT_TRUE(job.ok()) << job.status();
  const std::string id = job->id();
  ASSERT_TRUE(WaitForProgress(id, 10));

  auto paused = client_->Pause(id);
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->state(), v1::PAUSED);
  // The record and the checkpoint were committed together: they agree.
  auto stored = store_->GetJob(id);
  auto checkpoint = store_->GetCheckpoint(id);
  ASSERT_TRUE(stored.ok() && checkpoint.ok());
  EXPECT_EQ(stored->state(), v1::PAUSED);
  EXPECT_EQ(stored->progress().evaluations(), checkpoint->told());
  EXPECT_EQ(store_->ReadHistory(id)->size(), checkpoint->told());
  EXPECT_EQ(paused->progress().evaluations(), checkpoint->told());
  EXPECT_EQ(client_->Pause(id)->state(), v1::PAUSED);

  auto resumed = client_->Resume(id);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->state(), v1::RUNNING);
  EXPECT_EQ(store_->GetJob(id)->state(), v1::RUNNING);
  ASSERT_TRUE(WaitForProgress(id, checkpoint->told() + 10));

  auto cancelled = client_->Cancel(id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::CANCELLED);
  EXPECT_EQ(store_->GetJob(id)->state(), v1::CANCELLED);
  EXPECT_GT(store_->GetCheckpoint(id)->told(), checkpoint->told());

  auto refused = client_->Resume(id);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("CANCELLED"), std::string::npos);
}

// The coordinator's checkpoint on stop fails (RocksDB may not grow its write-ahead log:
// RLIMIT_FSIZE, as on a full disk): the pause is an error and the job is not PAUSED.
TEST_F(JobManagerTest, AStopWhoseCheckpointFailsIsReportedAndTheJobIsNotPaused) {
  CoordinatorOptions coordinator;  // no checkpoint but the stop's
  coordinator.checkpoint_every_results = 1u << 30;
  coordinator.checkpoint_every_seconds = 1e6;
  Start(coordinator);
  auto job = client_->Submit(Spec(1000000, 1));
  ASSERT_TRUE(job.ok()) << job.status();
  const std::string id = job->id();
  ASSERT_TRUE(WaitForProgress(id, 10));

  // Grow the write-ahead log past RocksDB's info log, so the info log keeps room to report.
  auto largest = [&](const std::string& suffix) {
    uintmax_t bytes = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      const std::string name = entry.path().filename().string();
      if (name.size() >= suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        bytes = std::max(bytes, entry.file_size());
      }
    }
    return bytes;
  };
  v1::JobRecord filler;
  filler.set_id("filler");
  filler.mutable_spec()->set_name(std::string(largest("LOG") + (1 << 20), 'x'));
  ASSERT_TRUE(store_->PutJob(filler).ok());
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = largest(".log");
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  auto paused = client_->Pause(id);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);

  ASSERT_FALSE(paused.ok());
  EXPECT_EQ(paused.status().code(), absl::StatusCode::kUnavailable) << paused.status();
  EXPECT_NE(paused.status().message().find("could not be stopped"), std::string::npos)
      << paused.status();
  EXPECT_NE(paused.status().message().find("checkpoint failed"), std::string::npos)
      << paused.status();
  EXPECT_EQ(client_->Get(id)->state(), v1::RUNNING);
  EXPECT_EQ(store_->GetJob(id)->state(), v1::RUNNING);
}

}  // namespace
}  // namespace evolv
