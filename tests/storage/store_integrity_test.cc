// Store integrity on real files (docs/adr/0019-store-integrity.md): a store whose write-ahead log
// is damaged in the middle is refused with a message naming the damage and the way out, and
// opened by StoreOptions::repair up to the damage; a torn last record is dropped silently;
// kill -9 mid-write loses no acknowledged write; VerifyStore names damaged SST files and rows.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/store.h"
#include "storage/store_verify.h"

namespace evolv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kJobs = 200;

std::string JobId(int i) { return absl::StrCat("job-", 1000 + i); }

v1::JobRecord Job(int i) {
  v1::JobRecord job;
  job.set_id(JobId(i));
  job.set_state(v1::SUCCEEDED);
  job.set_created_unix_ms(i);
  job.mutable_spec()->set_name(std::string(100, 'a' + i % 26));
  return job;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Overwrites 16 bytes of `path` at `fraction` of its length.
void Scribble(const fs::path& path, double fraction) {
  const auto size = fs::file_size(path);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(static_cast<double>(size) * fraction));
  const std::string junk(16, '\x5a');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  ASSERT_TRUE(f.good()) << path;
}

// The files of `dir` whose names end in `extension`, in name order.
std::vector<fs::path> FilesEndingIn(const std::string& dir, const std::string& extension) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == extension) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class StoreIntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "evolv_integrity_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = (fs::path(root_) / "store").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  // kJobs jobs, one Commit each, left in the write-ahead log only (closing does not flush).
  void WriteJobsToTheLog() {
    auto store = Store::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < kJobs; ++i) ASSERT_TRUE((*store)->PutJob(Job(i)).ok());
  }

  // The ids of the store's jobs, which must be job 0, 1, ... without a gap; their count.
  int JobPrefix(Store& store) {
    auto jobs = store.ListJobs();
    EXPECT_TRUE(jobs.ok()) << jobs.status();
    if (!jobs.ok()) return -1;
    for (size_t i = 0; i < jobs->size(); ++i) {
      EXPECT_EQ((*jobs)[i].id(), JobId(static_cast<int>(i)));
      EXPECT_EQ((*jobs)[i].spec().name(), Job(static_cast<int>(i)).spec().name());
    }
    return static_cast<int>(jobs->size());
  }

  std::map<std::string, std::string> Contents() {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      if (entry.is_regular_file()) files[entry.path().string()] = ReadFile(entry.path());
    }
    return files;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(StoreIntegrityTest, LogDamagedInTheMiddleIsRefusedNamingTheFileAndTheWayOut) {
  WriteJobsToTheLog();
  const std::vector<fs::path> logs = FilesEndingIn(dir_, ".log");
  ASSERT_EQ(logs.size(), 1u);
  Scribble(logs[0], 0.5);
  const auto before = Contents();

  auto store = Store::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsDataLoss(store.status())) << store.status();
  const std::string message(store.status().message());
  EXPECT_THAT(message, HasSubstr("store at " + dir_ + " is damaged: "));
  EXPECT_THAT(message, HasSubstr("Corruption"));
  EXPECT_THAT(message, HasSubstr(logs[0].filename().string() + ": dropping"));
  EXPECT_THAT(message, HasSubstr("evolv store verify --data-dir " + dir_));
  EXPECT_THAT(message, HasSubstr("evolvd --repair"));
  EXPECT_EQ(Contents(), before) << "a refused open changed the store";
}

TEST_F(StoreIntegrityTest, RepairKeepsTheJobsBeforeTheDamageAndACopyOfTheLog) {
  WriteJobsToTheLog();
  const fs::path log = FilesEndingIn(dir_, ".log").at(0);
  Scribble(log, 0.5);
  const std::string damaged = ReadFile(log);

  StoreOptions options;
  options.repair = true;
  {
    auto store = Store::Open(dir_, options);
    ASSERT_TRUE(store.ok()) << store.status();
    const int kept = JobPrefix(**store);
    EXPECT_GT(kept, kJobs / 4);
    EXPECT_LT(kept, kJobs);
    const std::vector<std::string>& report = (*store)->repair_report();
    ASSERT_FALSE(report.empty());
    EXPECT_THAT(report.front(), HasSubstr("damaged: "));
    EXPECT_THAT(report.back(), HasSubstr("up to the first damaged record"));
    bool names_copies = false;
    for (const auto& line : report) names_copies |= line.find("/repair-") != std::string::npos;
    EXPECT_TRUE(names_copies) << ::testing::PrintToString(report);
  }
  // The damaged log, byte for byte, in dir/repair-<time>/.
  std::vector<fs::path> copies;
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (entry.path().parent_path().filename().string().rfind("repair-", 0) == 0) {
      copies.push_back(entry.path());
    }
  }
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].filename(), log.filename());
  EXPECT_EQ(ReadFile(copies[0]), damaged);

  // Repaired for good: a plain open takes it, with the same jobs, and the store verifies clean.
  auto store = Store::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->repair_report().empty());
  EXPECT_GT(JobPrefix(**store), kJobs / 4);
  auto verified = VerifyStore(dir_);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->clean()) << ::testing::PrintToString(verified->damage);
}

