// A full disk with real processes (docs/adr/0020-store-write-errors.md): evolvd's store on a
// small tmpfs that fills up while jobs run. The jobs pause with the reason (not FAILED), evolvd
// stays up and answers (also /healthz), and once space is freed the jobs resume by themselves and
// finish. This is the path the injected faults of store_write_fault_test do not reach: RocksDB's
// own info log on the full disk, which used to abort the process. Needs permission to mount a
// tmpfs (root, or CAP_SYS_ADMIN); SKIPPED otherwise.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/port_file.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kSpec[] = R"({
  "name": "exp2, disk full test",
  "numerics": { "target": "exp2", "lower": 0, "upper": 1, "mode": "REAL", "max_ops": 8 },
  "strategy": { "nsga2": { "parents": 20, "children": 20 } },
  "budget": { "max_evaluations": 6000 },
  "seed": 3
})";

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = dir_.Sub("tmpfs");
    fs::create_directories(mount_);
    if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=24m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                   << "): needs root or CAP_SYS_ADMIN";
    }
    mounted_ = true;
  }
  void TearDown() override {
    evolvd_.reset();
    if (mounted_) ::umount2(mount_.c_str(), MNT_DETACH);
  }

  // Runs `evolv ARGS...` against the server; its stdout, or "" (and a failure) on a non-zero exit.
  std::string Evolv(std::vector<std::string> args) {
    std::vector<std::string> argv = {EVOLV_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back("127.0.0.1:" + std::to_string(grpc_port_));
    const std::string name = "evolv" + std::to_string(++runs_);
    Subprocess cli(argv, dir_.Sub(name + ".out"), dir_.Sub(name + ".err"));
    const auto code = cli.Wait(60s);
    EXPECT_EQ(code, std::optional<int>(0)) << cli.Stderr();
    return code == std::optional<int>(0) ? cli.Stdout() : "";
  }

  // The job's state as `evolv status --json` prints it ("RUNNING", "PAUSED", ...).
  std::string State(const std::string& id) {
    const std::string json = Evolv({"status", id, "--json"});
    const size_t at = json.find("\"state\": \"");
    if (at == std::string::npos) return "";
    const size_t start = at + 10;
    return json.substr(start, json.find('"', start) - start);
  }

  bool WaitForState(const std::vector<std::string>& ids, const std::string& state,
                    std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (const auto& id : ids) all = all && State(id) == state;
      if (all) return true;
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }

  uint64_t FreeBytes() {
    struct statvfs s {};
    if (statvfs(mount_.c_str(), &s) != 0) return 0;
    return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
  }

  TempDir dir_;
  std::string mount_;
  bool mounted_ = false;
  std::unique_ptr<Subprocess> evolvd_;
  int grpc_port_ = 0;
  int runs_ = 0;
};

TEST_F(DiskFullTest, JobsPauseOnAFullDiskAndResumeByThemselvesOnceSpaceIsBack) {
  const std::string ports = dir_.Sub("ports");
  evolvd_ = std::make_unique<Subprocess>(
      std::vector<std::string>{EVOLVD_BINARY, "--data-dir", mount_ + "/data", "--grpc-port", "0",
                               "--http-port", "0", "--workers", "2", "--port-file", ports,
                               "--checkpoint-results", "50"},
      dir_.Sub("evolvd.out"), dir_.Sub("evolvd.err"));
  const auto listening = testing::WaitForPortFile(ports, "grpc", 60s);
  ASSERT_FALSE(listening.empty()) << evolvd_->Stderr();
  grpc_port_ = listening.at("grpc");

  // Leave about 2 MB: the jobs' checkpoints fill it within seconds.
  const std::string filler = mount_ + "/filler";
  {
    const uint64_t keep = 2 << 20;
    const uint64_t free_bytes = FreeBytes();
    ASSERT_GT(free_bytes, keep);
    std::ofstream out(filler, std::ios::binary);
    const std::string block(1 << 20, 'x');
    for (uint64_t written = 0; written + block.size() <= free_bytes - keep;
         written += block.size()) {
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
  }
  const std::string spec = dir_.Sub("spec.json");
  std::ofstream(spec) << kSpec;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    std::string id = Evolv({"submit", spec});
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    ASSERT_FALSE(id.empty());
    ids.push_back(id);
  }

  ASSERT_TRUE(WaitForState(ids, "PAUSED", 120s)) << evolvd_->Stderr();
  const std::string status = Evolv({"status", ids[0], "--json"});
  EXPECT_NE(status.find("store write failed"), std::string::npos) << status;
  // Past RocksDB's 5 s recovery retries: still up, still answering.
  std::this_thread::sleep_for(8s);
  EXPECT_FALSE(evolvd_->Wait(0ms).has_value()) << evolvd_->Stderr();
  EXPECT_NE(Evolv({"list"}).find("PAUSED"), std::string::npos);

  fs::remove(filler);
  ASSERT_TRUE(WaitForState(ids, "SUCCEEDED", 300s)) << evolvd_->Stderr();
  EXPECT_NE(evolvd_->Stderr().find("resumed: the store accepts writes again"), std::string::npos);
  evolvd_->Signal(SIGTERM);
  EXPECT_EQ(evolvd_->Wait(60s), std::optional<int>(0)) << evolvd_->Stderr();
}

}  // namespace
}  // namespace evolv
