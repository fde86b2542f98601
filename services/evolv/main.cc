// evolv: the command-line tool.
//
//   evolv run SPEC [--data-dir DIR] [--workers N] [--report-dir DIR] [--repair]
//                                                  one job in-process on an embedded store
//   evolv store verify [--data-dir DIR]            check a store: log, SST checksums, rows
//   evolv TOOL SPEC [options]                       a domain's own tool (the registry's
//                                                  DomainCommands, e.g. training a model)
//   evolv submit|list|status|watch|cancel|pause|resume|best|export|report|cache ...
//                                                  a client of evolvd (services/client/commands.h)
//
// Exit codes: 0 ok, 1 runtime or server error, 2 bad usage or input, 130 interrupted.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "evaluators/registry.h"
#include "services/client/commands.h"
#include "services/evolv/run_command.h"
#include "services/evolv/store_command.h"
#include "services/spec_io.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  // Logs go to stderr; stdout carries results (reports, JSON, C code).
  spdlog::set_default_logger(spdlog::stderr_color_mt("evolv"));
  CLI::App app{"evolv: evolutionary and bandit search with a functional-equivalence cache"};
  app.require_subcommand(1);

  evolv::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand("run", "run one job in-process on an embedded store");
  run_cmd->add_option("spec", run.spec_path, "job spec file (JSON or text-format JobSpec)")
      ->required();
  run_cmd->add_option("--data-dir", run.data_dir, "embedded store directory")
      ->capture_default_str();
  run_cmd
      ->add_option("--workers", run.workers,
                   "local worker threads (default: one per core; 0: remote workers only)")
      ->check(CLI::Range(0, 1024));
  run_cmd
      ->add_option("--cluster-port", run.cluster_port,
                   "let evolv-worker processes join on this port (0: any free port)")
      ->check(CLI::Range(0, 65535));
  run_cmd->add_option("--cluster-bind", run.cluster_bind, "address of the cluster port")
      ->capture_default_str();
  run_cmd->add_flag("--allow-commands", run.allow_commands,
                    "local workers run the commands study specs name (docs/security.md)");
  run_cmd->add_option("--cluster-secret-file", run.cluster_secret_file,
                      "file holding the cluster secret (default: $EVOLV_CLUSTER_SECRET)");
  run_cmd->add_option("--cluster-port-file", run.cluster_port_file,
                      "write the bound cluster port to this file");
  run_cmd->add_option("--tls-cert", run.tls.certificate,
                      "PEM certificate: TLS on the cluster link");
  run_cmd->add_option("--tls-key", run.tls.key, "PEM private key for --tls-cert");
  run_cmd->add_option("--tls-ca", run.tls.ca_file, "CA bundle to verify workers' certificates");
  run_cmd
      ->add_option("--checkpoint-results", run.checkpoint_every_results,
                   "checkpoint after this many results")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  run_cmd
      ->add_option("--checkpoint-seconds", run.checkpoint_every_seconds,
                   "checkpoint at least this often (seconds)")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  run_cmd
      ->add_option("--progress-every", run.progress_every_seconds,
                   "seconds between progress lines when stderr is not a terminal")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  run_cmd
      ->add_option("--report-dir", run.report_dir,
                   "also write the report to DIR/report.txt and its figures as PNG files in DIR")
      ->check(evolv::ReportDirValidator());
  bool no_progress = false;
  run_cmd->add_flag("--no-progress", no_progress, "print no progress lines");
  run_cmd->add_flag("--repair", run.repair,
                    "open a store whose write-ahead log is damaged by replaying it up to the "
                    "damage (copies of the log files are kept; docs/adr/0019-store-integrity.md)");

  // Store maintenance, on the store directory itself (no server needed; safe while one runs).
  std::string store_dir = "evolv-data";
  CLI::App* store_cmd = app.add_subcommand("store", "check a store directory");
  store_cmd->require_subcommand(1);
  CLI::App* store_verify = store_cmd->add_subcommand(
      "verify",
      "check the write-ahead log, every SST file's checksums and every row; exit 0 intact, 1 "
      "damaged (what, and the way out), 2 no store");
  store_verify->add_option("--data-dir", store_dir, "store directory")->capture_default_str();

  // The domains' own tools (e.g. training a model a domain's evaluations use), from the registry.
  struct DomainTool {
    evolv::DomainCommand command;
    CLI::App* app = nullptr;
    std::string spec;
  };
  std::vector<DomainTool> tools;
  for (const evolv::DomainCommand& command : evolv::BuiltinProblems().Commands()) {
    tools.push_back({command, nullptr, ""});
  }
  for (DomainTool& tool : tools) {
    tool.app = app.add_subcommand(tool.command.name, tool.command.help);
    tool.app->add_option("spec", tool.spec, "job spec file")->required();
    tool.app->allow_extras();
    tool.app->footer("options: " + tool.command.options_help);
  }

  evolv::ClientCommands client_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  run.progress = !no_progress;
  if (*run_cmd) return evolv::RunCommand(run);
  if (*store_verify) return evolv::StoreVerifyCommand(store_dir);
  for (DomainTool& tool : tools) {
    if (!*tool.app) continue;
    auto spec = evolv::LoadJobSpec(tool.spec, evolv::BuiltinProblems());
    if (!spec.ok()) {
      std::fprintf(stderr, "evolv: %s\n", std::string(spec.status().message()).c_str());
      return 2;
    }
    return tool.command.run(*spec, tool.app->remaining());
  }
  if (auto code = client_commands.Run()) return *code;
  return 2;
}
