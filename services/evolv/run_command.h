// `evolv run SPEC`: one job in-process on an embedded store.
#pragma once

#include <string>

namespace evolv {

struct RunOptions {
  std::string spec_path;
  std::string data_dir = "evolv-data";
  int workers = 0;  // 0: one per core
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