TEST_F(StoreIntegrityTest, RepairOfAnIntactStoreChangesNothing) {
  WriteJobsToTheLog();
  StoreOptions options;
  options.repair = true;
  auto store = Store::Open(dir_, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->repair_report().empty());
  EXPECT_EQ(JobPrefix(**store), kJobs);
}

TEST_F(StoreIntegrityTest, TornLastRecordIsDroppedAndEveryCompleteOneKept) {
  WriteJobsToTheLog();
  const fs::path log = FilesEndingIn(dir_, ".log").at(0);
  fs::resize_file(log, fs::file_size(log) - 7);  // a crash in the middle of the last append
  auto store = Store::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(JobPrefix(**store), kJobs - 1);
}

TEST_F(StoreIntegrityTest, KillDashNineMidWritesLosesNoAcknowledgedCommit) {
  int acks[2];
  ASSERT_EQ(pipe(acks), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(acks[0]);
    auto store = Store::Open(dir_);
    if (!store.ok()) _exit(1);
    for (int i = 0;; ++i) {  // writes until killed
      if (!(*store)->PutJob(Job(i)).ok()) _exit(2);
      if (write(acks[1], &i, sizeof(i)) != sizeof(i)) _exit(3);
    }
  }
  close(acks[1]);
  int acknowledged = -1;
  for (int i = 0; acknowledged < 3000 && read(acks[0], &i, sizeof(i)) == sizeof(i);) {
    acknowledged = i;
  }
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  for (int i = 0; read(acks[0], &i, sizeof(i)) == sizeof(i);) acknowledged = i;
  close(acks[0]);
  ASSERT_GE(acknowledged, 3000);

  auto store = Store::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_GE(JobPrefix(**store), acknowledged + 1);
}

// A store whose first log file was closed (and synced, hence tracked in the MANIFEST) while it
// still held jobs: meta is flushed, which switches logs; the jobs stay in the old one. Returns
// that old log. Plain RocksDB with log tracking on, as Store::Open runs it.
fs::path StoreWithATrackedLog(const std::string& dir, int jobs = kJobs) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.track_and_verify_wals_in_manifest = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", "meta", "jobs", "snapshots", "history", "evaluations"}) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::Open(options, dir, families, &handles, &raw).ok());
  if (raw == nullptr) return {};
  EXPECT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[1], "schema_version", "2").ok());
  for (int i = 0; i < jobs; ++i) {
    EXPECT_TRUE(
        raw->Put(rocksdb::WriteOptions(), handles[2], JobId(i), Job(i).SerializeAsString()).ok());
  }
  EXPECT_TRUE(raw->Flush(rocksdb::FlushOptions(), handles[1]).ok());
  EXPECT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[1], "later", "x").ok());
  for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
  delete raw;
  const std::vector<fs::path> logs = FilesEndingIn(dir, ".log");
  EXPECT_EQ(logs.size(), 2u);
  return logs.empty() ? fs::path() : logs.front();
}

