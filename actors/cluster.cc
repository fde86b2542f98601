#include "actors/cluster.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "actors/job_engine.h"
#include "actors/worker.h"
#include "caf/io/all.hpp"
#include "caf/openssl/all.hpp"
#include "evolv/v1/cluster.pb.h"
#include "spdlog/spdlog.h"

namespace evolv {
namespace {

// Compares without an early exit, so timing does not reveal how much of a guess was right.
bool SameSecret(const std::string& given, const std::string& expected) {
  if (expected.empty()) return false;
  unsigned char diff = given.size() != expected.size();
  for (size_t i = 0; i < given.size(); ++i) diff |= given[i] ^ expected[i % expected.size()];
  return diff == 0;
}

struct GatekeeperState {
  dispatcher_actor dispatcher;
  std::string secret;
};

gatekeeper_actor::behavior_type Gatekeeper(gatekeeper_actor::stateful_pointer<GatekeeperState> self,
                                           dispatcher_actor dispatcher, std::string secret) {
  self->state.dispatcher = std::move(dispatcher);
  self->state.secret = std::move(secret);
  return {
      [self](join_atom, const caf::actor& worker, const std::string& info_bytes,
             const std::string& secret) -> std::string {
        v1::WorkerInfo info;
        info.ParseFromString(info_bytes);
        if (!SameSecret(secret, self->state.secret)) {
          spdlog::warn("cluster: refused worker {} from {}: wrong cluster secret", info.id(),
                       info.host());
          return "wrong cluster secret";
        }
        self->send(self->state.dispatcher, join_atom::value, worker, info_bytes);
        return "";
      },
      [self](heartbeat_atom, const caf::actor& worker) {
        self->send(self->state.dispatcher, heartbeat_atom::value, worker);
      },
  };
}

std::string HostName() {
  char name[256] = {0};
  gethostname(name, sizeof(name) - 1);
  return name;
}

}  // namespace

void ConfigureActorSystem(caf::actor_system_config& config, const TlsOptions& tls) {
  config.set("scheduler.max-threads", 2);
  config.set("scheduler.policy", caf::atom("sharing"));
  config.load<caf::io::middleman>();
  if (tls.enabled()) {
    config.load<caf::openssl::manager>();
    config.openssl_certificate = tls.certificate;
    config.openssl_key = tls.key;
    config.openssl_cafile = tls.ca_file;
  }
}

absl::StatusOr<std::string> LoadClusterSecret(const std::string& path) {
  std::string secret;
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) return absl::InvalidArgumentError(path + ": cannot read the cluster secret file");
    std::stringstream text;
    text << in.rdbuf();
    secret = text.str();
  } else if (const char* env = std::getenv("EVOLV_CLUSTER_SECRET")) {
    secret = env;
  }
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        "cluster secret: none given (use a secret file or EVOLV_CLUSTER_SECRET); it is required "
        "to join a cluster");
  }
  return secret;
}

absl::StatusOr<PublishedCluster> PublishCluster(caf::actor_system& system,
                                                const dispatcher_actor& dispatcher,
                                                const ClusterServerOptions& options) {
  if (options.secret.empty()) {
    return absl::InvalidArgumentError("cluster secret: required to open the cluster port");
  }
  auto gatekeeper = system.spawn(Gatekeeper, dispatcher, options.secret);
  caf::expected<uint16_t> port =
      options.tls.enabled()
          ? caf::openssl::publish(gatekeeper, options.port, options.bind.c_str(), true)
          : system.middleman().publish(gatekeeper, options.port, options.bind.c_str(), true);
  if (!port) {
    caf::anon_send_exit(gatekeeper, caf::exit_reason::user_shutdown);
    return absl::UnavailableError("cluster port " + std::to_string(options.port) + " on " +
                                  options.bind + ": " + system.render(port.error()));
  }
  spdlog::info("cluster: accepting workers on {}:{}{}", options.bind, *port,
               options.tls.enabled() ? " (TLS)" : "");
  return PublishedCluster{*port, gatekeeper};
}

