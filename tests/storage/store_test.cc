#include "storage/store.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "evolv/test/toy.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace evolv {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A fresh directory per test, removed afterwards.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "evolv_store_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = (fs::path(root_) / "store").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<Store> OpenOrDie(const StoreOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Writes `value` under `key` of column family `cf`, bypassing Store (the store must be closed).
  void RawPut(const std::string& cf, const std::string& key, const std::string& value) {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    const size_t i = std::find(names.begin(), names.end(), cf) - names.begin();
    ASSERT_LT(i, names.size()) << "no column family " << cf;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], key, value).ok());
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  }

  // Every file under the store directory: its size and a hash of its contents.
  std::map<std::string, std::pair<size_t, size_t>> DirectoryContents() {
    std::map<std::string, std::pair<size_t, size_t>> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream contents;
      contents << in.rdbuf();
      const std::string bytes = contents.str();
      files[entry.path().filename().string()] = {bytes.size(), std::hash<std::string>()(bytes)};
    }
    return files;
  }

  std::string root_;
  std::string dir_;
};

std::string CacheKey(uint64_t n) {
  std::string key(16, '\0');
  for (int i = 0; i < 8; ++i) key[15 - i] = static_cast<char>((n >> (8 * i)) & 0xff);
  key[0] = 'k';
  return key;
}

v1::JobRecord Job(const std::string& id, int64_t created = 0) {
  v1::JobRecord job;
  job.set_id(id);
  job.set_state(v1::RUNNING);
  job.set_created_unix_ms(created);
  job.mutable_spec()->set_name("spec of " + id);
  job.mutable_spec()->set_seed(42);
  return job;
}

v1::HistoryEntry Row(uint64_t index, std::vector<double> objectives,
                     v1::EvaluationStatus status = v1::OK) {
  v1::HistoryEntry entry;
  entry.set_index(index);
  entry.set_key(CacheKey(index));
  for (double x : objectives) entry.mutable_evaluation()->add_objectives(x);
  entry.mutable_evaluation()->set_status(status);
  return entry;
}

v1::CachedEvaluation CachedRow(const std::string& job_id, double objective) {
  v1::CachedEvaluation row;
  row.set_job_id(job_id);
  row.set_domain("numerics");
  row.set_repeats(1);
  row.mutable_evaluation()->add_objectives(objective);
  row.mutable_evaluation()->set_status(v1::OK);
  return row;
}

std::vector<uint64_t> Indices(const std::vector<v1::HistoryEntry>& rows) {
  std::vector<uint64_t> indices;
  for (const auto& row : rows) indices.push_back(row.index());
  return indices;
}

CheckpointBatch FullBatch(const std::string& job_id) {
  CheckpointBatch batch;
  batch.job = Job(job_id, 100);
  v1::CoordinatorCheckpoint checkpoint;
  checkpoint.set_told(3);
  checkpoint.mutable_cache()->set_hits(2);
  checkpoint.mutable_strategy()->mutable_rng()->add_s(0xdeadbeef);
  batch.snapshot = CheckpointBatch::Snapshot{job_id, checkpoint};
  for (uint64_t i = 0; i < 3; ++i) {
    batch.history.push_back({job_id, Row(i, {1.0 + static_cast<double>(i)})});
    batch.cache.push_back({CacheKey(i), CachedRow(job_id, 1.0 + static_cast<double>(i))});
  }
  return batch;
}

TEST_F(StoreTest, OpenCreatesMissingDirectoryWithEmptyStore) {
  ASSERT_FALSE(fs::exists(dir_));
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(fs::is_directory(dir_));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "CURRENT"));
  EXPECT_THAT(*store->ListJobs(), ::testing::IsEmpty());
  EXPECT_EQ(*store->CountEvaluations(), 0u);
}

