// The real Store over a file system that fails writes on command (a full disk): writes answer
// ResourceExhausted naming the store, reads keep working, the process survives RocksDB's
// background work, and RecoverWrites brings writes back once the disk takes them.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "storage/store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/write_fault_file_system.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

v1::JobRecord Job(const std::string& id) {
  v1::JobRecord job;
  job.set_id(id);
  job.set_state(v1::RUNNING);
  return job;
}

CheckpointBatch Checkpoint(const std::string& id, uint64_t from, uint64_t rows) {
  CheckpointBatch batch;
  batch.job = Job(id);
  for (uint64_t i = from; i < from + rows; ++i) {
    CheckpointBatch::HistoryRow row;
    row.job_id = id;
    row.entry.set_index(i);
    row.entry.mutable_evaluation()->add_objectives(static_cast<double>(i));
    batch.history.push_back(std::move(row));
  }
  return batch;
}

class StoreWriteFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<testing::WriteFaultFileSystem>();
    StoreOptions options;
    options.env = testing::WriteFaultFileSystem::NewEnv(fs_);
    auto store = Store::Open(dir_.path(), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  TempDir dir_;
  std::shared_ptr<testing::WriteFaultFileSystem> fs_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreWriteFaultTest, WritesFailNamingTheStoreReadsWorkAndRecoverWritesBringsThemBack) {
  ASSERT_TRUE(store_->Commit(Checkpoint("a", 0, 10)).ok());
  ASSERT_TRUE(store_->RecoverWrites().ok());

  fs_->SetFailing(true);
  const absl::Status failed = store_->Commit(Checkpoint("a", 10, 10));
  EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted) << failed;
  EXPECT_NE(failed.message().find("store at " + dir_.path()), std::string::npos) << failed;
  // Every write keeps failing, with the disk's reason, and none of them aborts the process;
  // RocksDB's background threads get time to act on the error meanwhile.
  const auto until = std::chrono::steady_clock::now() + 12s;
  while (std::chrono::steady_clock::now() < until) {
    const absl::Status again = store_->PutJob(Job("b"));
    EXPECT_FALSE(again.ok());
    EXPECT_TRUE(absl::IsResourceExhausted(again) || absl::IsUnavailable(again)) << again;
    const absl::Status recover = store_->RecoverWrites();
    EXPECT_TRUE(absl::IsResourceExhausted(recover)) << recover;
    EXPECT_NE(recover.message().find("store at " + dir_.path()), std::string::npos) << recover;
    // Reads see what was committed before the fault, and nothing of the failed writes.
    auto history = store_->ReadHistory("a");
    ASSERT_TRUE(history.ok()) << history.status();
    EXPECT_EQ(history->size(), 10u);
    EXPECT_TRUE(absl::IsNotFound(store_->GetJob("b").status()));
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_GT(fs_->refused_writes(), 0u);

  fs_->SetFailing(false);
  const absl::Status recovered = store_->RecoverWrites();
  ASSERT_TRUE(recovered.ok()) << recovered;
  ASSERT_TRUE(store_->Commit(Checkpoint("a", 10, 10)).ok());
  ASSERT_TRUE(store_->PutJob(Job("b")).ok());
  EXPECT_EQ(store_->ReadHistory("a")->size(), 20u);
  EXPECT_TRUE(store_->GetJob("b").ok());
  ASSERT_TRUE(store_->Flush().ok());
}

// A store that was refused writes and recovered reopens with everything acknowledged.
TEST_F(StoreWriteFaultTest, AfterRecoveryTheStoreReopensWithEveryAcknowledgedWrite) {
  ASSERT_TRUE(store_->Commit(Checkpoint("a", 0, 10)).ok());
  fs_->SetFailing(true);
  EXPECT_FALSE(store_->Commit(Checkpoint("a", 10, 10)).ok());
  EXPECT_FALSE(store_->RecoverWrites().ok());
  fs_->SetFailing(false);
  ASSERT_TRUE(store_->RecoverWrites().ok());
  ASSERT_TRUE(store_->Commit(Checkpoint("a", 10, 5)).ok());
  store_.reset();
  StoreOptions options;
  options.env = testing::WriteFaultFileSystem::NewEnv(fs_);
  auto reopened = Store::Open(dir_.path(), options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->ReadHistory("a")->size(), 15u);
}

}  // namespace
}  // namespace evolv
