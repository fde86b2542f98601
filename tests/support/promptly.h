// Promptly: runs a read that must not block (a FIFO or a device named as a file) and returns its
// status, failing the test when it takes longer than a limit. A read blocked on a FIFO is
// released by opening the FIFO's write end, so a regression fails instead of hanging.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <string>

#include "absl/status/status.h"

namespace evolv::testing {

// `fifo`, when set, is the FIFO `read` may block on.
inline absl::Status Promptly(const std::function<absl::Status()>& read,
                             const std::string& fifo = "",
                             std::chrono::milliseconds limit = std::chrono::milliseconds(1000)) {
  const auto start = std::chrono::steady_clock::now();
  std::future<absl::Status> status = std::async(std::launch::async, read);
  if (status.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "took longer than " << limit.count() << " ms";
    if (!fifo.empty()) ::close(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK));
  }
  const absl::Status result = status.get();
  EXPECT_LE(std::chrono::steady_clock::now() - start, limit);
  return result;
}

}  // namespace evolv::testing
