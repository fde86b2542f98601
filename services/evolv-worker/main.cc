// evolv-worker: a stateless worker process that joins an evolvd (or `evolv run --cluster-port`)
// over CAF's middleman and evaluates candidates for it.
//
//   evolv-worker --connect HOST:PORT [--slots N] [--device cpu|cuda:K] [--max-batch N]
//                [--domains a,b]
//                [--secret-file F] [--tls-cert F --tls-key F --tls-ca F]
//
// The cluster secret comes from --secret-file or EVOLV_CLUSTER_SECRET. The worker reconnects with
// backoff whenever evolvd goes away. Exit codes: 0 stopped by SIGTERM/SIGINT, 2 bad usage,
// 3 refused by evolvd (wrong secret). --device cuda:K exits 2 when this build has no CUDA support
// or the machine has no such device, saying which.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "actors/cluster.h"
#include "evaluators/common/cuda_devices.h"
#include "evaluators/registry.h"
#include "services/exit_deadline.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"evolv-worker: evaluates candidates for an evolvd"};
  std::string connect;
  std::string secret_file;
  std::string domains;
  evolv::WorkerNodeOptions options;
  app.add_option("--connect", connect, "evolvd cluster address HOST:PORT")->required();
  app.add_option("--slots", options.slots, "evaluations run at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--device", options.device, "cpu or cuda:K")->capture_default_str();
  app.add_option("--max-batch", options.max_batch,
                 "most evaluations taken in one message (short ones go in batches)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--domains", domains, "comma-separated domains this worker runs (default: all)");
  app.add_flag("--allow-commands", options.allow_commands,
               "run the commands study specs name (docs/security.md)");
  app.add_option("--secret-file", secret_file,
                 "file holding the cluster secret (default: $EVOLV_CLUSTER_SECRET)");
  app.add_option("--tls-cert", options.tls.certificate, "PEM certificate: TLS on the link");
  app.add_option("--tls-key", options.tls.key, "PEM private key for --tls-cert");
  app.add_option("--tls-ca", options.tls.ca_file, "CA bundle to verify evolvd's certificate");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  const size_t colon = connect.rfind(':');
  int port = -1;
  if (colon != std::string::npos) port = std::atoi(connect.c_str() + colon + 1);
  if (colon == std::string::npos || colon == 0 || port <= 0 || port > 65535) {
    std::fprintf(stderr, "evolv-worker: --connect: expected HOST:PORT, got '%s'\n",
                 connect.c_str());
    return 2;
  }
  options.host = connect.substr(0, colon);
  options.port = static_cast<uint16_t>(port);
  const absl::StatusOr<int> device = evolv::ParseDevice(options.device);
  if (!device.ok()) {
    std::fprintf(stderr, "evolv-worker: %s\n", std::string(device.status().message()).c_str());
    return 2;
  }
  if (*device >= 0) {  // the device must be there now, not at the first evaluation
    const absl::StatusOr<evolv::CudaDevice> cuda = evolv::ProbeCudaDevice(*device);
    if (!cuda.ok()) {
      std::fprintf(stderr, "evolv-worker: --device %s: %s\n", options.device.c_str(),
                   std::string(cuda.status().message()).c_str());
      return 2;
    }
    options.cuda_device = *device;
    options.device_name = cuda->name;
    options.device_memory_bytes = cuda->memory_bytes;
    options.compute_capability = std::to_string(cuda->major) + "." + std::to_string(cuda->minor);
  }
  for (size_t start = 0; start < domains.size();) {
    size_t end = domains.find(',', start);
    if (end == std::string::npos) end = domains.size();
    if (end > start) options.domains.push_back(domains.substr(start, end - start));
    start = end + 1;
  }
  auto secret = evolv::LoadClusterSecret(secret_file);
  if (!secret.ok()) {
    std::fprintf(stderr, "evolv-worker: %s\n", std::string(secret.status().message()).c_str());
    return 2;
  }
  options.secret = *secret;

  spdlog::set_default_logger(spdlog::stderr_color_mt("evolv-worker"));
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  caf::actor_system_config config;
  evolv::ConfigureActorSystem(config, options.tls);
  int code;
  // Bounds the wait for the evaluating actors (an evaluation under way is not waited out: evolvd
  // runs it again elsewhere) and `system`'s destructor (services/exit_deadline.h).
  std::unique_ptr<evolv::ExitDeadline> teardown;
  {
    caf::actor_system system{config};
    code = evolv::RunWorkerNode(system, options, evolv::BuiltinProblems(), g_stop);
    teardown = std::make_unique<evolv::ExitDeadline>(evolv::kActorSystemTeardownLimit, code);
    system.await_all_actors_done();
  }
  teardown.reset();
  spdlog::info("worker: stopped");
  return code;
}
