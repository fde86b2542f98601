// ExitDeadline: a shutdown that finishes in time leaves the process alone; one that does not
// ends it with the given code (as when CAF's actor_system destructor waits forever).
#include "services/exit_deadline.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace evolv {
namespace {

TEST(ExitDeadlineTest, DestroyedInTimeTheProcessGoesOn) {
  const auto started = std::chrono::steady_clock::now();
  { ExitDeadline deadline(std::chrono::seconds(30), 9); }
  // The destructor wakes the watcher at once rather than waiting out the limit.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(ExitDeadlineDeathTest, AShutdownThatHangsEndsWithTheCode) {
  EXPECT_EXIT(
      {
        ExitDeadline deadline(std::chrono::seconds(1), 7);
        std::this_thread::sleep_for(std::chrono::seconds(60));  // a teardown that never ends
      },
      ::testing::ExitedWithCode(7), "");
}

}  // namespace
}  // namespace evolv
