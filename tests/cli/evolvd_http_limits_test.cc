// The HTTP server's limits on a real evolvd (ports chosen at run time, timeouts shortened by
// flags): idle or stalled connections beyond the connection cap neither stop /healthz from
// answering nor add threads; a request header that never completes (slowloris) and a kept-alive
// connection left idle are closed after their timeouts; an oversized header gets 431 and an
// oversized body 413.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_get.h"
#include "tests/support/port_file.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kCap = 100;

// A blocking TCP connection to 127.0.0.1:`port`; closed on destruction.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawConnection() { close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads until the server closes the connection or `timeout` passes; true when it closed
  // (end of stream or reset). Whatever arrived is appended to `received`.
  bool ReadUntilClosed(std::chrono::milliseconds timeout, std::string* received = nullptr) {
    const auto deadline = Clock::now() + timeout;
    char buffer[4096];
    while (true) {
      const auto left = std::max<int64_t>(
          0,
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return true;
      if (received) received->append(buffer, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

int ThreadCount(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// evolvd's thread count once it has stopped changing: some threads (gRPC's, RocksDB's
// background ones) start lazily in the first seconds, so a count taken too early can grow on
// its own. Waits for the count to hold still for one second, at most 20 s.
int SettledThreadCount(pid_t pid) {
  int last = ThreadCount(pid);
  auto stable_since = Clock::now();
  const auto give_up = Clock::now() + 20s;
  while (Clock::now() - stable_since < 1s && Clock::now() < give_up) {
    std::this_thread::sleep_for(50ms);
    const int now = ThreadCount(pid);
    if (now != last) {
      last = now;
      stable_since = Clock::now();
    }
  }
  return last;
}

class EvolvdHttpLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    evolvd_ = std::make_unique<Subprocess>(
        std::vector<std::string>{EVOLVD_BINARY, "--data-dir", dir_.Sub("data"), "--grpc-port", "0",
                                 "--http-port", "0", "--workers", "1", "--port-file",
                                 dir_.Sub("ports"), "--http-max-connections", std::to_string(kCap),
                                 "--http-request-timeout", "2", "--http-idle-timeout", "3"},
        dir_.Sub("evolvd.out"), dir_.Sub("evolvd.err"));
    const auto ports = testing::WaitForPortFile(dir_.Sub("ports"), "http", 60s);
    ASSERT_FALSE(ports.empty()) << evolvd_->Stderr();
    http_ = ports.at("http");
  }
  void TearDown() override {
    evolvd_->Signal(SIGTERM);
    EXPECT_EQ(evolvd_->Wait(60s), std::optional<int>(0)) << evolvd_->Stderr();
  }

  // evolvd's thread count after it has answered one HTTP request and its count has settled
  // (see SettledThreadCount).
  int ThreadsAtRest() {
    EXPECT_EQ(testing::HttpGet(http_, "/healthz").status, 200);
    return SettledThreadCount(evolvd_->pid());
  }

  // `n` connections, each sent `first_bytes` (none when empty) and left open.
  std::vector<std::unique_ptr<RawConnection>> OpenConnections(int n,
                                                              const std::string& first_bytes) {
    std::vector<std::unique_ptr<RawConnection>> connections;
    for (int i = 0; i < n; ++i) {
      connections.push_back(std::make_unique<RawConnection>(http_));
      EXPECT_TRUE(connections.back()->connected()) << i;
      if (!first_bytes.empty()) {
        EXPECT_TRUE(connections.back()->Send(first_bytes)) << i;
      }
    }
    return connections;
  }

  void ExpectHealthzAnswersWithin(std::chrono::milliseconds limit) {
    const auto start = Clock::now();
    const testing::HttpResponse health = testing::HttpGet(http_, "/healthz");
    EXPECT_LT(Clock::now() - start, limit);
    EXPECT_EQ(health.status, 200) << health.error;
    EXPECT_EQ(health.body, "ok\n");
  }

  TempDir dir_;
  std::unique_ptr<Subprocess> evolvd_;
  int http_ = 0;
};

TEST_F(EvolvdHttpLimitsTest, IdleConnectionsOverTheCapLeaveHealthzAnsweringAndThreadsBounded) {
  const int threads_before = ThreadsAtRest();
  auto idle = OpenConnections(kCap + 50, "");
  ExpectHealthzAnswersWithin(2s);
  const int threads_after = ThreadCount(evolvd_->pid());
  EXPECT_LT(threads_after, 64);
  EXPECT_EQ(threads_after, threads_before);
  // The server made room: at least the 50 over the cap (and one for /healthz) were closed, the
  // longest-open first, well before their idle timeout.
  int closed = 0;
  for (auto& connection : idle) closed += connection->ReadUntilClosed(0ms) ? 1 : 0;
  EXPECT_GE(closed, 51);
  EXPECT_LE(closed, 52);
  EXPECT_TRUE(idle.front()->ReadUntilClosed(0ms));
  EXPECT_FALSE(idle.back()->ReadUntilClosed(0ms));
}

TEST_F(EvolvdHttpLimitsTest, APartialHeaderIsClosedAfterTheRequestTimeout) {
  RawConnection slow(http_);
  ASSERT_TRUE(slow.connected());
  const auto start = Clock::now();
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a"));
  std::string received;
  EXPECT_TRUE(slow.ReadUntilClosed(10s, &received));
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 1500ms);
  EXPECT_LT(took, 6s);
  EXPECT_EQ(received, "");
  EXPECT_EQ(testing::HttpGet(http_, "/healthz").status, 200);
}

TEST_F(EvolvdHttpLimitsTest, PartialHeadersOverTheCapLeaveHealthzAnsweringAndStopClean) {
  const int threads_before = ThreadsAtRest();
  auto slow = OpenConnections(kCap + 50, "GET / HTTP/1.1\r\nX-Slow: a");
  ExpectHealthzAnswersWithin(1s);  // well before the 2 s request timeout
  EXPECT_EQ(ThreadCount(evolvd_->pid()), threads_before);
  // A shutdown with them still open is clean and prompt.
  const auto start = Clock::now();
  evolvd_->Signal(SIGTERM);
  EXPECT_EQ(evolvd_->Wait(60s), std::optional<int>(0)) << evolvd_->Stderr();
  EXPECT_LT(Clock::now() - start, 10s);
}

TEST_F(EvolvdHttpLimitsTest, AKeptAliveConnectionLeftIdleIsClosedAfterTheIdleTimeout) {
  RawConnection connection(http_);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string received;
  const auto start = Clock::now();
  EXPECT_TRUE(connection.ReadUntilClosed(15s, &received));
  const auto took = Clock::now() - start;
  EXPECT_EQ(received.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << received;
  EXPECT_GE(took, 2500ms);
  EXPECT_LT(took, 8s);
}

TEST_F(EvolvdHttpLimitsTest, AnOversizedHeaderGets431AndAnOversizedBody413) {
  RawConnection big_header(http_);
  ASSERT_TRUE(big_header.connected());
  big_header.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
                  std::string(20 * 1024, 'a') + "\r\n\r\n");
  std::string received;
  EXPECT_TRUE(big_header.ReadUntilClosed(5s, &received));
  EXPECT_EQ(received.rfind("HTTP/1.1 431 ", 0), 0u) << received.substr(0, 200);

  RawConnection big_body(http_);
  ASSERT_TRUE(big_body.connected());
  big_body.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000\r\n\r\n");
  received.clear();
  EXPECT_TRUE(big_body.ReadUntilClosed(5s, &received));
  EXPECT_EQ(received.rfind("HTTP/1.1 413 ", 0), 0u) << received.substr(0, 200);

  EXPECT_EQ(testing::HttpGet(http_, "/healthz").status, 200);
}

}  // namespace
}  // namespace evolv
