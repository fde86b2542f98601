#include "services/evolvd/health.h"

#include <exception>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_join.h"
#include "actors/job_manager.h"
#include "services/evolvd/dispatcher_client.h"

namespace evolv {
namespace {

// No job has this id (ids are "j" and 16 hex digits): reading it touches the store's job rows
// and finds nothing.
constexpr char kProbeJobId[] = "healthz";

}  // namespace

HealthCheck::HealthCheck(caf::actor_system& system, Store* store, job_manager_actor manager,
                         dispatcher_actor dispatcher, std::chrono::milliseconds timeout)
    : system_(system),
      store_(store),
      manager_(std::move(manager)),
      dispatcher_(std::move(dispatcher)),
      timeout_(timeout) {}

HealthCheck::~HealthCheck() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (reader_.joinable()) reader_.join();
}

std::shared_ptr<HealthCheck::StoreRead> HealthCheck::StartStoreRead(absl::Status* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (read_) {
    std::lock_guard<std::mutex> read_lock(read_->mutex);
    if (!read_->done) return read_;
  }
  if (reader_.joinable()) reader_.join();  // done: returns at once
  auto read = std::make_shared<StoreRead>();
  try {
    reader_ = std::thread([store = store_, read] {
      absl::Status status;
      try {
        auto job = store->GetJob(kProbeJobId);
        if (!job.ok() && !absl::IsNotFound(job.status())) {
          status = absl::UnavailableError("store: " + job.status().ToString());
        }
      } catch (const std::exception& e) {
        status = absl::UnavailableError(std::string("store: a read threw (") + e.what() + ")");
      }
      std::lock_guard<std::mutex> read_lock(read->mutex);
      read->status = status;
      read->done = true;
      read->finished.notify_all();
    });
  } catch (const std::system_error& e) {
    *error = absl::UnavailableError(std::string("store: cannot start a read (") + e.what() + ")");
    return nullptr;
  }
  read_ = read;
  return read;
}

absl::Status HealthCheck::Check() {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  absl::Status store_error;
  std::shared_ptr<StoreRead> read = StartStoreRead(&store_error);

  std::vector<std::string> failures;
  if (absl::Status s = JobManagerClient(system_, manager_).Probe(timeout_); !s.ok()) {
    failures.emplace_back(s.message());
  }
  if (auto s = DispatcherClient(system_, dispatcher_, timeout_).QueueDepth(); !s.ok()) {
    failures.emplace_back(s.status().message());
  }
  if (read) {
    std::unique_lock<std::mutex> lock(read->mutex);
    if (!read->finished.wait_until(lock, deadline, [&] { return read->done; })) {
      store_error = absl::UnavailableError("store: a read did not finish within " +
                                           std::to_string(timeout_.count()) + " ms");
    } else {
      store_error = read->status;
    }
  }
  if (!store_error.ok()) failures.emplace_back(store_error.message());
  if (failures.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrJoin(failures, "; "));
}

}  // namespace evolv
