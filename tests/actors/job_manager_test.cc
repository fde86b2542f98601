// The job manager with real actors (dispatcher, local workers, coordinators) on a real Store:
// ids, pause / resume / cancel of a running job, and a stop whose checkpoint fails.
#include "actors/job_manager.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

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

// The toy domain as a domain with a bug builds it: its factory throws for some dims, as code
// that allocates a size taken from the spec does (the first two) or that fails otherwise.
const ProblemRegistry& ThrowingToyRegistry() {
  static const ProblemRegistry* registry = [] {
    auto* r = new ProblemRegistry;
    absl::Status registered = r->Register<test::ToySpec>(
        "toy",
        [](const test::ToySpec& s) -> absl::StatusOr<std::unique_ptr<Problem>> {
          if (s.dims() == 1000) std::vector<double>().reserve(SIZE_MAX / 4);  // std::length_error
          if (s.dims() == 1001) throw std::bad_alloc();
          if (s.dims() == 1002) throw std::runtime_error("toy: a bug");
          return std::make_unique<testing::ToyProblem>(s.dims() ? s.dims() : 4, s.noise(),
                                                       s.work_ms());
        },
        test::ToySpec());
    if (!registered.ok()) std::abort();
    return r;
  }();
  return *registry;
}

v1::JobSpec SpecWithDims(int dims) {
  testing::ToyJobOptions options;
  options.dims = dims;
  return testing::ToyJob(options).spec();
}

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Start(const CoordinatorOptions& coordinator = {},
             const ProblemRegistry& registry = testing::ToyRegistry()) {
    runtime_ = std::make_unique<LocalRuntime>(2, registry);
    JobManagerOptions options;
    options.coordinator = coordinator;
    manager_ = SpawnJobManager(runtime_->system(), store_.get(), registry, runtime_->dispatcher(),
                               options);
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

  // The job's last event, once it has ended.
  v1::JobEvent WatchToEnd(const std::string& id) {
    v1::JobEvent last;
    const absl::Status watched = client_->Watch(
        id, [&](const v1::JobEvent& e) { last = e; }, [] { return true; });
    EXPECT_TRUE(watched.ok()) << watched;
    return last;
  }

  // Submits a long toy job and waits until it has told 10 results; its id.
  std::string StartLiveJob() {
    auto job = client_->Submit(Spec(1000000, 1));
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok()) return "";
    EXPECT_TRUE(WaitForProgress(job->id(), 10));
    return job->id();
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

  const v1::JobEvent last = WatchToEnd(first->id());
  EXPECT_EQ(last.state(), v1::SUCCEEDED);
  EXPECT_EQ(last.progress().evaluations(), 100u);
  EXPECT_EQ(client_->Get(first->id())->state(), v1::SUCCEEDED);
  EXPECT_EQ(store_->GetJob(first->id())->state(), v1::SUCCEEDED);
  EXPECT_EQ(store_->ReadHistory(first->id())->size(), 100u);
}

TEST_F(JobManagerTest, PauseAndCancelAreWrittenWithTheCoordinatorsCheckpoint) {
  Start();
  const std::string id = StartLiveJob();
  ASSERT_FALSE(HasFailure());

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

TEST_F(JobManagerTest, RacingPauseAndResumeAnswerOkOrTheTransientRefusalAndARetrySettles) {
  Start();
  const std::string id = StartLiveJob();
  ASSERT_FALSE(HasFailure());

  // Four threads pause and resume the live job as fast as they can (docs/service.md, "Errors").
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        auto answer = (i + t) % 2 == 0 ? client_->Pause(id) : client_->Resume(id);
        if (answer.ok()) {
          ++ok;
        } else if (answer.status().code() == absl::StatusCode::kFailedPrecondition &&
                   answer.status().message() == "job " + id + " is being paused or cancelled") {
          ++refused;
        } else {
          ++other;
          ADD_FAILURE() << answer.status();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load() + refused.load(), 400) << "refused " << refused.load();
  EXPECT_EQ(other.load(), 0);
  RecordProperty("refused", refused.load());  // how often the race was hit (--gtest_output=xml)
  // The refusal is transient: once the state settles, the same request succeeds.
  absl::StatusOr<v1::JobRecord> paused = client_->Pause(id);
  for (int i = 0; i < 100 && !paused.ok(); ++i) {
    std::this_thread::sleep_for(20ms);
    paused = client_->Pause(id);
  }
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->state(), v1::PAUSED);
  EXPECT_EQ(store_->GetJob(id)->state(), v1::PAUSED);
}

TEST_F(JobManagerTest, AnExceptionInValidationAnswersTheSubmitAndTheManagerKeepsServing) {
  Start({}, ThrowingToyRegistry());
  auto reserve = client_->Submit(SpecWithDims(1000));
  EXPECT_EQ(reserve.status().code(), absl::StatusCode::kResourceExhausted) << reserve.status();
  EXPECT_NE(reserve.status().message().find("submitting a job: a size beyond any container"),
            std::string::npos)
      << reserve.status();
  auto bad_alloc = client_->Submit(SpecWithDims(1001));
  EXPECT_EQ(bad_alloc.status().code(), absl::StatusCode::kResourceExhausted) << bad_alloc.status();
  EXPECT_NE(bad_alloc.status().message().find("submitting a job: out of memory"), std::string::npos)
      << bad_alloc.status();
  auto bug = client_->Submit(SpecWithDims(1002));
  EXPECT_EQ(bug.status().code(), absl::StatusCode::kInternal) << bug.status();
  EXPECT_EQ(bug.status().message(), "submitting a job: toy: a bug");
  // Nothing was stored, and the manager still serves: a good job runs to its end.
  EXPECT_TRUE(store_->ListJobs()->empty());
  EXPECT_TRUE(client_->Probe(std::chrono::milliseconds(1000)).ok());
  auto job = client_->Submit(Spec(50, 0));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(WatchToEnd(job->id()).state(), v1::SUCCEEDED);
  EXPECT_EQ(client_->List()->size(), 1u);
}

TEST_F(JobManagerTest, ProbeIsOkWhileTheManagerServesAndUnavailableOnceItIsGone) {
  Start();
  EXPECT_TRUE(client_->Probe(std::chrono::milliseconds(1000)).ok());
  caf::scoped_actor self{runtime_->system()};
  self->monitor(manager_);
  caf::anon_send_exit(manager_, caf::exit_reason::kill);
  self->receive([](caf::down_msg&) {});
  const auto start = std::chrono::steady_clock::now();
  const absl::Status probe = client_->Probe(std::chrono::milliseconds(1000));
  EXPECT_EQ(probe.code(), absl::StatusCode::kUnavailable) << probe;
  EXPECT_NE(probe.message().find("job manager: "), std::string::npos) << probe;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
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
