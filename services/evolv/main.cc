// evolv: the command-line tool.
//
//   evolv run SPEC [--data-dir DIR] [--workers N]   one job in-process on an embedded store
//   evolv train-denoiser SPEC [--out MODEL]         train the learned denoiser of a diffusion
//                                                  spec and write its model file
//   evolv submit|list|status|watch|cancel|pause|resume|best|export|cache ...
//                                                  a client of evolvd (services/client/commands.h)
//
// Exit codes: 0 ok, 1 runtime or server error, 2 bad usage or input, 130 interrupted.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "evaluators/diffusion/learned_denoiser.h"
#include "evaluators/registry.h"
#include "services/client/commands.h"
#include "services/evolv/run_command.h"
#include "services/spec_io.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

// `evolv train-denoiser SPEC [--out MODEL]`: trains the residual MLP that SPEC's
// diffusion.denoiser describes on samples of its mixture (evaluators/diffusion/
// learned_denoiser.h) and writes the model to MODEL, by default the spec's
// diffusion.denoiser.model. Exit codes: 0 written, 1 the file could not be written, 2 bad usage or
// spec (a field out of range is named).
int TrainDenoiserCommand(const std::string& spec_path, const std::string& out) {
  auto job = evolv::LoadJobSpec(spec_path, evolv::BuiltinProblems());
  if (!job.ok()) {
    std::fprintf(stderr, "evolv: %s\n", std::string(job.status().message()).c_str());
    return 2;
  }
  evolv::v1::DiffusionSpec spec;
  if (!job->problem().Is<evolv::v1::DiffusionSpec>() || !job->problem().UnpackTo(&spec)) {
    std::fprintf(stderr, "evolv: %s: the problem is not a diffusion spec\n", spec_path.c_str());
    return 2;
  }
  const std::string path = out.empty() ? spec.denoiser().model() : out;
  if (path.empty()) {
    std::fprintf(stderr, "evolv: %s: no model file: give --out MODEL or diffusion.denoiser.model\n",
                 spec_path.c_str());
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  int reported = 0;
  auto model = evolv::TrainDenoiser(spec, [&](const evolv::TrainingProgress& p) {
    if (p.step * 10 / p.steps > reported || p.step == p.steps) {
      reported = p.step * 10 / p.steps;
      std::fprintf(stderr, "step %d/%d: training loss %.4f\n", p.step, p.steps, p.loss);
    }
  });
  if (!model.ok()) {
    std::fprintf(stderr, "evolv: %s: %s\n", spec_path.c_str(),
                 std::string(model.status().message()).c_str());
    return 2;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (absl::Status written = evolv::WriteDenoiserModel(*model, path); !written.ok()) {
    std::fprintf(stderr, "evolv: %s\n", std::string(written.message()).c_str());
    return 1;
  }
  const auto& t = model->training();
  std::printf(
      "trained a residual MLP of %u blocks x %u (%d parameters) on the mixture (d %u) for the "
      "%s schedule: %u steps of %u samples, layer-drop %.2f, seed %llu, in %.1f s\n"
      "held-out loss %.4f -> %.4f\nwrote %s\n",
      model->blocks(), model->width(), model->parameters_size(), model->dimension(),
      model->schedule() == evolv::v1::DiffusionSpec::LINEAR ? "linear" : "cosine",
      t.training_steps(), t.batch(), t.layer_drop(), static_cast<unsigned long long>(t.seed()),
      seconds, model->initial_loss(), model->final_loss(), path.c_str());
  return 0;
}

}  // namespace

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
  bool no_progress = false;
  run_cmd->add_flag("--no-progress", no_progress, "print no progress lines");

  std::string train_spec, train_out;
  CLI::App* train_cmd = app.add_subcommand(
      "train-denoiser", "train the learned denoiser of a diffusion spec and write its model file");
  train_cmd->add_option("spec", train_spec, "job spec file with a diffusion problem")->required();
  train_cmd->add_option("--out", train_out,
                        "model file to write (default: the spec's diffusion.denoiser.model)");

  evolv::ClientCommands client_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  run.progress = !no_progress;
  if (*run_cmd) return evolv::RunCommand(run);
  if (*train_cmd) return TrainDenoiserCommand(train_spec, train_out);
  if (auto code = client_commands.Run()) return *code;
  return 2;
}
