#include "services/evolv/run_command.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "actors/job_lifecycle.h"
#include "actors/local_runtime.h"
#include "evaluators/registry.h"
#include "search/job_spec.h"
#include "services/job_report.h"
#include "services/progress_line.h"
#include "services/spec_io.h"
#include "services/store_open.h"

namespace evolv {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted = true; }

// Catches SIGINT and SIGTERM from here on, with sigaction so that the handler replaces an
// inherited SIG_IGN too: a shell starts a script's background jobs with SIGINT ignored, and
// `evolv run ... &` must still checkpoint on `kill -INT`.
void CatchInterrupts() {
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Prints the job's summary and report; with a report_dir also writes the report there. False
// when the report could not be made or written (the message is printed).
bool PrintSummary(const v1::JobRecord& record, const Problem& problem, Store& store,
                  const std::string& report_dir) {
  const v1::JobProgress& p = record.progress();
  const auto& c = p.cache();
  std::printf("\njob %s (%s): %s after %llu evaluations in %s\n", record.id().c_str(),
              record.spec().name().c_str(), JobStateName(record.state()).c_str(),
              static_cast<unsigned long long>(p.evaluations()),
              FormatDuration(p.elapsed_seconds()).c_str());
  if (p.has_units()) std::printf("%s\n", FormatWork(p).c_str());
  if (!p.note().empty()) std::printf("%s\n", p.note().c_str());
  if (const std::string best = FormatBest(p); !best.empty()) {
    std::printf("best %s\n", best.c_str());
  }
  std::printf("cache: %llu hits, %llu misses, %llu collisions, %.1f evaluation-seconds saved\n\n",
              static_cast<unsigned long long>(c.hits()),
              static_cast<unsigned long long>(c.misses()),
              static_cast<unsigned long long>(c.collisions()), c.eval_seconds_saved());
  auto history = store.ReadHistory(record.id());
  if (!history.ok()) {
    std::fprintf(stderr, "evolv: reading the history failed: %s\n",
                 history.status().ToString().c_str());
    return false;
  }
  if (report_dir.empty()) {
    std::cout << problem.Report(*history) << std::flush;
    return true;
  }
  auto report = BuildJobReport(record.id(), problem, *history);
  if (!report.ok()) {
    std::fprintf(stderr, "evolv: %s\n", report.status().ToString().c_str());
    return false;
  }
  std::cout << report->text() << std::flush;
  if (absl::Status written = WriteJobReport(*report, report_dir); !written.ok()) {
    std::fprintf(stderr, "evolv: --report-dir: %s\n", std::string(written.message()).c_str());
    return false;
  }
  std::fprintf(stderr, "evolv: wrote report.txt and %d figures to %s\n", report->figures_size(),
               report_dir.c_str());
  return true;
}

}  // namespace