int RunWorkerNode(caf::actor_system& system, const WorkerNodeOptions& options,
                  const ProblemRegistry& registry, const std::atomic<bool>& stop) {
  const std::string host = HostName();
  std::vector<std::pair<caf::actor, std::string>> workers;  // handle, WorkerInfo bytes
  WorkerDevice device;
  device.cuda_index = options.cuda_device;
  device.label =
      options.device_name.empty() ? options.device : options.device + " " + options.device_name;
  for (uint32_t k = 0; k < options.slots; ++k) {
    v1::WorkerInfo info;
    info.set_id(host + ":" + std::to_string(getpid()) + "/" + std::to_string(k));
    info.set_host(host);
    info.set_device(options.device);
    info.set_device_name(options.device_name);
    info.set_device_memory_bytes(options.device_memory_bytes);
    info.set_compute_capability(options.compute_capability);
    info.set_slots(1);
    info.set_max_batch(options.max_batch);
    for (const auto& d : options.domains) info.add_domains(d);
    info.set_allows_commands(options.allow_commands);
    auto worker = system.spawn<caf::detached>(WorkerBehavior, info.id(), &registry,
                                              options.allow_commands, device);
    workers.emplace_back(caf::actor_cast<caf::actor>(worker), info.SerializeAsString());
  }
  auto stop_workers = [&] {
    for (auto& [worker, info] : workers)
      caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  };

  caf::scoped_actor self{system};
  double backoff = 0.25;
  // Waits `backoff` seconds (or until stopped) and doubles it, up to the maximum.
  auto back_off = [&] {
    for (double waited = 0; waited < backoff && !stop; waited += 0.05) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    backoff = std::min(backoff * 2, options.max_backoff_seconds);
  };
  int code = 0;
  while (!stop) {
    auto gatekeeper =
        options.tls.enabled()
            ? caf::openssl::remote_actor<gatekeeper_actor>(system, options.host, options.port)
            : system.middleman().remote_actor<gatekeeper_actor>(options.host, options.port);
    if (!gatekeeper) {
      spdlog::info("worker: cannot reach evolvd at {}:{} ({}); retrying in {:.1f} s", options.host,
                   options.port, system.render(gatekeeper.error()), backoff);
      back_off();
      continue;
    }
    std::string refusal;
    bool joined = true;
    for (auto& [worker, info] : workers) {
      self->request(*gatekeeper, std::chrono::seconds(10), join_atom::value, worker, info,
                    options.secret)
          .receive([&](const std::string& reason) { refusal = reason; },
                   [&](caf::error& error) {
                     joined = false;
                     spdlog::warn("worker: join failed: {}", system.render(error));
                   });
      if (!refusal.empty() || !joined) break;
    }
    if (!refusal.empty()) {
      spdlog::error("worker: evolvd at {}:{} refused this worker: {}", options.host, options.port,
                    refusal);
      code = 3;
      break;
    }
    if (!joined) {  // e.g. a join timed out on a loaded machine: not at once again
      back_off();
      continue;
    }
    spdlog::info("worker: joined evolvd at {}:{} with {} slots ({})", options.host, options.port,
                 options.slots, options.device);
    backoff = 0.25;
    self->monitor(*gatekeeper);
    bool connected = true;
    while (connected && !stop) {
      self->receive(
          [&](caf::down_msg&) {
            spdlog::warn("worker: lost evolvd at {}:{}; reconnecting", options.host, options.port);
            connected = false;
          },
          caf::after(
              std::chrono::milliseconds(static_cast<int64_t>(options.heartbeat_seconds * 1000))) >>
              [&] {
                for (auto& [worker, info] : workers) {
                  self->send(*gatekeeper, heartbeat_atom::value, worker);
                }
              });
    }
  }
  stop_workers();
  return code;
}

}  // namespace evolv
