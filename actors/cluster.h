// The cluster link: evolvd (or `evolv run`) publishes a gatekeeper on its cluster port through
// CAF's middleman (BASP over TCP, optionally TLS via CAF's OpenSSL module); `evolv-worker`
// processes connect to it, present the shared cluster secret, and offer their worker actors to
// the dispatcher. No protocol of our own: evaluation requests and results are ordinary CAF
// messages to remote actors.
//
// Security: the secret is required. A worker presenting another secret is refused; both sides
// log why. Without TLS the secret and the traffic cross the network in the clear: use TLS
// (certificate flags) on any network you do not trust.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "actors/protocol.h"
#include "actors/worker.h"
#include "search/problem_registry.h"

namespace evolv {

struct TlsOptions {
  std::string certificate;  // PEM file; TLS is on when this is set
  std::string key;          // PEM private key
  std::string ca_file;      // CA bundle used to verify the peer
  bool enabled() const { return !certificate.empty(); }
};

// The settings every evolv process gives its actor system: two scheduler threads that block
// instead of polling (the dispatcher, the job manager and the cluster's actors only move messages,
// each job's coordinator has a thread of its own, and CAF's polling work-stealing threads would
// take CPU from the evaluation threads and add up to a sleep interval of latency per hop), and
// CAF's middleman (with TLS: its OpenSSL module and the given files)
// for the cluster link. Call before creating the actor system.
void ConfigureActorSystem(caf::actor_system_config& config, const TlsOptions& tls);

// Reads a secret from `path` (trailing whitespace dropped), or from the environment variable
// EVOLV_CLUSTER_SECRET when `path` is empty. InvalidArgument when neither gives a non-empty one.
absl::StatusOr<std::string> LoadClusterSecret(const std::string& path);

struct ClusterServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  std::string secret;
  TlsOptions tls;
};

struct PublishedCluster {
  uint16_t port = 0;
  gatekeeper_actor gatekeeper;  // send it an exit message to close the door before shutdown
};

// Publishes a gatekeeper for `dispatcher` on the cluster port.
absl::StatusOr<PublishedCluster> PublishCluster(caf::actor_system& system,
                                                const dispatcher_actor& dispatcher,
                                                const ClusterServerOptions& options);

struct WorkerNodeOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint32_t slots = 1;
  uint32_t max_batch = kWorkerMaxBatch;  // WorkerInfo.max_batch (evolv-worker --max-batch)
  std::string device = "cpu";
  int cuda_device = -1;  // K of `device` "cuda:K"; -1 for "cpu"
  // The CUDA device `device` names (evaluators/common/cuda_devices.h reads it): WorkerInfo's
  // device_name, device_memory_bytes and compute_capability.
  std::string device_name;
  uint64_t device_memory_bytes = 0;
  std::string compute_capability;
  std::vector<std::string> domains;  // empty: every domain
  bool allow_commands = false;       // runs user commands (evolv-worker --allow-commands)
  std::string secret;
  TlsOptions tls;
  double heartbeat_seconds = 2.0;
  double max_backoff_seconds = 10.0;
};

// Runs a worker node until `stop` becomes true: spawns `slots` worker actors, connects, joins,
// sends heartbeats, and reconnects with exponential backoff whenever the link drops or evolvd
// restarts. Returns 0 when stopped, 3 when evolvd refused the secret.
int RunWorkerNode(caf::actor_system& system, const WorkerNodeOptions& options,
                  const ProblemRegistry& registry, const std::atomic<bool>& stop);

}  // namespace evolv