int RunCommand(const RunOptions& options) {
  // From the start: building a problem may take seconds, and an interrupt meanwhile counts.
  g_interrupted = false;
  CatchInterrupts();
  const ProblemRegistry& registry = BuiltinProblems();
  auto spec = LoadJobSpec(options.spec_path, registry);
  if (!spec.ok()) {
    std::fprintf(stderr, "evolv: %s\n", std::string(spec.status().message()).c_str());
    return 2;
  }
  if (absl::Status status = ValidateJobSpec(*spec, registry); !status.ok()) {
    std::fprintf(stderr, "evolv: %s: %s\n", options.spec_path.c_str(),
                 std::string(status.message()).c_str());
    return 2;
  }
  if (registry.RunsCommands(registry.DomainOf(*spec))) {
    auto problem = registry.Create(*spec);
    if (problem.ok() && (*problem)->EvaluatedByClients()) {
      std::fprintf(stderr,
                   "evolv: %s: the job's trials are evaluated by its clients: submit it to evolvd "
                   "(evolv submit) and run the clients against it (SuggestTrials, CompleteTrial; "
                   "python/evolv_client)\n",
                   options.spec_path.c_str());
      return 2;
    }
  }
  if (registry.RunsCommands(registry.DomainOf(*spec)) && !options.allow_commands &&
      options.cluster_port < 0) {
    std::fprintf(stderr,
                 "evolv: %s: the %s domain runs the job's command on workers: pass "
                 "--allow-commands to let the local workers run it (docs/security.md), or "
                 "--cluster-port for workers started with --allow-commands\n",
                 options.spec_path.c_str(), registry.DomainOf(*spec).c_str());
    return 2;
  }
  if (!options.report_dir.empty()) {
    if (absl::Status status = CheckReportDir(options.report_dir); !status.ok()) {
      std::fprintf(stderr, "evolv: --report-dir: %s\n", std::string(status.message()).c_str());
      return 2;
    }
  }
  if (g_interrupted) {
    std::fprintf(stderr, "evolv: interrupted before the job started; nothing was stored\n");
    return 130;
  }

  auto store = OpenStoreFor(options.data_dir, registry, options.repair);
  if (!store.ok()) {
    std::fprintf(stderr, "evolv: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  if (options.repair) {
    if ((*store)->repair_report().empty()) {
      std::fprintf(stderr, "evolv: --repair: the store was not damaged; opened as usual\n");
    }
    for (const std::string& line : (*store)->repair_report()) {
      std::fprintf(stderr, "evolv: --repair: %s\n", line.c_str());
    }
  }
  // The job is JobIdFor(spec) (the lifecycle's id scheme), so the same command finds it again.
  JobLifecycle jobs(store->get(), registry);
  if (auto restored = jobs.Restore(); !restored.ok()) {
    std::fprintf(stderr, "evolv: %s\n", restored.status().ToString().c_str());
    return 1;
  }
  const bool existed = jobs.Find(JobIdFor(*spec)) != nullptr;
  auto opened = jobs.FindOrCreate(*spec);
  if (!opened.ok()) {
    std::fprintf(stderr, "evolv: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  v1::JobRecord record = *opened;
  const std::string job_id = record.id();
  if (existed && (record.state() == v1::RUNNING || record.state() == v1::PAUSED)) {
    std::fprintf(stderr, "evolv: resuming job %s at %llu evaluations\n", job_id.c_str(),
                 static_cast<unsigned long long>(record.progress().evaluations()));
  }

  auto engine_or = JobEngine::Create(record, store->get(), registry);
  if (!engine_or.ok()) {
    std::fprintf(stderr, "evolv: job %s: %s\n", job_id.c_str(),
                 engine_or.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<JobEngine> engine = std::move(*engine_or);

  if (record.state() == v1::SUCCEEDED || record.state() == v1::CANCELLED ||
      record.state() == v1::FAILED_STATE) {
    std::fprintf(stderr, "evolv: job %s had already ended; showing its results\n", job_id.c_str());
    const bool reported = PrintSummary(record, engine->problem(), **store, options.report_dir);
    return record.state() == v1::FAILED_STATE || !reported ? 1 : 0;
  }
  if (record.state() == v1::PAUSED) {
    // Paused by evolvd on this store: running it here resumes it.
    auto resumed = jobs.Resume(job_id);
    if (!resumed.ok()) {
      std::fprintf(stderr, "evolv: %s\n", resumed.status().ToString().c_str());
      return 1;
    }
  }

  const int workers = options.workers >= 0
                          ? options.workers
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string secret;
  if (options.cluster_port >= 0) {
    auto loaded = LoadClusterSecret(options.cluster_secret_file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "evolv: %s\n", std::string(loaded.status().message()).c_str());
      return 2;
    }
    secret = *loaded;
  } else if (workers == 0) {
    std::fprintf(stderr, "evolv: --workers 0 needs --cluster-port for remote workers\n");
    return 2;
  } else if (const std::string device = engine->problem().RequiredCudaDevice(); !device.empty()) {
    std::fprintf(stderr,
                 "evolv: %s: the job's evaluations must run on CUDA device \"%s\", and local "
                 "workers have none: pass --cluster-port and start `evolv-worker --device cuda:K` "
                 "on a machine with that GPU\n",
                 options.spec_path.c_str(), device.c_str());
    return 2;
  }
  const bool tty = isatty(STDERR_FILENO);
  std::fprintf(stderr, "evolv: job %s (%s) on %d local workers, data in %s\n", job_id.c_str(),
               spec->name().c_str(), workers, options.data_dir.c_str());

  CoordinatorOptions coordinator_options;
  coordinator_options.progress_every_seconds = std::min(0.25, options.progress_every_seconds);
  coordinator_options.checkpoint_every_results = options.checkpoint_every_results;
  coordinator_options.checkpoint_every_seconds = options.checkpoint_every_seconds;
  LocalRuntime::Outcome outcome;
  {
    LocalRuntime runtime(workers, registry, options.tls, {}, options.allow_commands);
    if (options.cluster_port >= 0) {
      ClusterServerOptions cluster;
      cluster.bind = options.cluster_bind;
      cluster.port = static_cast<uint16_t>(options.cluster_port);
      cluster.secret = secret;
      cluster.tls = options.tls;
      auto port = runtime.OpenClusterPort(cluster);
      if (!port.ok()) {
        std::fprintf(stderr, "evolv: %s\n", std::string(port.status().message()).c_str());
        return 1;
      }
      std::fprintf(stderr, "evolv: remote workers may join on %s:%u\n",
                   options.cluster_bind.c_str(), *port);
      if (!options.cluster_port_file.empty()) {
        std::ofstream(options.cluster_port_file) << *port << "\n";
      }
    }
    auto last_line = std::chrono::steady_clock::now() - std::chrono::seconds(10);
    outcome = runtime.RunJob(
        engine, coordinator_options,
        [&](const v1::JobProgress& progress) {
          if (!options.progress) return;
          const auto now = std::chrono::steady_clock::now();
          if (tty) {
            std::fprintf(stderr, "\r%s\033[K", ProgressLine(progress, true).c_str());
          } else if (now - last_line >=
                     std::chrono::duration<double>(options.progress_every_seconds)) {
            std::fprintf(stderr, "%s\n", ProgressLine(progress, false).c_str());
            last_line = now;
          }
        },
        [] { return g_interrupted.load(); });
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (tty && options.progress) std::fprintf(stderr, "\n");

  if (outcome.interrupted) {
    if (!outcome.error.empty()) {
      std::fprintf(stderr,
                   "evolv: interrupted, but the checkpoint failed: %s\nThe job resumes from its "
                   "last checkpoint when the same command runs again.\n",
                   outcome.error.c_str());
      return 1;
    }
    auto checkpointed = (*store)->GetJob(job_id);
    if (!checkpointed.ok()) {
      std::fprintf(stderr, "evolv: %s\n", checkpointed.status().ToString().c_str());
      return 1;
    }
    std::fprintf(stderr,
                 "evolv: interrupted; job %s checkpointed at %llu evaluations. Run the same "
                 "command again to resume.\n",
                 job_id.c_str(),
                 static_cast<unsigned long long>(checkpointed->progress().evaluations()));
    return 130;
  }
  // SUCCEEDED was written by the final checkpoint; a failure is recorded here.
  auto final_record =
      outcome.state == v1::SUCCEEDED ? jobs.Finish(job_id) : jobs.Fail(job_id, outcome.error);
  if (!final_record.ok()) {
    std::fprintf(stderr, "evolv: %s\n", final_record.status().ToString().c_str());
    return 1;
  }
  const bool reported = PrintSummary(*final_record, engine->problem(), **store, options.report_dir);
  if (final_record->state() == v1::FAILED_STATE) {
    std::fprintf(stderr, "evolv: job failed: %s\n", outcome.error.c_str());
    return 1;
  }
  return reported ? 0 : 1;
}

}  // namespace evolv
