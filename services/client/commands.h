// The `evolv` subcommands that talk to evolvd over gRPC:
//   submit SPEC, list [--state S], status ID [--json], watch ID, cancel ID, pause ID, resume ID,
//   best ID, export ID --format c|json, report ID [--out DIR], cache get KEY,
//   cache query --job ID --top N
// Common options: --server HOST[:PORT] (else $EVOLV_SERVER, else 127.0.0.1; port 50051 when
// none is given), --token-file FILE (else $EVOLV_TOKEN).
// Exit codes: 0 ok, 1 server error (unreachable: a message saying how to start evolvd or where to
// point the client; NOT_FOUND, FAILED_PRECONDITION, ...), 2 bad usage or input (unreadable spec,
// unknown --state, INVALID_ARGUMENT from the server). A failed command prints nothing on stdout.
// Output shows states as people read them (FAILED, not FAILED_STATE) and objectives with the
// labels and units of the server's ObjectiveDisplays (services/progress_line.h).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace evolv {

// CLI11's check of a report directory option (`report --out`, `run --report-dir`): refuses what
// CheckReportDir (services/job_report.h) refuses, so parsing exits 2 with its message.
CLI::Validator ReportDirValidator();

class ClientCommands {
 public:
  // Adds the subcommands to `app`.
  explicit ClientCommands(CLI::App& app);
  ~ClientCommands();
  // After app.parse: the exit code of the selected client subcommand, or nullopt when none of
  // them was selected.
  std::optional<int> Run();

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace evolv