TEST_F(StoreTest, ReopenPersistsJobsCheckpointAndHistory) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Commit(FullBatch("job-1")).ok());
  }
  auto store = OpenOrDie();
  absl::StatusOr<v1::JobRecord> job = store->GetJob("job-1");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->spec().name(), "spec of job-1");
  EXPECT_EQ(job->state(), v1::RUNNING);
  absl::StatusOr<v1::CoordinatorCheckpoint> checkpoint = store->GetCheckpoint("job-1");
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->told(), 3u);
  EXPECT_EQ(checkpoint->cache().hits(), 2u);
  EXPECT_EQ(checkpoint->strategy().rng().s(0), 0xdeadbeefu);
  EXPECT_THAT(Indices(*store->ReadHistory("job-1")), ElementsAre(0, 1, 2));
  EXPECT_EQ(*store->CountHistory("job-1"), 3u);
  EXPECT_EQ(*store->CountEvaluations(), 3u);
  EXPECT_EQ(store->GetEvaluation(CacheKey(2))->evaluation().objectives(0), 3.0);
}

TEST_F(StoreTest, CommitSurvivesKillDashNine) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir_);
    if (!store.ok() || !(*store)->Commit(FullBatch("job-1")).ok()) _exit(1);
    raise(SIGKILL);  // no destructor, no flush: only the (unsynced) WAL has the rows
    _exit(2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;

  auto store = OpenOrDie();
  EXPECT_TRUE(store->GetJob("job-1").ok());
  EXPECT_EQ(store->GetCheckpoint("job-1")->told(), 3u);
  EXPECT_EQ(*store->CountHistory("job-1"), 3u);
  EXPECT_EQ(*store->CountEvaluations(), 3u);
}

TEST_F(StoreTest, CommitWithOneInvalidRowWritesNothing) {
  auto store = OpenOrDie();
  CheckpointBatch batch = FullBatch("job-1");
  batch.cache.push_back({"short", CachedRow("job-1", 9.0)});
  absl::Status status = store->Commit(batch);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("16 bytes"));
  store.reset();

  store = OpenOrDie();
  EXPECT_TRUE(absl::IsNotFound(store->GetJob("job-1").status()));
  EXPECT_TRUE(absl::IsNotFound(store->GetCheckpoint("job-1").status()));
  EXPECT_EQ(*store->CountHistory("job-1"), 0u);
  EXPECT_EQ(*store->CountEvaluations(), 0u);
}

TEST_F(StoreTest, SyncDurabilityCommitsAreReadable) {
  StoreOptions options;
  options.durability = Durability::kWalSync;
  {
    auto store = OpenOrDie(options);
    ASSERT_TRUE(store->Commit(FullBatch("job-1")).ok());
  }
  EXPECT_EQ(*OpenOrDie()->CountHistory("job-1"), 3u);
}

TEST_F(StoreTest, UnknownSchemaVersionIsRefusedAndStoreLeftUntouched) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->PutJob(Job("job-1")).ok());
  }
  RawPut("meta", "schema_version", "7");
  const auto before = DirectoryContents();

  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_EQ(store.status().message(),
            absl::StrCat("store at ", dir_, " has schema version 7; this evolv reads version ",
                         Store::kSchemaVersion));
  EXPECT_EQ(DirectoryContents(), before);
}

TEST_F(StoreTest, SecondOpenInThisProcessFailsClearly) {
  auto first = OpenOrDie();
  absl::StatusOr<std::unique_ptr<Store>> second = Store::Open(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("store at " + dir_ + " is in use"));
  EXPECT_TRUE(first->PutJob(Job("still-works")).ok());
}

TEST_F(StoreTest, OpenWhileAnotherProcessHoldsTheStoreFailsClearly) {
  OpenOrDie().reset();  // create it
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir_);
    char c = store.ok() ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    if (read(release[0], &c, 1) != 1) _exit(1);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir_);
  EXPECT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("store at " + dir_ + " is in use"));
  ASSERT_EQ(write(release[1], "x", 1), 1);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(Store::Open(dir_).ok()) << "opens once the other process exits";
}

TEST_F(StoreTest, DirectoryWithOtherFilesIsNotAnEvolvStore) {
  fs::create_directories(dir_);
  std::ofstream(fs::path(dir_) / "notes.txt") << "hello";
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(dir_));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("not an evolv store"));
  EXPECT_EQ(DirectoryContents().size(), 1u);
}

TEST_F(StoreTest, PlainRocksDbIsNotAnEvolvStore) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir_, &raw).ok());
  delete raw;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_THAT(store.status().message(),
              HasSubstr("store at " + dir_ + " is a RocksDB database but not an evolv store"));
}

