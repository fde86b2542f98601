// DispatcherClient: the service's read-only questions to the dispatcher actor (actors/dispatcher.h)
// as blocking calls with a deadline, so an API call or a /metrics scrape never waits on a busy or
// stuck dispatcher for longer than `timeout`.
//
// Thread-safety: safe to call from any thread; each call uses its own scoped actor.
// Errors: DeadlineExceeded when the dispatcher does not answer within the timeout, Unavailable
// when it is gone or answers with an error; messages start with "dispatcher: ".
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "actors/protocol.h"
#include "evolv/v1/cluster.pb.h"

namespace evolv {

class DispatcherClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{5000};

  // `system` must outlive the client.
  DispatcherClient(caf::actor_system& system, dispatcher_actor dispatcher,
                   std::chrono::milliseconds timeout = kDefaultTimeout)
      : system_(system), dispatcher_(std::move(dispatcher)), timeout_(timeout) {}

  // Every worker the dispatcher knows, ordered by worker id.
  absl::StatusOr<std::vector<v1::WorkerStatus>> Workers();
  // Evaluations waiting for a free worker slot, over all jobs.
  absl::StatusOr<uint64_t> QueueDepth();

 private:
  caf::actor_system& system_;
  dispatcher_actor dispatcher_;
  std::chrono::milliseconds timeout_;
};

}  // namespace evolv
