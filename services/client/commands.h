// The `evolv` subcommands that talk to evolvd over gRPC:
//   submit SPEC, list [--state S], status ID [--json], watch ID, cancel ID, pause ID, resume ID,
//   best ID, export ID --format c|json, cache get KEY, cache query --job ID --top N
// Common options: --server HOST:PORT (else $EVOLV_SERVER), --token-file FILE (else $EVOLV_TOKEN).
// Exit codes: 0 ok, 1 server error (unreachable, NOT_FOUND, FAILED_PRECONDITION, ...),
// 2 bad usage or input (unreadable spec, INVALID_ARGUMENT from the server).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace evolv {

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
