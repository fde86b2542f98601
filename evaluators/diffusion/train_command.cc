#include "evaluators/diffusion/train_command.h"

#include <chrono>
#include <cstdio>

#include "evaluators/diffusion/eigen_blocking.h"
#include "evaluators/diffusion/learned_denoiser.h"

namespace evolv {
namespace {

// `evolv train-denoiser SPEC [--out MODEL]`: trains the residual MLP that SPEC's
// diffusion.denoiser describes on samples of its mixture (learned_denoiser.h) and writes the
// model to MODEL, by default the spec's diffusion.denoiser.model. Exit codes: 0 written, 1 the
// file could not be written, 2 bad usage or spec (a field out of range is named).
int TrainDenoiserMain(const v1::JobSpec& job_spec, const std::vector<std::string>& options) {
  PinEigenBlocking();  // the same model on every machine
  std::string out;
  for (size_t i = 0; i < options.size(); ++i) {
    if (options[i] == "--out" && i + 1 < options.size()) {
      out = options[++i];
    } else {
      std::fprintf(stderr,
                   "evolv train-denoiser: unknown option '%s' (usage: evolv train-denoiser SPEC "
                   "[--out MODEL])\n",
                   options[i].c_str());
      return 2;
    }
  }
  const std::string spec_path = "train-denoiser";
  const v1::JobSpec* job = &job_spec;
  v1::DiffusionSpec spec;
  if (!job->problem().Is<v1::DiffusionSpec>() || !job->problem().UnpackTo(&spec)) {
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
  auto model = TrainDenoiser(spec, [&](const TrainingProgress& p) {
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
  if (absl::Status written = WriteDenoiserModel(*model, path); !written.ok()) {
    std::fprintf(stderr, "evolv: %s\n", std::string(written.message()).c_str());
    return 1;
  }
  const auto& t = model->training();
  std::printf(
      "trained a residual MLP of %u blocks x %u (%d parameters) on the %s (d %u) for the "
      "%s schedule: %u steps of %u samples, layer-drop %.2f, seed %llu, in %.1f s\n"
      "held-out loss %.4f -> %.4f\nwrote %s\n",
      model->blocks(), model->width(), model->parameters_size(),
      model->has_images() ? "images" : "mixture", model->dimension(),
      model->schedule() == v1::DiffusionSpec::LINEAR ? "linear" : "cosine", t.training_steps(),
      t.batch(), t.layer_drop(), static_cast<unsigned long long>(t.seed()), seconds,
      model->initial_loss(), model->final_loss(), path.c_str());
  return 0;
}

}  // namespace

std::vector<DomainCommand> DiffusionCommands() {
  return {{"train-denoiser",
           "train the learned denoiser of a diffusion spec and write its model file",
           "[--out MODEL] (default: the spec's diffusion.denoiser.model)", TrainDenoiserMain}};
}

}  // namespace evolv
