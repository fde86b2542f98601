#include "services/evolvd/dispatcher_client.h"

#include <algorithm>
#include <string>

namespace evolv {
namespace {

absl::Status FromCafError(caf::actor_system& system, const caf::error& error) {
  const std::string message = "dispatcher: " + system.render(error);
  if (error == caf::sec::request_timeout) return absl::DeadlineExceededError(message);
  return absl::UnavailableError(message);
}

}  // namespace

absl::StatusOr<std::vector<v1::WorkerStatus>> DispatcherClient::Workers() {
  caf::scoped_actor self{system_};
  std::vector<v1::WorkerStatus> workers;
  absl::Status status = absl::OkStatus();
  self->request(dispatcher_, timeout_, workers_atom::value)
      .receive(
          [&](const std::vector<std::string>& answer) {
            for (const auto& bytes : answer) {
              v1::WorkerStatus worker;
              if (!worker.ParseFromString(bytes)) {
                status = absl::UnavailableError("dispatcher: malformed worker status");
                return;
              }
              workers.push_back(std::move(worker));
            }
          },
          [&](caf::error& error) { status = FromCafError(system_, error); });
  if (!status.ok()) return status;
  std::sort(workers.begin(), workers.end(),
            [](const v1::WorkerStatus& a, const v1::WorkerStatus& b) {
              return a.info().id() < b.info().id();
            });
  return workers;
}

absl::StatusOr<uint64_t> DispatcherClient::QueueDepth() {
  caf::scoped_actor self{system_};
  uint64_t queued = 0;
  absl::Status status = absl::OkStatus();
  self->request(dispatcher_, timeout_, queue_atom::value)
      .receive([&](uint64_t n) { queued = n; },
               [&](caf::error& error) { status = FromCafError(system_, error); });
  if (!status.ok()) return status;
  return queued;
}

}  // namespace evolv
