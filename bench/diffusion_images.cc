// Issue 9's Fashion-MNIST case: a residual MLP (8 blocks of width 128, layer-drop 0.1) trained by
// evolv on Debian's Fashion-MNIST projected on 32 principal components, then for K = 4 and both
// samplers the FD on 64 random image features of the uniform ("ddim4"), trailing and quadratic
// schedules, of the 100-step reference, and of the best schedule of `seeds` searches (top-k
// evolution, paper defaults, `evaluations` results each; median with min..max). The DDIM
// search of the first seed also draws its figures (training images, uniform and searched
// samples from the same noises) into `figures_dir`.
//
// Target (issue 9): the searched K = 4 schedule beats uniform DDIM on the feature FD.
//
//   build/bench/diffusion_images [evaluations=300] [seeds=3] [training_steps=3000]
//                                [figures_dir=diffusion-images-figures]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "bench/diffusion_bench_search.h"
#include "evaluators/diffusion/learned_denoiser.h"
#include "tests/support/temp_dir.h"

using namespace evolv;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

v1::DiffusionSpec ImagesSpec(const std::string& model, int training_steps,
                             v1::DiffusionSpec::Sampler sampler) {
  v1::DiffusionSpec spec;
  spec.mutable_images()->set_dimension(32);
  spec.mutable_images()->set_features(64);
  spec.set_schedule(v1::DiffusionSpec::COSINE);
  spec.set_sampler(sampler);
  spec.set_steps(4);
  spec.set_samples(2000);
  v1::LearnedDenoiserSpec* d = spec.mutable_denoiser();
  d->set_model(model);
  d->set_blocks(8);
  d->set_width(128);
  d->set_training_steps(training_steps);
  d->set_seed(1);
  return spec;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t evaluations = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 300;
  const int seeds = argc > 2 ? std::atoi(argv[2]) : 3;
  const int training_steps = argc > 3 ? std::atoi(argv[3]) : 3000;
  const std::string figures_dir = argc > 4 ? argv[4] : "diffusion-images-figures";
  const auto start = std::chrono::steady_clock::now();
  TempDir dir;
  const std::string model_path = dir.Sub("fashion.model");

  const v1::DiffusionSpec ddim = ImagesSpec(model_path, training_steps, v1::DiffusionSpec::DDIM);
  auto trained = TrainDenoiser(ddim);
  if (!trained.ok()) {
    std::fprintf(stderr, "%s\n", trained.status().ToString().c_str());
    return 1;
  }
  if (absl::Status written = WriteDenoiserModel(*trained, model_path); !written.ok()) {
    std::fprintf(stderr, "%s\n", written.ToString().c_str());
    return 1;
  }
  std::printf(
      "Fashion-MNIST (%s), 32 principal components; residual MLP 8 x 128, layer-drop 0.1, %d "
      "steps: held-out loss %.4f -> %.4f, trained in %.0f s\n",
      kDefaultImageDirectory, training_steps, trained->initial_loss(), trained->final_loss(),
      Seconds(start));
  std::printf("K 4, N 2000, cosine; top-k evolution (50/10/25/15), %llu evaluations, %d seeds\n\n",
              static_cast<unsigned long long>(evaluations), seeds);
  std::fflush(stdout);

  const std::vector<v1::DiffusionSpec::Sampler> samplers = {v1::DiffusionSpec::DDIM,
                                                            v1::DiffusionSpec::DPM_SOLVER_PP_2M};
  std::vector<std::vector<double>> searched(samplers.size());
  std::vector<v1::HistoryEntry> first_ddim(1);
  std::mutex mutex;
  std::vector<std::function<void()>> tasks;
  for (size_t s = 0; s < samplers.size(); ++s) {
    for (int seed = 1; seed <= seeds; ++seed) {
      tasks.push_back([&, s, seed] {
        const v1::HistoryEntry best =
            RunTopKSearch(ImagesSpec(model_path, training_steps, samplers[s]),
                          v1::TopKEvolutionConfig(), evaluations, seed);
        std::lock_guard<std::mutex> lock(mutex);
        searched[s].push_back(best.evaluation().objectives(0));
        if (s == 0 && seed == 1) first_ddim[0] = best;
      });
    }
  }
  RunAll(tasks);

  std::printf("%-18s %9s %9s %9s %9s %10s %26s %9s\n", "sampler", "floor", "uniform", "trailing",
              "quadratic", "100 steps", "searched (min..max)", "/uniform");
  for (size_t s = 0; s < samplers.size(); ++s) {
    const auto problem = Create(ImagesSpec(model_path, training_steps, samplers[s]));
    const SamplerKind kind = problem->sampler();
    const double uniform = problem->Score(UniformSteps(4), kind).fd;
    const Spread best = Of(searched[s]);
    std::printf("%-18s %9.4f %9.4f %9.4f %9.4f %10.4f %26s %8.3fx\n",
                kind == SamplerKind::kDdim ? "DDIM" : "DPM-Solver++(2M)", problem->noise_floor(),
                uniform, problem->Score(TrailingSteps(4), kind).fd,
                problem->Score(QuadraticSteps(4), kind).fd,
                problem->Score(UniformSteps(kReferenceSteps), kind).fd, Show(best).c_str(),
                best.median / uniform);
    if (s == 0) {
      std::filesystem::create_directories(figures_dir);
      for (const Figure& figure : problem->Figures(first_ddim)) {
        std::ofstream(figures_dir + "/" + figure.name, std::ios::binary) << figure.png;
        std::printf("  %s/%s: %s\n", figures_dir.c_str(), figure.name.c_str(),
                    figure.caption.c_str());
      }
    }
    std::fflush(stdout);
  }
  std::printf("\n%.0f s in all\n", Seconds(start));
  return 0;
}