TEST_F(StoreIntegrityTest, MissingTrackedLogIsRefusedFoundByVerifyAndRepaired) {
  const fs::path old_log = StoreWithATrackedLog(dir_);
  ASSERT_FALSE(old_log.empty());
  fs::remove(old_log);

  auto store = Store::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsDataLoss(store.status())) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("Missing WAL"));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("evolvd --repair"));

  auto report = VerifyStore(dir_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_FALSE(report->clean());
  EXPECT_THAT(report->damage.front(), HasSubstr("Missing WAL"));

  StoreOptions options;
  options.repair = true;
  store = Store::Open(dir_, options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(JobPrefix(**store), 0);  // the jobs were only in the missing log
  store->reset();
  EXPECT_TRUE(Store::Open(dir_).ok());
}

TEST_F(StoreIntegrityTest, RepairSkipsOnlyTheDamagedRecordsWhenAFlushWentPastTheDamage) {
  // meta's SST holds rows written after the damage: replaying up to the damage would contradict
  // it ("SST file is ahead of WALs"), so the repair replays every intact record instead.
  // 1000 jobs span several of the log's 32 KiB blocks; RocksDB skips the rest of a damaged one.
  constexpr int kManyJobs = 1000;
  const fs::path old_log = StoreWithATrackedLog(dir_, kManyJobs);
  ASSERT_FALSE(old_log.empty());
  Scribble(old_log, 0.3);
  EXPECT_TRUE(absl::IsDataLoss(Store::Open(dir_).status()));

  StoreOptions options;
  options.repair = true;
  auto store = Store::Open(dir_, options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_FALSE((*store)->repair_report().empty());
  EXPECT_THAT((*store)->repair_report().back(), HasSubstr("replayed every intact record"));
  auto jobs = (*store)->ListJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_GT(jobs->size(), static_cast<size_t>(kManyJobs / 2));
  EXPECT_LT(jobs->size(), static_cast<size_t>(kManyJobs));
  EXPECT_EQ(jobs->back().id(), JobId(kManyJobs - 1));  // records after the damage are kept
}

TEST_F(StoreIntegrityTest, TrackedLogCutShortIsRefused) {
  const fs::path old_log = StoreWithATrackedLog(dir_);
  ASSERT_FALSE(old_log.empty());
  fs::resize_file(old_log, fs::file_size(old_log) / 2);
  auto store = Store::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("Size mismatch: WAL"));
}

TEST_F(StoreIntegrityTest, VerifyOfAnIntactStoreIsCleanAndCountsWhatItChecked) {
  {
    auto store = Store::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < kJobs; ++i) ASSERT_TRUE((*store)->PutJob(Job(i)).ok());
    ASSERT_TRUE((*store)->Flush().ok());
    ASSERT_TRUE((*store)->PutJob(Job(kJobs)).ok());  // one more, in the log only

    // While the store is open (as under a running evolvd).
    auto report = VerifyStore(dir_);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->clean()) << ::testing::PrintToString(report->damage);
    EXPECT_GE(report->sst_files, 1u);
    EXPECT_GT(report->sst_bytes, 0u);
    EXPECT_EQ(report->wal_files, 1u);
    EXPECT_EQ(report->rows, kJobs + 2u);  // the jobs and meta/schema_version
  }
  EXPECT_TRUE(absl::IsNotFound(VerifyStore(root_ + "/nothing-here").status()));
}

TEST_F(StoreIntegrityTest, VerifyNamesADamagedSstFile) {
  {
    auto store = Store::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < kJobs; ++i) ASSERT_TRUE((*store)->PutJob(Job(i)).ok());
    ASSERT_TRUE((*store)->Flush().ok());
  }
  // The largest SST holds the jobs; scribble inside its data blocks.
  std::vector<fs::path> ssts = FilesEndingIn(dir_, ".sst");
  ASSERT_FALSE(ssts.empty());
  const fs::path largest = *std::max_element(ssts.begin(), ssts.end(), [](auto& a, auto& b) {
    return fs::file_size(a) < fs::file_size(b);
  });
  Scribble(largest, 0.3);

  auto report = VerifyStore(dir_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_FALSE(report->clean());
  EXPECT_THAT(report->damage.front(),
              HasSubstr(largest.filename().string() + " (column family \"jobs\", level "));
  EXPECT_THAT(report->damage.front(), HasSubstr("checksum mismatch"));
}

TEST_F(StoreIntegrityTest, VerifyNamesADamagedLogAndStillChecksTheRest) {
  WriteJobsToTheLog();
  const fs::path log = FilesEndingIn(dir_, ".log").at(0);
  Scribble(log, 0.5);
  auto report = VerifyStore(dir_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->damage.size(), 1u) << ::testing::PrintToString(report->damage);
  EXPECT_THAT(report->damage[0], HasSubstr("write-ahead log: Corruption"));
  EXPECT_THAT(report->damage[0], HasSubstr(log.filename().string() + ": dropping"));
  EXPECT_GT(report->rows, 1u);  // the jobs before the damage were read
}

TEST_F(StoreIntegrityTest, VerifyNamesARowThatDoesNotParse) {
  WriteJobsToTheLog();
  {
    // A row evolv did not write, put by plain RocksDB.
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_, families, &handles, &raw).ok());
    const size_t jobs = std::find(names.begin(), names.end(), "jobs") - names.begin();
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[jobs], "job-x", "\xff\xff\xff").ok());
    for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
    delete raw;
  }
  auto report = VerifyStore(dir_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->damage.size(), 1u) << ::testing::PrintToString(report->damage);
  EXPECT_EQ(report->damage[0], "jobs/\"job-x\" (3 bytes) does not parse as evolv.v1.JobRecord");
}

}  // namespace
}  // namespace evolv
