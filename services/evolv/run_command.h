// `evolv run SPEC`: one job in-process on an embedded store.
#pragma once

#include <string>

#include "actors/cluster.h"
#include "actors/coordinator.h"

namespace evolv {

struct RunOptions {
  std::string spec_path;
  std::string data_dir = "evolv-data";
  int workers = -1;  // local worker threads; -1: one per core; 0: none (remote workers only)
  // Remote workers (evolv-worker) may join on this port when >= 0 (0: any free port).
  int cluster_port = -1;
  std::string cluster_bind = "127.0.0.1";
  std::string cluster_secret_file;  // empty: EVOLV_CLUSTER_SECRET
  std::string cluster_port_file;    // where to write the bound cluster port
  TlsOptions tls;
  // The coordinator's defaults (actors/coordinator.h), said once there.
  uint64_t checkpoint_every_results = CoordinatorOptions{}.checkpoint_every_results;
  double checkpoint_every_seconds = CoordinatorOptions{}.checkpoint_every_seconds;
  bool progress = true;
  double progress_every_seconds = 2.0;  // interval of plain progress lines (not on a TTY)
  // Not empty: the closing report is also written there (services/job_report.h), figures too.
  std::string report_dir;
  // Open a store whose write-ahead log is damaged anyway (StoreOptions::repair).
  bool repair = false;
  // Local workers run the commands study specs name (docs/security.md).
  bool allow_commands = false;
};

// Exit codes: 0 the job finished (or had finished), 1 a runtime or storage error (or the report
// could not be written to report_dir), 2 a bad spec or usage (nothing stored is touched), 130
// interrupted (checkpointed; run the same command again to resume).
// Interrupts: SIGINT and SIGTERM are caught from the start of the command, also when the process
// inherited them ignored (a shell starts a script's background jobs with SIGINT ignored). One
// that comes while the spec is read and its problem built stops the command before it touches the
// store; one that comes later stops the job at its next result and checkpoints it.
int RunCommand(const RunOptions& options);

}  // namespace evolv
