// evolvd: the evolv server. One CAF actor system (dispatcher, local workers, job manager), a
// gRPC server (evolv.v1.SearchService) and an HTTP server (status page, /api, /metrics).
//
//   evolvd --data-dir DIR [--grpc-port P] [--http-port P] [--workers N] [--bind ADDR]
//          [--auth-token-file FILE] [--port-file FILE] [--config FILE] [--repair]
//          [--cluster-port P --cluster-secret-file FILE [--cluster-bind ADDR]
//           [--tls-cert F --tls-key F --tls-ca F]]
//
// Port 0 picks a free port; the chosen ports are logged and, with --port-file, written there as
// "grpc=PORT\nhttp=PORT\n" plus "cluster=PORT\n" with a cluster port (atomically, once all
// listen). With --cluster-port, evolv-worker processes join over CAF's middleman (see
// actors/cluster.h and deploy/README.md). SIGTERM and SIGINT checkpoint every
// running job (they stay RUNNING and resume on the next start) and exit 0.
// A port that is taken is an error: the gRPC server is built without SO_REUSEPORT (gRPC's
// default would let a second evolvd share the port, each client reaching either server), so a
// second evolvd on a taken gRPC or HTTP port logs "cannot listen ..." and exits 1.
// A core actor (the job manager, the dispatcher) that goes down while evolvd
// serves (an exception past every guard, any exit) ends the process rather than leave one that
// looks alive: it is logged as critical, the rest shuts down as on SIGTERM, and evolvd exits 70,
// so that a supervisor restarts it (jobs resume from their checkpoints). A shutdown that does not
// finish within 15 s (coordinators whose job manager is gone are stopped by no one) ends the
// process at once, still with 70.
// A store whose write-ahead log is damaged is refused (exit 1, the message names the damage and
// the way out); --repair opens it by replaying the log up to the damage, keeping copies of the
// log files, and logs what it did (docs/adr/0019-store-integrity.md).
// Exit codes: 0 clean shutdown, 1 runtime error (store, ports), 2 bad usage, 70 a core actor
// went down.
#include "services/evolvd/server.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "actors/cluster.h"
#include "actors/coordinator.h"
#include "actors/dispatcher.h"
#include "actors/job_manager.h"
#include "actors/worker.h"
#include "services/evolvd/actor_watch.h"
#include "services/evolvd/grpc_service.h"
#include "services/evolvd/http_server.h"
#include "services/evolvd/metrics.h"
#include "services/evolvd/service_core.h"
#include "services/exit_deadline.h"
#include "services/store_open.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

struct Flags {
  std::string data_dir = "evolv-data";
  int grpc_port = 50051;
  int http_port = 8080;
  int workers = -1;
  int cluster_port = -1;
  std::string cluster_bind = "127.0.0.1";
  std::string cluster_secret_file;
  evolv::TlsOptions tls;
  std::string bind = "127.0.0.1";
  std::string auth_token_file;
  std::string port_file;
  std::string log_level = "info";
  // The coordinator's defaults (actors/coordinator.h), said once there.
  uint64_t checkpoint_every_results = evolv::CoordinatorOptions{}.checkpoint_every_results;
  double checkpoint_every_seconds = evolv::CoordinatorOptions{}.checkpoint_every_seconds;
  int http_max_connections = 256;
  double http_request_timeout = 10.0;  // seconds
  double http_idle_timeout = 60.0;     // seconds
  uint64_t max_strategy_memory_mb = 4096;
  uint64_t max_evaluation_memory_mb = 8192;
  double prepare_timeout = 60.0;  // seconds
  bool repair = false;
  bool allow_commands = false;
};

// The exit code when a core actor went down while serving (EX_SOFTWARE).
constexpr int kExitCoreActorDown = 70;
// How long the shutdown after a core actor went down may take before the process just ends.
constexpr std::chrono::seconds kCoreDownShutdownLimit{15};