TEST_F(StoreTest, HistoryReadsInIndexOrderAcrossByteBoundaries) {
  auto store = OpenOrDie();
  std::vector<uint64_t> indices = {0,     1,     254,   255,        256,       257,
                                   65535, 65536, 65537, 1ull << 32, 1ull << 40};
  std::vector<uint64_t> shuffled = indices;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  for (uint64_t i : shuffled) {
    CheckpointBatch batch;
    batch.history.push_back({"job", Row(i, {static_cast<double>(i)})});
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  EXPECT_EQ(Indices(*store->ReadHistory("job")), indices);
  EXPECT_THAT(Indices(*store->ReadHistory("job", 256, 3)), ElementsAre(256, 257, 65535));
  EXPECT_THAT(Indices(*store->ReadHistory("job", 65538)), ElementsAre(1ull << 32, 1ull << 40));
  EXPECT_THAT(*store->ReadHistory("job", 0, 0), ::testing::IsEmpty());
  EXPECT_EQ(*store->CountHistory("job"), indices.size());
}

TEST_F(StoreTest, HistoriesOfJobsWithSharedPrefixStayApart) {
  auto store = OpenOrDie();
  const std::string nul_job("a\0b", 3);
  CheckpointBatch batch;
  batch.history.push_back({"a", Row(5, {1})});
  batch.history.push_back({"ab", Row(1, {1})});
  batch.history.push_back({"ab", Row(2, {1})});
  batch.history.push_back({nul_job, Row(3, {1})});
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_THAT(Indices(*store->ReadHistory("a")), ElementsAre(5));
  EXPECT_THAT(Indices(*store->ReadHistory("ab")), ElementsAre(1, 2));
  EXPECT_THAT(Indices(*store->ReadHistory(nul_job)), ElementsAre(3));
  EXPECT_EQ(*store->CountHistory("b"), 0u);
}

TEST_F(StoreTest, MissingRowsAreNotFound) {
  auto store = OpenOrDie();
  EXPECT_TRUE(absl::IsNotFound(store->GetJob("nope").status()));
  EXPECT_TRUE(absl::IsNotFound(store->GetCheckpoint("nope").status()));
  EXPECT_TRUE(absl::IsNotFound(store->GetEvaluation(CacheKey(1)).status()));
  EXPECT_THAT(*store->ReadHistory("nope"), ::testing::IsEmpty());
  EXPECT_EQ(*store->CountHistory("nope"), 0u);
  EXPECT_THAT(*store->QueryTopByJob("nope", 0, 5), ::testing::IsEmpty());
}

TEST_F(StoreTest, PutJobReplacesAndListJobsOrdersByCreationTime) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->PutJob(Job("c", 10)).ok());
  ASSERT_TRUE(store->PutJob(Job("a", 30)).ok());
  ASSERT_TRUE(store->PutJob(Job("b", 10)).ok());
  v1::JobRecord done = Job("a", 30);
  done.set_state(v1::SUCCEEDED);
  ASSERT_TRUE(store->PutJob(done).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(store->PutJob(Job("")))) << "empty id";

  absl::StatusOr<std::vector<v1::JobRecord>> jobs = store->ListJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  std::vector<std::string> ids;
  for (const auto& job : *jobs) ids.push_back(job.id());
  EXPECT_THAT(ids, ElementsAre("b", "c", "a"));
  EXPECT_EQ(store->GetJob("a")->state(), v1::SUCCEEDED);
}

