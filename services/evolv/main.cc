// evolv: the command-line tool.
//
//   evolv run SPEC [--data-dir DIR] [--workers N]   one job in-process on an embedded store
//
// Exit codes: 0 ok, 1 runtime or server error, 2 bad usage or input, 130 interrupted.
#include <CLI/CLI.hpp>

#include "services/evolv/run_command.h"

int main(int argc, char** argv) {
  CLI::App app{"evolv: evolutionary and bandit search with a functional-equivalence cache"};
  app.require_subcommand(1);

  evolv::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand("run", "run one job in-process on an embedded store");
  run_cmd->add_option("spec", run.spec_path, "job spec file (JSON or text-format JobSpec)")
      ->required();
  run_cmd->add_option("--data-dir", run.data_dir, "embedded store directory")
      ->capture_default_str();
  run_cmd->add_option("--workers", run.workers, "local worker threads (0: one per core)")
      ->check(CLI::Range(0, 1024));
  run_cmd->add_option("--checkpoint-results", run.checkpoint_every_results,
                      "checkpoint after this many results")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  run_cmd->add_option("--checkpoint-seconds", run.checkpoint_every_seconds,
                      "checkpoint at least this often (seconds)")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  bool no_progress = false;
  run_cmd->add_flag("--no-progress", no_progress, "print no progress lines");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  run.progress = !no_progress;
  if (*run_cmd) return evolv::RunCommand(run);
  return 2;
}
