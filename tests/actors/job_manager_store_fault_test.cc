// The job manager on a real Store whose file system refuses writes on command (a full disk): a
// running job is paused, not failed, with the reason; reads keep working; the process survives
// RocksDB's background work; once writes work again the job resumes by itself and reaches the
// same history as an uninterrupted run of its spec and seed.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "actors/job_manager.h"
#include "actors/local_runtime.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"
#include "tests/support/write_fault_file_system.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

v1::JobSpec LongSpec() {
  testing::ToyJobOptions options;
  options.evaluations = 1500;
  options.work_ms = 1;
  return testing::ToyJob(options).spec();
}

JobManagerOptions FastOptions() {
  JobManagerOptions options;
  options.coordinator.checkpoint_every_results = 20;
  options.coordinator.checkpoint_every_seconds = 0.2;
  options.store_probe_interval = 200ms;
  return options;
}

// Waits until `done(record)` holds for job `id`; false after 60 s.
template <class Done>
bool WaitFor(JobManagerClient& client, const std::string& id, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto record = client.Get(id);
    if (record.ok() && done(*record)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// What must agree between two runs of one spec and seed (timings may differ).
std::vector<std::string> Comparable(const std::vector<v1::HistoryEntry>& history) {
  std::vector<std::string> rows;
  for (const v1::HistoryEntry& entry : history) {
    std::string row = std::to_string(entry.index()) + "|" + entry.candidate().SerializeAsString() +
                      "|" + entry.key() + "|" + std::to_string(entry.cache_hit()) + "|" +
                      std::to_string(entry.evaluation().status());
    for (double objective : entry.evaluation().objectives()) row += "|" + std::to_string(objective);
    rows.push_back(std::move(row));
  }
  return rows;
}

TEST(JobManagerStoreFaultTest, AFullDiskPausesTheJobAndItResumesToTheSameHistory) {
  testing::ToyRegistry();
  auto runtime = std::make_unique<LocalRuntime>(2, testing::ToyRegistry());

  // The reference: the same spec, uninterrupted, on a store of its own.
  TempDir reference_dir;
  std::vector<v1::HistoryEntry> reference;
  {
    auto store = Store::Open(reference_dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    auto manager = SpawnJobManager(runtime->system(), store->get(), testing::ToyRegistry(),
                                   runtime->dispatcher(), FastOptions());
    JobManagerClient client(runtime->system(), manager);
    auto job = client.Submit(LongSpec());
    ASSERT_TRUE(job.ok()) << job.status();
    ASSERT_TRUE(WaitFor(client, job->id(),
                        [](const v1::JobRecord& r) { return r.state() == v1::SUCCEEDED; }));
    reference = *(*store)->ReadHistory(job->id());
    caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
  }
  ASSERT_EQ(reference.size(), 1500u);

  TempDir dir;
  auto fs = std::make_shared<testing::WriteFaultFileSystem>();
  StoreOptions store_options;
  store_options.env = testing::WriteFaultFileSystem::NewEnv(fs);
  auto opened = Store::Open(dir.path(), store_options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Store> store = std::move(*opened);
  auto manager = SpawnJobManager(runtime->system(), store.get(), testing::ToyRegistry(),
                                 runtime->dispatcher(), FastOptions());
  JobManagerClient client(runtime->system(), manager);
  auto job = client.Submit(LongSpec());
  ASSERT_TRUE(job.ok()) << job.status();
  const std::string id = job->id();
  ASSERT_TRUE(WaitFor(client, id,
                      [](const v1::JobRecord& r) { return r.progress().evaluations() >= 100; }));

  fs->SetFailing(true);
  ASSERT_TRUE(WaitFor(client, id, [](const v1::JobRecord& r) { return r.state() != v1::RUNNING; }));
  auto paused = client.Get(id);
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->state(), v1::PAUSED) << paused->error();
  EXPECT_NE(paused->error().find("store write failed: store at " + dir.path()), std::string::npos)
      << paused->error();
  EXPECT_NE(paused->error().find("resumes when the store accepts writes"), std::string::npos)
      << paused->error();

  // For 10 s of the fault (RocksDB's background work included): the job stays paused, reads
  // work, submits and ResumeJob answer the store's error, nothing is written, nothing aborts.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_EQ(client.Get(id)->state(), v1::PAUSED);
    auto listed = client.List();
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_EQ(listed->size(), 1u);
    EXPECT_EQ(store->GetJob(id)->state(), v1::RUNNING);  // its last checkpoint
    auto history = store->ReadHistory(id);
    ASSERT_TRUE(history.ok()) << history.status();
    EXPECT_GE(history->size(), 100u);
    EXPECT_LT(history->size(), 1500u);
    std::this_thread::sleep_for(500ms);
  }
  v1::JobSpec other = LongSpec();
  other.set_seed(2);
  auto refused = client.Submit(other);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status()) || absl::IsUnavailable(refused.status()))
      << refused.status();
  EXPECT_NE(refused.status().message().find("store at " + dir.path()), std::string::npos)
      << refused.status();
  auto not_yet = client.Resume(id);
  EXPECT_FALSE(not_yet.ok());
  EXPECT_NE(not_yet.status().message().find("paused until the store accepts writes"),
            std::string::npos)
      << not_yet.status();
  EXPECT_EQ(client.List()->size(), 1u);
  EXPECT_EQ(store->ListJobs()->size(), 1u);
  EXPECT_GT(fs->refused_writes(), 0u);

  fs->SetFailing(false);
  ASSERT_TRUE(WaitFor(client, id, [](const v1::JobRecord& r) {
    return r.state() == v1::SUCCEEDED || r.state() == v1::FAILED_STATE;
  }));
  auto finished = client.Get(id);
  EXPECT_EQ(finished->state(), v1::SUCCEEDED) << finished->error();
  EXPECT_EQ(finished->error(), "");
  EXPECT_EQ(store->GetJob(id)->state(), v1::SUCCEEDED);
  auto history = store->ReadHistory(id);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(Comparable(*history), Comparable(reference));

  caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
  runtime.reset();
}

}  // namespace
}  // namespace evolv
