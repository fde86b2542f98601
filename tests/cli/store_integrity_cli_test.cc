// Store integrity with real processes (docs/adr/0019-store-integrity.md): evolvd refuses a store
// whose write-ahead log is damaged in the middle (exit 1, the message naming the damage,
// `evolv store verify` and --repair), `evolvd --repair` starts on it keeping the rows before the
// damage, and `evolv store verify` names a damaged log or SST file (exit 1), passes an intact
// store (exit 0) and refuses a directory without a store (exit 2).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "storage/store.h"
#include "tests/support/port_file.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kRows = 200;

std::string CacheKey(int i) {
  std::string key(16, 'k');
  key[14] = static_cast<char>(i / 256);
  key[15] = static_cast<char>(i % 256);
  return key;
}

// kRows cache rows, one Commit each; flushed into SST files when `flush`, else in the log only.
void WriteRows(const std::string& dir, bool flush) {
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < kRows; ++i) {
    CheckpointBatch batch;
    v1::CachedEvaluation row;
    row.set_job_id("job-1");
    row.set_domain(std::string(100, 'd'));
    row.mutable_evaluation()->add_objectives(i);
    batch.cache.push_back({CacheKey(i), row});
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  if (flush) {
    ASSERT_TRUE((*store)->Flush().ok());
  }
}

// Overwrites 16 bytes in the middle of the largest file of `dir` ending in `extension`; its name.
std::string ScribbleOnLargest(const std::string& dir, const std::string& extension,
                              double fraction) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == extension) files.push_back(entry.path());
  }
  EXPECT_FALSE(files.empty());
  if (files.empty()) return "";
  const fs::path file = *std::max_element(files.begin(), files.end(), [](auto& a, auto& b) {
    return fs::file_size(a) < fs::file_size(b);
  });
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(static_cast<double>(fs::file_size(file)) * fraction));
  f.write("ZZZZZZZZZZZZZZZZ", 16);
  return file.filename().string();
}

class StoreIntegrityCliTest : public ::testing::Test {
 protected:
  struct Outcome {
    int code;
    std::string out;
    std::string err;
  };
  Outcome Verify(const std::string& data_dir) {
    const std::string name = "verify" + std::to_string(++runs_);
    Subprocess verify({EVOLV_BINARY, "store", "verify", "--data-dir", data_dir},
                      dir_.Sub(name + ".out"), dir_.Sub(name + ".err"));
    const auto code = verify.Wait(60s);
    EXPECT_TRUE(code.has_value()) << "evolv store verify did not finish";
    return {code.value_or(-1), verify.Stdout(), verify.Stderr()};
  }
  std::unique_ptr<Subprocess> StartEvolvd(const std::string& data_dir, bool repair) {
    const std::string name = "evolvd" + std::to_string(++runs_);
    std::vector<std::string> argv = {EVOLVD_BINARY,
                                     "--data-dir",
                                     data_dir,
                                     "--grpc-port",
                                     "0",
                                     "--http-port",
                                     "0",
                                     "--workers",
                                     "1",
                                     "--port-file",
                                     dir_.Sub(name + ".ports")};
    if (repair) argv.push_back("--repair");
    port_file_ = dir_.Sub(name + ".ports");
    return std::make_unique<Subprocess>(argv, dir_.Sub(name + ".out"), dir_.Sub(name + ".err"));
  }

  TempDir dir_;
  std::string port_file_;
  int runs_ = 0;
};

TEST_F(StoreIntegrityCliTest, DamagedLogStopsEvolvdUntilRepairWhichKeepsTheRowsBeforeIt) {
  const std::string data = dir_.Sub("data");
  WriteRows(data, /*flush=*/false);
  const std::string log = ScribbleOnLargest(data, ".log", 0.5);

  const Outcome verify = Verify(data);
  EXPECT_EQ(verify.code, 1) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("DAMAGED"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("write-ahead log: Corruption"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find(log + ": dropping"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("evolvd --repair --data-dir " + data), std::string::npos) << verify.out;

  auto refused = StartEvolvd(data, /*repair=*/false);
  EXPECT_EQ(refused->Wait(60s), std::optional<int>(1)) << refused->Stderr();
  const std::string err = refused->Stderr();
  EXPECT_NE(err.find("store at " + data + " is damaged: "), std::string::npos) << err;
  EXPECT_NE(err.find(log + ": dropping"), std::string::npos) << err;
  EXPECT_NE(err.find("evolv store verify --data-dir " + data), std::string::npos) << err;
  EXPECT_NE(err.find("evolvd --repair"), std::string::npos) << err;

  auto repaired = StartEvolvd(data, /*repair=*/true);
  const auto ports = testing::WaitForPortFile(port_file_, "grpc", 60s);
  ASSERT_FALSE(ports.empty()) << repaired->Stderr();
  EXPECT_NE(repaired->Stderr().find("--repair: damaged: "), std::string::npos)
      << repaired->Stderr();
  EXPECT_NE(repaired->Stderr().find("--repair: copies of the write-ahead log files: " + data +
                                    "/repair-"),
            std::string::npos)
      << repaired->Stderr();
  repaired->Signal(SIGTERM);
  ASSERT_EQ(repaired->Wait(60s), std::optional<int>(0)) << repaired->Stderr();

  {
    auto store = Store::Open(data);
    ASSERT_TRUE(store.ok()) << store.status();
    const auto rows = (*store)->CountEvaluations();
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_GT(*rows, static_cast<uint64_t>(kRows / 4));
    EXPECT_LT(*rows, static_cast<uint64_t>(kRows));
    for (uint64_t i = 0; i < *rows; ++i) {
      EXPECT_TRUE((*store)->GetEvaluation(CacheKey(static_cast<int>(i))).ok()) << "row " << i;
    }
  }
  const Outcome after = Verify(data);
  EXPECT_EQ(after.code, 0) << after.out << after.err;
  EXPECT_NE(after.out.find("ok: nothing is damaged"), std::string::npos) << after.out;
}

TEST_F(StoreIntegrityCliTest, StoreVerifyNamesADamagedSstFile) {
  const std::string data = dir_.Sub("data");
  WriteRows(data, /*flush=*/true);
  const Outcome intact = Verify(data);
  EXPECT_EQ(intact.code, 0) << intact.out << intact.err;
  EXPECT_NE(intact.out.find(std::to_string(kRows + 1) + " rows parsed"), std::string::npos)
      << intact.out;

  const std::string sst = ScribbleOnLargest(data, ".sst", 0.3);
  const Outcome damaged = Verify(data);
  EXPECT_EQ(damaged.code, 1) << damaged.out << damaged.err;
  EXPECT_NE(damaged.out.find("  " + sst + " (column family \"evaluations\", level "),
            std::string::npos)
      << damaged.out;
  EXPECT_NE(damaged.out.find("checksum mismatch"), std::string::npos) << damaged.out;
}

TEST_F(StoreIntegrityCliTest, StoreVerifyWithoutAStoreExitsTwo) {
  const Outcome none = Verify(dir_.Sub("nothing-here"));
  EXPECT_EQ(none.code, 2) << none.out << none.err;
  EXPECT_NE(none.err.find("no store here"), std::string::npos) << none.err;
  EXPECT_EQ(none.out, "");
}

}  // namespace
}  // namespace evolv
