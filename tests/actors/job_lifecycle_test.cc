// JobLifecycle on a real Store in a temp dir: every transition, the refused ones, one store write
// per state change, and a failed write that changes nothing.
//
// Writes are counted as RocksDB sees them: the database's latest sequence number, read by a
// read-only instance opened beside the Store. A Store::PutJob is a one-row batch, +1.
#include "actors/job_lifecycle.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdarg>
#include <filesystem>
#include <memory>

#include "actors/job_engine.h"
#include "rocksdb/db.h"
#include "search/job_spec.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

v1::JobSpec Spec(const std::string& name = "toy") {
  testing::ToyJobOptions options;
  v1::JobSpec spec = testing::ToyJob(options).spec();
  spec.set_name(name);
  return spec;
}

// Keeps the read-only instance from rotating the live store's info log.
class QuietLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

class JobLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    jobs_ = std::make_unique<JobLifecycle>(store_.get(), testing::ToyRegistry());
    ASSERT_TRUE(jobs_->Restore().ok());
  }

  // RocksDB's latest sequence number for the store's directory.
  uint64_t Sequence() const {
    rocksdb::Options options;
    options.info_log = std::make_shared<QuietLogger>();
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, dir_.path(), &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return 0;
    std::unique_ptr<rocksdb::DB> db(raw);
    return db->GetLatestSequenceNumber();
  }

  v1::JobState Stored(const std::string& id) const {
    auto record = store_->GetJob(id);
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? record->state() : v1::JOB_STATE_UNSPECIFIED;
  }

  std::string CreateJob(const std::string& name = "toy") {
    auto record = jobs_->Create(Spec(name));
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? record->id() : "";
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<JobLifecycle> jobs_;
};

TEST_F(JobLifecycleTest, CreateStoresARunningJobUnderTheSpecsIdWithOneWrite) {
  const uint64_t before = Sequence();
  auto record = jobs_->Create(Spec());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(Sequence() - before, 1u);
  EXPECT_EQ(record->id(), JobIdFor(Spec()));
  EXPECT_EQ(record->state(), v1::RUNNING);
  EXPECT_GT(record->created_unix_ms(), 0);
  EXPECT_EQ(record->updated_unix_ms(), record->created_unix_ms());
  EXPECT_EQ(Stored(record->id()), v1::RUNNING);
  EXPECT_EQ(jobs_->Find(record->id())->spec().name(), "toy");
}

TEST_F(JobLifecycleTest, TheSameSpecAgainGetsTheNextIdOfTheScheme) {
  const std::string first = CreateJob();
  const std::string second = CreateJob();
  const std::string third = CreateJob();
  EXPECT_EQ(first, JobIdAt(Spec(), 0));
  EXPECT_EQ(second, JobIdAt(Spec(), 1));
  EXPECT_EQ(third, JobIdAt(Spec(), 2));
  EXPECT_NE(first, second);
  EXPECT_NE(second, third);
  EXPECT_EQ(second.size(), 17u);
  EXPECT_EQ(second[0], 'j');
  EXPECT_EQ(store_->ListJobs()->size(), 3u);
}

TEST_F(JobLifecycleTest, FindOrCreateFindsTheSpecsJobAgainAndWritesOnlyToCreateIt) {
  const uint64_t before = Sequence();
  auto created = jobs_->FindOrCreate(Spec());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->id(), JobIdFor(Spec()));
  ASSERT_TRUE(jobs_->Pause(created->id()).ok());
  const uint64_t after_two = Sequence();
  EXPECT_EQ(after_two - before, 2u);

  // Another lifecycle on the same store (the next `evolv run`) finds it, in its state.
  JobLifecycle next(store_.get(), testing::ToyRegistry());
  auto found = next.FindOrCreate(Spec());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->id(), created->id());
  EXPECT_EQ(found->state(), v1::PAUSED);
  EXPECT_EQ(Sequence(), after_two);
}

TEST_F(JobLifecycleTest, ABadSpecIsRefusedNamingTheFieldAndNothingIsStored) {
  v1::JobSpec spec = Spec();
  spec.mutable_budget()->Clear();
  const uint64_t before = Sequence();
  auto created = jobs_->Create(spec);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(created.status().message().rfind("budget", 0), 0u) << created.status();
  EXPECT_FALSE(jobs_->FindOrCreate(spec).ok());
  EXPECT_EQ(Sequence(), before);
  EXPECT_TRUE(store_->ListJobs()->empty());
  EXPECT_TRUE(jobs_->List().empty());
}