TEST_F(StoreTest, CacheRoundTripAndBatchedLookup) {
  auto store = OpenOrDie();
  CheckpointBatch batch;
  v1::CachedEvaluation row = CachedRow("job-1", 0.25);
  row.mutable_candidate()->mutable_value()->PackFrom(test::ToyVector());
  (*row.mutable_evaluation()->mutable_metrics())["mse"] = 0.5;
  batch.cache.push_back({CacheKey(1), row});
  batch.cache.push_back({CacheKey(3), CachedRow("job-2", 0.75)});
  ASSERT_TRUE(store->Commit(batch).ok());

  absl::StatusOr<v1::CachedEvaluation> got = store->GetEvaluation(CacheKey(1));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), row.SerializeAsString());

  auto rows = store->GetEvaluations({CacheKey(1), CacheKey(2), CacheKey(3)});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0]->job_id(), "job-1");
  EXPECT_FALSE((*rows)[1].has_value());
  EXPECT_EQ((*rows)[2]->job_id(), "job-2");
  EXPECT_EQ(*store->CountEvaluations(), 2u);

  EXPECT_TRUE(absl::IsInvalidArgument(store->GetEvaluation("too short").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store->GetEvaluations({CacheKey(1), "x"}).status()));
}

TEST_F(StoreTest, QueryTopByJobReturnsBestOkRowsBestFirst) {
  auto store = OpenOrDie();
  CheckpointBatch batch;
  batch.history.push_back({"job", Row(0, {5.0, 1.0})});
  batch.history.push_back({"job", Row(1, {0.5, 9.0}, v1::FAILED)});  // not OK: ignored
  batch.history.push_back({"job", Row(2, {3.0, 2.0})});
  batch.history.push_back({"job", Row(3, {std::nan(""), 0.0})});  // NaN: ignored for objective 0
  batch.history.push_back({"job", Row(4, {3.0, 3.0})});           // ties row 2; later index
  batch.history.push_back({"job", Row(5, {-1.0})});               // no objective 1
  batch.history.push_back({"job", Row(6, {4.0, 0.5})});
  batch.history.push_back({"other", Row(7, {-100.0, -100.0})});  // another job
  ASSERT_TRUE(store->Commit(batch).ok());

  EXPECT_THAT(Indices(*store->QueryTopByJob("job", 0, 3)), ElementsAre(5, 2, 4));
  EXPECT_THAT(Indices(*store->QueryTopByJob("job", 0, 100)), ElementsAre(5, 2, 4, 6, 0));
  EXPECT_THAT(Indices(*store->QueryTopByJob("job", 1, 2)), ElementsAre(3, 6));
  EXPECT_THAT(*store->QueryTopByJob("job", 0, 0), ::testing::IsEmpty());
  EXPECT_TRUE(absl::IsInvalidArgument(store->QueryTopByJob("job", -1, 3).status()));
}

// Row(index, objectives) under functional key `key`.
v1::HistoryEntry KeyedRow(uint64_t index, double objective, const std::string& key) {
  v1::HistoryEntry entry = Row(index, {objective});
  entry.set_key(key);
  return entry;
}

TEST_F(StoreTest, QueryTopKeysByJobCountsEachKeyOnceByItsBestRow) {
  auto store = OpenOrDie();
  CheckpointBatch batch;
  batch.history.push_back({"job", KeyedRow(0, 4.0, CacheKey(1))});
  batch.history.push_back({"job", KeyedRow(1, 1.0, CacheKey(1))});  // key 1's best
  batch.history.push_back({"job", KeyedRow(2, 1.0, CacheKey(1))});  // ties it, later: not shown
  batch.history.push_back({"job", KeyedRow(3, 3.0, CacheKey(2))});
  batch.history.push_back({"job", KeyedRow(4, 2.0, CacheKey(3))});
  batch.history.push_back({"job", KeyedRow(5, 2.5, CacheKey(4))});
  batch.history.push_back({"job", KeyedRow(6, 0.5, CacheKey(2))});  // key 2 improves late
  batch.history.push_back({"job", KeyedRow(7, 9.0, CacheKey(3))});  // worse than key 3's best
  ASSERT_TRUE(store->Commit(batch).ok());

  EXPECT_THAT(Indices(*store->QueryTopKeysByJob("job", 0, 2)), ElementsAre(6, 1));
  EXPECT_THAT(Indices(*store->QueryTopKeysByJob("job", 0, 3)), ElementsAre(6, 1, 4));
  EXPECT_THAT(Indices(*store->QueryTopKeysByJob("job", 0, 10)), ElementsAre(6, 1, 4, 5));
  // Without distinct keys the repeats fill the page.
  EXPECT_THAT(Indices(*store->QueryTopByJob("job", 0, 3)), ElementsAre(6, 1, 2));
  EXPECT_THAT(*store->QueryTopKeysByJob("job", 0, 0), ::testing::IsEmpty());
  EXPECT_TRUE(absl::IsInvalidArgument(store->QueryTopKeysByJob("job", -1, 3).status()));
}

