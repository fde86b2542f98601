// ExitDeadline: a bound on how long a process's shutdown may take.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "spdlog/spdlog.h"

namespace evolv {

// How long tearing down an actor system may take once every actor is done. CAF 0.17's
// actor_system destructor can wait forever for a detached actor's thread that already finished
// its work (actor-framework issue #1196, fixed in CAF 0.18); evolvd and evolv-worker run their
// evaluations on detached actors, so they bound that wait and end with the exit code they had.
inline constexpr std::chrono::seconds kActorSystemTeardownLimit{20};

// Ends the process with `code` (logs flushed) unless destroyed within `limit`: a shutdown that
// cannot finish must not keep the process alive.
class ExitDeadline {
 public:
  ExitDeadline(std::chrono::seconds limit, int code)
      : thread_([this, limit, code] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (finished_cv_.wait_for(lock, limit, [this] { return finished_; })) return;
          spdlog::critical("shutdown did not finish within {} s; exiting with {}", limit.count(),
                           code);
          spdlog::default_logger()->flush();
          std::_Exit(code);
        }) {}
  ~ExitDeadline() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    finished_cv_.notify_all();
    thread_.join();
  }
  ExitDeadline(const ExitDeadline&) = delete;
  ExitDeadline& operator=(const ExitDeadline&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable finished_cv_;
  bool finished_ = false;
  std::thread thread_;  // last: it starts once the members it uses exist
};

}  // namespace evolv