bool WritePortFile(const std::string& path, int grpc_port, int http_port, int cluster_port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "grpc=" << grpc_port << "\nhttp=" << http_port << "\n";
    if (cluster_port > 0) out << "cluster=" << cluster_port << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

namespace evolv {

int RunEvolvd(int argc, char** argv, const ProblemRegistry& registry) {
  CLI::App app{"evolvd: the evolv search server (gRPC + HTTP status page)"};
  Flags flags;
  app.set_config("--config", "", "read flags from this file (TOML/INI: data-dir = \"...\")");
  app.add_option("--data-dir", flags.data_dir, "store directory (RocksDB)")->capture_default_str();
  app.add_option("--grpc-port", flags.grpc_port, "gRPC port (0: pick a free one)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--http-port", flags.http_port, "HTTP port (0: pick a free one)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--workers", flags.workers,
                 "local worker threads (default: one per core; 0: remote workers only)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--cluster-port", flags.cluster_port,
                 "let evolv-worker processes join on this port (0: pick a free one)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--cluster-bind", flags.cluster_bind, "address of the cluster port")
      ->capture_default_str();
  app.add_flag("--allow-commands", flags.allow_commands,
               "local workers run the commands study specs name (docs/security.md)");
  app.add_option("--cluster-secret-file", flags.cluster_secret_file,
                 "file holding the cluster secret (default: $EVOLV_CLUSTER_SECRET)");
  app.add_option("--tls-cert", flags.tls.certificate, "PEM certificate: TLS on the cluster link");
  app.add_option("--tls-key", flags.tls.key, "PEM private key for --tls-cert");
  app.add_option("--tls-ca", flags.tls.ca_file, "CA bundle to verify workers' certificates");
  app.add_option("--bind", flags.bind, "address to listen on")->capture_default_str();
  app.add_option("--auth-token-file", flags.auth_token_file,
                 "require \"authorization: Bearer <token>\" on every RPC; the file holds the token")
      ->check(CLI::ExistingFile);
  app.add_option("--port-file", flags.port_file, "write the listening ports here");
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--checkpoint-results", flags.checkpoint_every_results,
                 "checkpoint a job after this many results")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--checkpoint-seconds", flags.checkpoint_every_seconds,
                 "checkpoint a job at least this often (seconds)")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--http-max-connections", flags.http_max_connections,
                 "open HTTP connections at most; a new one beyond it replaces the longest-open "
                 "idle (else still-reading) one, or is closed when all are being answered")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--http-request-timeout", flags.http_request_timeout,
                 "seconds an HTTP request (header and body) may take to arrive")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--http-idle-timeout", flags.http_idle_timeout,
                 "seconds an idle kept-alive HTTP connection (or an unread response) is kept")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--max-strategy-memory", flags.max_strategy_memory_mb,
                 "MiB a job's search strategy may be estimated to take; a spec beyond it is "
                 "refused with INVALID_ARGUMENT (the bandit's trials x policies x bins x arms)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-evaluation-memory", flags.max_evaluation_memory_mb,
                 "MiB one evaluation may be estimated to take on a worker; a candidate beyond it "
                 "is INFEASIBLE, a spec with a seed beyond it is refused with INVALID_ARGUMENT "
                 "(the scaling domain's training state)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--prepare-timeout", flags.prepare_timeout,
                 "seconds a submit or resume may take to build the job's problem (reading its "
                 "files); longer ones answer DEADLINE_EXCEEDED and create nothing")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_flag("--repair", flags.repair,
               "open a store whose write-ahead log is damaged by replaying it up to the damage "
               "(copies of the log files are kept; docs/adr/0019-store-integrity.md)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  // Structured logs: logfmt on stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("evolvd"));
  spdlog::set_pattern("ts=%Y-%m-%dT%H:%M:%S.%e level=%l pid=%P msg=\"%v\"");
  spdlog::set_level(spdlog::level::from_str(flags.log_level));

  std::string token;
  if (!flags.auth_token_file.empty()) {
    std::ifstream in(flags.auth_token_file);
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) {
      std::fprintf(stderr, "evolvd: %s: empty token\n", flags.auth_token_file.c_str());
      return 2;
    }
  }

  // Signals are taken by sigwait on the main thread only: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto store = evolv::OpenStoreFor(flags.data_dir, registry, flags.repair);
  if (!store.ok()) {
    spdlog::error("cannot open the store: {}", store.status().ToString());
    return 1;
  }
  if (flags.repair && (*store)->repair_report().empty()) {
    spdlog::info("--repair: the store at {} was not damaged; opened as usual", flags.data_dir);
  }
  for (const std::string& line : (*store)->repair_report()) {
    spdlog::warn("--repair: {}", line);
  }
  const int workers = flags.workers >= 0
                          ? flags.workers
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string cluster_secret;
  if (flags.cluster_port >= 0) {
    auto secret = evolv::LoadClusterSecret(flags.cluster_secret_file);
    if (!secret.ok()) {
      std::fprintf(stderr, "evolvd: %s\n", std::string(secret.status().message()).c_str());
      return 2;
    }
    cluster_secret = *secret;
  } else if (workers == 0) {
    std::fprintf(stderr, "evolvd: --workers 0 needs --cluster-port for remote workers\n");
    return 2;
  }

  caf::actor_system_config config;
  evolv::ConfigureActorSystem(config, flags.tls);
  std::unique_ptr<ExitDeadline> teardown;  // bounds `system`'s destructor (exit_deadline.h)
  caf::actor_system system{config};
  // The dispatcher times every evaluation a worker ran, for /metrics.
  auto metrics = std::make_shared<evolv::ServiceMetrics>();
  evolv::DispatcherOptions dispatcher_options;
  dispatcher_options.observe = [metrics](double seconds) { metrics->ObserveEvaluation(seconds); };
  dispatcher_options.command_domains = registry.CommandDomains();
  dispatcher_options.cuda_domains = registry.CudaDomains();
  evolv::dispatcher_actor dispatcher = evolv::SpawnDispatcher(system, dispatcher_options);
  int cluster_port = 0;
  evolv::gatekeeper_actor gatekeeper;
  if (flags.cluster_port >= 0) {
    evolv::ClusterServerOptions cluster;
    cluster.bind = flags.cluster_bind;
    cluster.port = static_cast<uint16_t>(flags.cluster_port);
    cluster.secret = cluster_secret;
    cluster.tls = flags.tls;
    auto published = evolv::PublishCluster(system, dispatcher, cluster);
    if (!published.ok()) {
      spdlog::error("{}", published.status().ToString());
      caf::anon_send_exit(dispatcher, caf::exit_reason::user_shutdown);
      return 1;
    }
    cluster_port = published->port;
    gatekeeper = published->gatekeeper;
  }
  std::vector<evolv::worker_actor> worker_handles = evolv::SpawnLocalWorkers(
      system, dispatcher, workers, registry, "local", flags.allow_commands);
  evolv::JobManagerOptions manager_options;
  manager_options.coordinator.checkpoint_every_results = flags.checkpoint_every_results;
  manager_options.coordinator.checkpoint_every_seconds = flags.checkpoint_every_seconds;
  manager_options.limits.max_strategy_bytes = flags.max_strategy_memory_mb << 20;
  manager_options.limits.max_evaluation_bytes = flags.max_evaluation_memory_mb << 20;
  manager_options.prepare_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(flags.prepare_timeout * 1000));
  evolv::job_manager_actor manager =
      evolv::SpawnJobManager(system, store->get(), registry, dispatcher, manager_options);
  // A core actor that goes down wakes the sigwait below as a signal would (every thread blocks
  // SIGTERM, so it waits for that sigwait); the watch tells the two apart.
  evolv::ActorWatch core_watch(
      system, {{"job manager", manager.address()}, {"dispatcher", dispatcher.address()}},
      [] { kill(getpid(), SIGTERM); });

  evolv::ServiceCore core(store->get(), registry, system, manager, dispatcher, *metrics);
  evolv::SearchServiceImpl service(core, token);
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(flags.bind + ":" + std::to_string(flags.grpc_port),
                           grpc::InsecureServerCredentials(), &grpc_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a taken port fails, never shared
  builder.SetMaxReceiveMessageSize(evolv::kMaxRequestBytes);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  int exit_code = 0;
  std::unique_ptr<evolv::HttpServer> http;
  if (!server || grpc_port == 0) {
    spdlog::error("cannot listen for gRPC on {}:{} (is the port taken, by another evolvd?)",
                  flags.bind, flags.grpc_port);
    exit_code = 1;
  } else {
    evolv::HttpServer::Options http_options;
    http_options.max_connections = flags.http_max_connections;
    http_options.request_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(flags.http_request_timeout * 1000.0));
    http_options.idle_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(flags.http_idle_timeout * 1000.0));
    auto started = evolv::HttpServer::Start(core, flags.bind, flags.http_port, http_options);
    if (!started.ok()) {
      spdlog::error("{}", started.status().ToString());
      exit_code = 1;
    } else {
      http = std::move(*started);
    }
  }

  if (exit_code == 0) {
    spdlog::info(
        "evolvd listening: grpc={}:{} http=http://{}:{}/ cluster={} workers={} data_dir={} auth={}",
        flags.bind, grpc_port, flags.bind, http->port(),
        cluster_port ? flags.cluster_bind + ":" + std::to_string(cluster_port) : "off", workers,
        flags.data_dir, token.empty() ? "off" : "bearer");
    for (const auto& [domain, reason] : registry.Unavailable())
      spdlog::warn("domain {} cannot run its default spec on this machine: {}", domain, reason);
    if (!flags.port_file.empty() &&
        !WritePortFile(flags.port_file, grpc_port, http->port(), cluster_port)) {
      spdlog::error("cannot write the port file {}", flags.port_file);
      exit_code = 1;
    }
  }
  if (exit_code == 0) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    core_watch.Disarm();
    if (const std::string failure = core_watch.Failure(); !failure.empty()) {
      spdlog::critical("{}; evolvd cannot serve without it: shutting down, exit code {}", failure,
                       kExitCoreActorDown);
      exit_code = kExitCoreActorDown;
    } else {
      spdlog::info("signal {}: checkpointing every job and shutting down", signal_number);
    }
  }
  core_watch.Disarm();  // from here on actors end because they are told to; the watcher quits
  std::unique_ptr<ExitDeadline> deadline;
  if (exit_code == kExitCoreActorDown) {
    deadline = std::make_unique<ExitDeadline>(kCoreDownShutdownLimit, kExitCoreActorDown);
  }

  service.Stop();
  if (server) server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  http.reset();
  evolv::JobManagerClient client(system, manager);
  if (absl::Status status = client.Shutdown(); !status.ok()) {
    spdlog::error("shutdown: {}", status.ToString());
    if (exit_code == 0) exit_code = 1;
  }
  if (gatekeeper) caf::anon_send_exit(gatekeeper, caf::exit_reason::user_shutdown);
  for (auto& worker : worker_handles) caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(dispatcher, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
  system.await_all_actors_done();
  deadline.reset();
  spdlog::info("evolvd stopped");
  teardown = std::make_unique<ExitDeadline>(kActorSystemTeardownLimit, exit_code);
  return exit_code;
}

}  // namespace evolv