// A key's best row arriving after the key was pushed out of the best k by others still counts.
TEST_F(StoreTest, QueryTopKeysByJobKeepsAKeyThatReturnsWithABetterRow) {
  auto store = OpenOrDie();
  CheckpointBatch batch;
  batch.history.push_back({"job", KeyedRow(0, 5.0, CacheKey(1))});
  batch.history.push_back({"job", KeyedRow(1, 2.0, CacheKey(2))});
  batch.history.push_back({"job", KeyedRow(2, 3.0, CacheKey(3))});  // pushes key 1 out of k = 2
  batch.history.push_back({"job", KeyedRow(3, 1.0, CacheKey(1))});  // key 1 returns, best
  batch.history.push_back({"job", KeyedRow(4, 6.0, CacheKey(1))});  // and a worse row of it
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_THAT(Indices(*store->QueryTopKeysByJob("job", 0, 2)), ElementsAre(3, 1));
}

TEST_F(StoreTest, DeleteJobRemovesJobCheckpointAndHistoryButKeepsCache) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->Commit(FullBatch("job-1")).ok());
  ASSERT_TRUE(store->Commit(FullBatch("job-10")).ok());
  ASSERT_TRUE(store->DeleteJob("job-1").ok());
  store.reset();

  store = OpenOrDie();
  EXPECT_TRUE(absl::IsNotFound(store->GetJob("job-1").status()));
  EXPECT_TRUE(absl::IsNotFound(store->GetCheckpoint("job-1").status()));
  EXPECT_EQ(*store->CountHistory("job-1"), 0u);
  EXPECT_EQ(*store->CountEvaluations(), 3u);
  EXPECT_TRUE(store->GetEvaluation(CacheKey(0)).ok());
  EXPECT_TRUE(store->GetJob("job-10").ok()) << "a job whose id extends the deleted one stays";
  EXPECT_EQ(*store->CountHistory("job-10"), 3u);
  EXPECT_TRUE(store->DeleteJob("never-existed").ok());
}

TEST_F(StoreTest, ConcurrentCommitsAndReadsFromManyThreads) {
  auto store = OpenOrDie();
  constexpr int kThreads = 4;
  constexpr uint64_t kRows = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string job = "job-" + std::to_string(t);
      for (uint64_t i = 0; i < kRows; ++i) {
        CheckpointBatch batch;
        batch.history.push_back({job, Row(i, {static_cast<double>(i)})});
        batch.cache.push_back({CacheKey(t * kRows + i), CachedRow(job, 1.0)});
        if (!store->Commit(batch).ok()) ++failures;
        if (!store->GetEvaluation(CacheKey(t * kRows + i)).ok()) ++failures;
        if (store->ReadHistory(job, i, 1)->size() != 1) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store->CountEvaluations(), kThreads * kRows);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(*store->CountHistory("job-" + std::to_string(t)), kRows);
  }
}

TEST_F(StoreTest, CorruptValueIsDataLossNamingColumnFamilyAndKey) {
  OpenOrDie().reset();
  RawPut("jobs", "job-1", "\xff\xff\xff");
  RawPut("evaluations", CacheKey(1), "\xff\xff\xff");
  auto store = OpenOrDie();

  absl::Status job = store->GetJob("job-1").status();
  EXPECT_TRUE(absl::IsDataLoss(job)) << job;
  EXPECT_THAT(std::string(job.message()), HasSubstr("jobs/\"job-1\""));
  EXPECT_THAT(std::string(job.message()), HasSubstr(dir_));
  EXPECT_TRUE(absl::IsDataLoss(store->ListJobs().status()));

  absl::Status cached = store->GetEvaluation(CacheKey(1)).status();
  EXPECT_TRUE(absl::IsDataLoss(cached)) << cached;
  EXPECT_THAT(std::string(cached.message()), HasSubstr("evaluations/\"k\\x00"));
}

}  // namespace
}  // namespace evolv
