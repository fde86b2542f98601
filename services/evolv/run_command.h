// `evolv run SPEC`: one job in-process on an embedded store.
#pragma once

#include <string>

#include "actors/cluster.h"

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
  uint64_t checkpoint_every_results = 200;
  double checkpoint_every_seconds = 5.0;
  bool progress = true;
  double progress_every_seconds = 2.0;  // interval of plain progress lines (not on a TTY)
};

// Exit codes: 0 the job finished (or had finished), 1 a runtime or storage error,
// 2 a bad spec or usage (nothing stored is touched), 130 interrupted (checkpointed; run the same
// command again to resume).
int RunCommand(const RunOptions& options);

}  // namespace evolv
