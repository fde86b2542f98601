// HealthCheck: what evolvd's /healthz answers. It probes the three parts every request needs,
// each with a deadline, so that a part that died or hangs is reported instead of "ok" over a dead
// core:
//   job manager  a lookup of no job (JobManagerClient::Probe)
//   dispatcher   its queue depth (DispatcherClient::QueueDepth)
//   store        a read of a job id no job has (any answer but an error is healthy), on a helper
//                thread, since a RocksDB read blocks
// The store read runs beside the two actor probes, so a check takes at most about twice the
// timeout.
//
// Thread-safety: Check is safe to call from any thread. Store reads do not pile up: while one is
// still running, later checks wait on that same read.
// Errors: Unavailable naming every part that did not answer, "job manager: ...; store: ...".
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "actors/protocol.h"
#include "storage/store.h"

namespace evolv {

class HealthCheck {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{1000};

  // `system` and `store` must outlive the check.
  HealthCheck(caf::actor_system& system, Store* store, job_manager_actor manager,
              dispatcher_actor dispatcher, std::chrono::milliseconds timeout = kDefaultTimeout);
  // Waits for a store read still running.
  ~HealthCheck();
  HealthCheck(const HealthCheck&) = delete;
  HealthCheck& operator=(const HealthCheck&) = delete;

  // OK when every part answered within the timeout.
  absl::Status Check();

 private:
  struct StoreRead {
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;
    absl::Status status;
  };
  // The store read in flight, started now unless one still runs; nullptr with `*error` set when
  // no thread could be started.
  std::shared_ptr<StoreRead> StartStoreRead(absl::Status* error);

  caf::actor_system& system_;
  Store* store_;
  job_manager_actor manager_;
  dispatcher_actor dispatcher_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;  // guards read_ and reader_
  std::shared_ptr<StoreRead> read_;
  std::thread reader_;
};

}  // namespace evolv
