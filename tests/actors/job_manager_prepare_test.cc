// The job manager builds a job's problem off its own thread and honours its callers' deadlines:
// a problem whose build blocks (as one reading a slow or stuck file does) leaves every other
// request answered, a build past the time limit answers DeadlineExceeded and creates nothing, and
// a request whose deadline passed before it was applied changes nothing. Real actors on a real
// Store; the toy domain's factory waits at a gate the test opens.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "actors/job_manager.h"
#include "actors/local_runtime.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

// Where the toy factory waits for a spec with dims 7, until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  int waiting = 0;

  void Close() {
    std::lock_guard<std::mutex> lock(mu);
    open = false;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  void Pass() {
    std::unique_lock<std::mutex> lock(mu);
    ++waiting;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
    --waiting;
    cv.notify_all();
  }
  // Waits (up to 30 s) until `n` builds wait at the gate.
  bool WaitForWaiting(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 30s, [&] { return waiting == n; });
  }
};

Gate& TheGate() {
  static Gate* gate = new Gate;
  return *gate;
}

const ProblemRegistry& GatedToyRegistry() {
  static const ProblemRegistry* registry = [] {
    auto* r = new ProblemRegistry;
    absl::Status registered = r->Register<test::ToySpec>(
        "toy",
        [](const test::ToySpec& s) -> absl::StatusOr<std::unique_ptr<Problem>> {
          if (s.dims() == 7) TheGate().Pass();
          return std::make_unique<testing::ToyProblem>(s.dims() ? s.dims() : 4, s.noise(),
                                                       s.work_ms());
        },
        test::ToySpec());
    if (!registered.ok()) std::abort();
    return r;
  }();
  return *registry;
}

v1::JobSpec Spec(int dims, uint64_t evaluations) {
  testing::ToyJobOptions options;
  options.dims = dims;
  options.evaluations = evaluations;
  return testing::ToyJob(options).spec();
}

class JobManagerPrepareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TheGate().Open();
    auto store = Store::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Start(JobManagerOptions options = {}) {
    runtime_ = std::make_unique<LocalRuntime>(2, GatedToyRegistry());
    manager_ = SpawnJobManager(runtime_->system(), store_.get(), GatedToyRegistry(),
                               runtime_->dispatcher(), options);
    client_ = std::make_unique<JobManagerClient>(runtime_->system(), manager_);
  }

  void TearDown() override {
    TheGate().Open();
    TheGate().WaitForWaiting(0);
    Stop();
  }

  // Shuts the manager down as evolvd does on SIGTERM (running jobs stay RUNNING in the store).
  void Stop() {
    if (!runtime_) return;
    (void)client_->Shutdown();
    caf::anon_send_exit(manager_, caf::exit_reason::user_shutdown);
    client_.reset();
    manager_ = nullptr;
    runtime_.reset();
  }

  size_t StoredJobs() { return store_->ListJobs()->size(); }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LocalRuntime> runtime_;
  job_manager_actor manager_;
  std::unique_ptr<JobManagerClient> client_;
};

TEST_F(JobManagerPrepareTest, ABlockedProblemBuildLeavesEveryOtherRequestAnswered) {
  Start();
  auto other = client_->Submit(Spec(3, 1000000));
  ASSERT_TRUE(other.ok()) << other.status();

  TheGate().Close();
  auto blocked = std::async(std::launch::async, [&] { return client_->Submit(Spec(7, 20)); });
  ASSERT_TRUE(TheGate().WaitForWaiting(1));

  // The build is stuck; the manager still answers reads and changes other jobs.
  EXPECT_TRUE(client_->Probe(5s).ok());
  auto listed = client_->List();
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->size(), 1u);
  auto paused = client_->Pause(other->id());
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->state(), v1::PAUSED);
  auto second = client_->Submit(Spec(5, 10));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(blocked.wait_for(0s), std::future_status::timeout);

  TheGate().Open();
  auto created = blocked.get();
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->state(), v1::RUNNING);
  EXPECT_EQ(StoredJobs(), 3u);
}

TEST_F(JobManagerPrepareTest, ABuildPastTheTimeLimitAnswersDeadlineExceededAndCreatesNothing) {
  JobManagerOptions options;
  options.prepare_timeout = 300ms;
  Start(options);
  TheGate().Close();
  auto refused = client_->Submit(Spec(7, 20));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDeadlineExceeded) << refused.status();
  EXPECT_NE(refused.status().message().find("took longer than 0.3 s"), std::string::npos)
      << refused.status();

  // The build finishes after its answer: its result is dropped.
  TheGate().Open();
  ASSERT_TRUE(TheGate().WaitForWaiting(0));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(client_->List()->empty());
  EXPECT_EQ(StoredJobs(), 0u);
}

TEST_F(JobManagerPrepareTest, BuildsBeyondTheLimitAreRefusedWithResourceExhausted) {
  JobManagerOptions options;
  options.max_preparing = 1;
  Start(options);
  TheGate().Close();
  auto blocked = std::async(std::launch::async, [&] { return client_->Submit(Spec(7, 20)); });
  ASSERT_TRUE(TheGate().WaitForWaiting(1));
  auto refused = client_->Submit(Spec(3, 20));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  TheGate().Open();
  EXPECT_TRUE(blocked.get().ok());
  EXPECT_TRUE(client_->Submit(Spec(3, 20)).ok());
  EXPECT_EQ(StoredJobs(), 2u);
}