TEST_F(JobLifecycleTest, PauseResumeCancelEachWriteOnceAndStampTheRecord) {
  const std::string id = CreateJob();
  const int64_t created = jobs_->Find(id)->updated_unix_ms();

  uint64_t before = Sequence();
  auto paused = jobs_->Pause(id);
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(Sequence() - before, 1u);
  EXPECT_EQ(paused->state(), v1::PAUSED);
  EXPECT_GE(paused->updated_unix_ms(), created);
  EXPECT_EQ(Stored(id), v1::PAUSED);
  EXPECT_EQ(store_->GetJob(id)->updated_unix_ms(), paused->updated_unix_ms());

  before = Sequence();
  auto resumed = jobs_->Resume(id);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(Sequence() - before, 1u);
  EXPECT_EQ(resumed->state(), v1::RUNNING);
  EXPECT_EQ(Stored(id), v1::RUNNING);

  before = Sequence();
  auto cancelled = jobs_->Cancel(id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(Sequence() - before, 1u);
  EXPECT_EQ(cancelled->state(), v1::CANCELLED);
  EXPECT_EQ(Stored(id), v1::CANCELLED);
  EXPECT_EQ(jobs_->Find(id)->state(), v1::CANCELLED);
}

TEST_F(JobLifecycleTest, APausedJobCanBeCancelledWithOneWrite) {
  const std::string id = CreateJob();
  ASSERT_TRUE(jobs_->Pause(id).ok());
  const uint64_t before = Sequence();
  auto cancelled = jobs_->Cancel(id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(Sequence() - before, 1u);
  EXPECT_EQ(Stored(id), v1::CANCELLED);
}

TEST_F(JobLifecycleTest, FailRecordsTheErrorWithOneWrite) {
  const std::string id = CreateJob();
  const uint64_t before = Sequence();
  auto failed = jobs_->Fail(id, "checkpoint failed: disk full");
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(Sequence() - before, 1u);
  EXPECT_EQ(failed->state(), v1::FAILED_STATE);
  auto stored = store_->GetJob(id);
  EXPECT_EQ(stored->state(), v1::FAILED_STATE);
  EXPECT_EQ(stored->error(), "checkpoint failed: disk full");
}

TEST_F(JobLifecycleTest, AFailedJobsRefusalsCallItFailed) {
  const std::string id = CreateJob();
  ASSERT_TRUE(jobs_->Fail(id, "x").ok());
  auto refused = jobs_->Resume(id);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("has already ended (FAILED)"), std::string::npos)
      << refused.status();
}

TEST(JobStateNameTest, StatesReadWithoutTheEnumsSuffixAndParseInAnyCase) {
  EXPECT_EQ(JobStateName(v1::FAILED_STATE), "FAILED");
  EXPECT_EQ(JobStateName(v1::RUNNING), "RUNNING");
  EXPECT_EQ(JobStateNames(), "PENDING, RUNNING, PAUSED, SUCCEEDED, FAILED, CANCELLED");
  EXPECT_EQ(ParseJobStateName("running"), v1::RUNNING);
  EXPECT_EQ(ParseJobStateName("Failed"), v1::FAILED_STATE);
  EXPECT_EQ(ParseJobStateName("FAILED_STATE"), v1::FAILED_STATE);
  EXPECT_EQ(ParseJobStateName("cancelled"), v1::CANCELLED);
  EXPECT_EQ(ParseJobStateName("runing"), std::nullopt);
  EXPECT_EQ(ParseJobStateName("JOB_STATE_UNSPECIFIED"), std::nullopt);
  EXPECT_EQ(ParseJobStateName(""), std::nullopt);
}

TEST_F(JobLifecycleTest, PausingAPausedJobOrResumingARunningOneWritesNothing) {
  const std::string id = CreateJob();
  uint64_t before = Sequence();
  auto running = jobs_->Resume(id);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(running->state(), v1::RUNNING);
  EXPECT_EQ(Sequence(), before);

  ASSERT_TRUE(jobs_->Pause(id).ok());
  before = Sequence();
  auto again = jobs_->Pause(id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state(), v1::PAUSED);
  EXPECT_EQ(Sequence(), before);
}

TEST_F(JobLifecycleTest, IllegalTransitionsAreRefusedNamingTheStateAndWriteNothing) {
  const std::string cancelled = CreateJob("cancelled");
  ASSERT_TRUE(jobs_->Cancel(cancelled).ok());
  const std::string paused = CreateJob("paused");
  ASSERT_TRUE(jobs_->Pause(paused).ok());
  const uint64_t before = Sequence();

  for (const auto& refused :
       {jobs_->Pause(cancelled), jobs_->Resume(cancelled), jobs_->Cancel(cancelled),
        jobs_->Fail(cancelled, "x"), jobs_->Finish(cancelled)}) {
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(refused.status().message().find("has already ended (CANCELLED)"), std::string::npos)
        << refused.status();
  }
  for (const auto& refused : {jobs_->Fail(paused, "x"), jobs_->Finish(paused)}) {
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(refused.status().message().find("is PAUSED"), std::string::npos) << refused.status();
  }
  EXPECT_EQ(jobs_->CheckTransition(paused, v1::SUCCEEDED).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(jobs_->CheckTransition(paused, v1::CANCELLED).ok());

  EXPECT_EQ(jobs_->Get("jnope").status().code(), absl::StatusCode::kNotFound);
  auto unknown = jobs_->Pause("jnope");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("jnope"), std::string::npos);

  EXPECT_EQ(Sequence(), before);
  EXPECT_EQ(Stored(cancelled), v1::CANCELLED);
  EXPECT_EQ(Stored(paused), v1::PAUSED);
}

// A running job's pause and success are written by its engine's checkpoint; the lifecycle takes
// the committed record and writes nothing more.
TEST_F(JobLifecycleTest, ChangesTheEngineCommittedAreTakenWithoutAnotherWrite) {
  const std::string id = CreateJob();
  v1::JobRecord record = *jobs_->Find(id);
  auto engine = JobEngine::Create(record, store_.get(), testing::ToyRegistry());
  ASSERT_TRUE(engine.ok()) << engine.status();

  ASSERT_TRUE(jobs_->CheckTransition(id, v1::PAUSED).ok());
  ASSERT_TRUE((*engine)->Checkpoint(v1::PAUSED).ok());
  uint64_t before = Sequence();
  auto paused = jobs_->Adopt(*store_->GetJob(id));
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(jobs_->Find(id)->state(), v1::PAUSED);
  EXPECT_EQ(Sequence(), before);

  ASSERT_TRUE(jobs_->Resume(id).ok());
  // Finish before the engine has committed SUCCEEDED: the store disagrees, nothing changes.
  auto early = jobs_->Finish(id);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition) << early.status();
  EXPECT_EQ(jobs_->Find(id)->state(), v1::RUNNING);

  ASSERT_TRUE((*engine)->Checkpoint(v1::SUCCEEDED).ok());
  before = Sequence();
  auto finished = jobs_->Finish(id);
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_EQ(finished->state(), v1::SUCCEEDED);
  EXPECT_EQ(jobs_->Find(id)->state(), v1::SUCCEEDED);
  EXPECT_EQ(Sequence(), before);

  // A record that would take a finished job back is refused.
  v1::JobRecord back = *finished;
  back.set_state(v1::RUNNING);
  EXPECT_EQ(jobs_->Adopt(back).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(jobs_->Find(id)->state(), v1::SUCCEEDED);
}

TEST_F(JobLifecycleTest, RestoreLoadsEveryJobInCreationOrderAndNamesTheRunningOnes) {
  const std::string a = CreateJob("a");
  const std::string b = CreateJob("b");
  const std::string c = CreateJob("c");
  ASSERT_TRUE(jobs_->Pause(b).ok());
  ASSERT_TRUE(jobs_->Cancel(c).ok());

  JobLifecycle restarted(store_.get(), testing::ToyRegistry());
  auto running = restarted.Restore();
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(*running, std::vector<std::string>{a});
  std::vector<std::string> ids;
  for (const auto& record : restarted.List()) ids.push_back(record.id());
  auto stored = store_->ListJobs();
  ASSERT_TRUE(stored.ok()) << stored.status();
  std::vector<std::string> expected;
  for (const auto& record : *stored) expected.push_back(record.id());
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(restarted.Find(b)->state(), v1::PAUSED);
  EXPECT_EQ(restarted.Find(c)->state(), v1::CANCELLED);
}

TEST_F(JobLifecycleTest, ProgressIsKeptInMemoryOnly) {
  const std::string id = CreateJob();
  v1::JobProgress progress;
  progress.set_evaluations(42);
  const uint64_t before = Sequence();
  jobs_->SetProgress(id, progress);
  EXPECT_EQ(jobs_->Find(id)->progress().evaluations(), 42u);
  EXPECT_EQ(Sequence(), before);
  EXPECT_EQ(store_->GetJob(id)->progress().evaluations(), 0u);
}

// A write RocksDB cannot make (its write-ahead log may not grow: RLIMIT_FSIZE, as on a full
// disk) leaves the job as it was, here and in the store.
TEST_F(JobLifecycleTest, AFailedWriteLeavesTheJobAsItWas) {
  const std::string id = CreateJob();
  const v1::JobRecord before = *jobs_->Find(id);

  // Grow the write-ahead log well past the info log, so that only the log's next record is
  // refused: RocksDB's info log must keep room to report the error.
  auto size_of = [&](const std::string& suffix) {
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
  filler.mutable_spec()->set_name(std::string(size_of("LOG") + (1 << 20), 'x'));
  ASSERT_TRUE(store_->PutJob(filler).ok());
  const uintmax_t wal_bytes = size_of(".log");
  ASSERT_GT(wal_bytes, size_of("LOG") + (512 << 10));
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = wal_bytes;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  auto paused = jobs_->Pause(id);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);

  ASSERT_FALSE(paused.ok());
  EXPECT_NE(paused.status().message().find(dir_.path()), std::string::npos) << paused.status();
  EXPECT_EQ(jobs_->Find(id)->state(), v1::RUNNING);
  EXPECT_EQ(jobs_->Find(id)->updated_unix_ms(), before.updated_unix_ms());
  EXPECT_EQ(Stored(id), v1::RUNNING);
}

}  // namespace
}  // namespace evolv
