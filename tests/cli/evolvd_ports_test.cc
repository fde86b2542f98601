// Two real evolvd processes on ports chosen at run time: a second evolvd on a port the first
// holds refuses to start (exit 1, naming the address), for the gRPC port (gRPC would share it
// through SO_REUSEPORT, clients then reaching either server) as for the HTTP port, and the first
// keeps serving. /healthz is "ok" on the healthy first one.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/http_get.h"
#include "tests/support/port_file.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

class EvolvdPortsTest : public ::testing::Test {
 protected:
  // Starts evolvd number `n` on a data directory of its own.
  std::unique_ptr<Subprocess> StartEvolvd(int n, const std::string& grpc_port,
                                          const std::string& http_port) {
    const std::string name = "evolvd" + std::to_string(n);
    return std::make_unique<Subprocess>(
        std::vector<std::string>{EVOLVD_BINARY, "--data-dir", dir_.Sub(name + "-data"),
                                 "--grpc-port", grpc_port, "--http-port", http_port, "--workers",
                                 "1", "--port-file", dir_.Sub(name + "-ports")},
        dir_.Sub(name + ".out"), dir_.Sub(name + ".err"));
  }

  TempDir dir_;
};

TEST_F(EvolvdPortsTest, ASecondEvolvdOnATakenGrpcOrHttpPortExitsOneAndTheFirstServesOn) {
  auto first = StartEvolvd(1, "0", "0");
  const auto ports = testing::WaitForPortFile(dir_.Sub("evolvd1-ports"), "grpc", 60s);
  ASSERT_FALSE(ports.empty()) << first->Stderr();
  const int grpc = ports.at("grpc"), http = ports.at("http");
  testing::HttpResponse health = testing::HttpGet(http, "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_EQ(health.body, "ok\n");

  auto second = StartEvolvd(2, std::to_string(grpc), "0");
  EXPECT_EQ(second->Wait(60s), std::optional<int>(1)) << second->Stderr();
  EXPECT_NE(second->Stderr().find("cannot listen for gRPC on 127.0.0.1:" + std::to_string(grpc)),
            std::string::npos)
      << second->Stderr();

  auto third = StartEvolvd(3, "0", std::to_string(http));
  EXPECT_EQ(third->Wait(60s), std::optional<int>(1)) << third->Stderr();
  EXPECT_NE(third->Stderr().find("http: cannot listen on 127.0.0.1:" + std::to_string(http)),
            std::string::npos)
      << third->Stderr();

  // The first one still holds its ports and answers.
  EXPECT_FALSE(first->Wait(0ms).has_value());
  health = testing::HttpGet(http, "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_EQ(health.body, "ok\n");
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(60s), std::optional<int>(0)) << first->Stderr();
}

}  // namespace
}  // namespace evolv