TEST_F(JobManagerPrepareTest, ASubmitWhoseDeadlinePassesDuringItsBuildIsNotApplied) {
  Start();
  TheGate().Close();
  const auto deadline = std::chrono::system_clock::now() + 300ms;
  auto late =
      std::async(std::launch::async, [&] { return client_->Submit(Spec(7, 20), deadline); });
  ASSERT_TRUE(TheGate().WaitForWaiting(1));
  std::this_thread::sleep_until(deadline + 100ms);
  TheGate().Open();
  auto answer = late.get();
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kDeadlineExceeded) << answer.status();
  EXPECT_TRUE(client_->List()->empty());
  EXPECT_EQ(StoredJobs(), 0u);
}

TEST_F(JobManagerPrepareTest, RequestsPastTheirDeadlineOnArrivalChangeNothing) {
  Start();
  const auto past = std::chrono::system_clock::now() - 1s;
  auto submit = client_->Submit(Spec(3, 20), past);
  EXPECT_EQ(submit.status().code(), absl::StatusCode::kDeadlineExceeded) << submit.status();
  EXPECT_EQ(StoredJobs(), 0u);

  auto job = client_->Submit(Spec(3, 1000000));
  ASSERT_TRUE(job.ok()) << job.status();
  for (auto call : {&JobManagerClient::Pause, &JobManagerClient::Cancel}) {
    auto answer = (client_.get()->*call)(job->id(), past);
    EXPECT_EQ(answer.status().code(), absl::StatusCode::kDeadlineExceeded) << answer.status();
    EXPECT_EQ(client_->Get(job->id())->state(), v1::RUNNING);
  }
  ASSERT_TRUE(client_->Pause(job->id()).ok());
  auto resume = client_->Resume(job->id(), past);
  EXPECT_EQ(resume.status().code(), absl::StatusCode::kDeadlineExceeded) << resume.status();
  EXPECT_EQ(client_->Get(job->id())->state(), v1::PAUSED);
  EXPECT_EQ(store_->GetJob(job->id())->state(), v1::PAUSED);

  // A deadline still ahead is no obstacle.
  auto resumed = client_->Resume(job->id(), std::chrono::system_clock::now() + 60s);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->state(), v1::RUNNING);
}

// A job resumed at start whose problem build hangs (its files on a stuck mount) is PAUSED with
// the reason once the time limit passes, instead of holding the manager or failing for good; the
// manager serves meanwhile, and ResumeJob runs it once its files answer again.
TEST_F(JobManagerPrepareTest, AResumeAtStartWhoseBuildHangsPausesTheJobForLater) {
  Start();
  auto job = client_->Submit(Spec(7, 1000000));
  ASSERT_TRUE(job.ok()) << job.status();
  auto other = client_->Submit(Spec(3, 1000000));
  ASSERT_TRUE(other.ok()) << other.status();
  Stop();
  ASSERT_EQ(store_->GetJob(job->id())->state(), v1::RUNNING);

  TheGate().Close();
  JobManagerOptions options;
  options.prepare_timeout = 300ms;
  Start(options);  // its first answer comes after the start-up resumes
  auto held = client_->Get(job->id());
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->state(), v1::PAUSED);
  EXPECT_NE(held->error().find("took longer than 0.3 s"), std::string::npos) << held->error();
  EXPECT_EQ(store_->GetJob(job->id())->state(), v1::PAUSED);
  EXPECT_EQ(client_->Get(other->id())->state(), v1::RUNNING);  // the others resumed
  EXPECT_TRUE(client_->Probe(5s).ok());

  TheGate().Open();
  auto resumed = client_->Resume(job->id());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->state(), v1::RUNNING);
  EXPECT_TRUE(resumed->error().empty()) << resumed->error();
}

TEST_F(JobManagerPrepareTest, ResumesAtStartAreBuiltTogetherNotOneAfterAnother) {
  Start();
  auto first = client_->Submit(Spec(7, 1000000));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = client_->Submit(Spec(7, 1000000));
  ASSERT_TRUE(second.ok()) << second.status();
  auto other = client_->Submit(Spec(3, 1000000));
  ASSERT_TRUE(other.ok()) << other.status();
  Stop();

  // Both gated builds must be waiting at once, long before either's 60 s limit: built one after
  // another, the second would start only when the first is done or given up.
  TheGate().Close();
  std::atomic<bool> together{false};
  std::thread opener([&] {
    together = TheGate().WaitForWaiting(2);
    TheGate().Open();
  });
  JobManagerOptions options;
  options.prepare_timeout = 60s;
  Start(options);  // its first answer comes after the start-up resumes
  for (const auto* job : {&*first, &*second, &*other}) {
    auto resumed = client_->Get(job->id());
    ASSERT_TRUE(resumed.ok()) << resumed.status();
    EXPECT_EQ(resumed->state(), v1::RUNNING) << resumed->error();
  }
  opener.join();
  EXPECT_TRUE(together);
}

}  // namespace
}  // namespace evolv
